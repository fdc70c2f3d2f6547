"""Depth kernels (lifting, deprojection, floor RANSAC, back profile): parity with the
numpy references on random and hostile input, and accuracy on synthetic scenes built here."""

import math

import numpy as np
import pytest

from hinge_coach_ros import kernels, kernels_ref

INTR = (600.0, 600.0, 320.0, 240.0)  # fx, fy, cx, cy of a 640x480 depth image
H, W = 480, 640
IMPLS = [kernels, kernels_ref]


def _rays(intr=INTR, shape=(H, W)) -> tuple[np.ndarray, np.ndarray]:
    v, u = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    return (u - intr[2]) / intr[0], (v - intr[3]) / intr[1]


def _plane_depth(normal, offset_m, intr=INTR, shape=(H, W)) -> np.ndarray:
    """Depth z of the plane n . p + d = 0 at each pixel (0 where the ray misses it)."""
    rx, ry = _rays(intr, shape)
    denom = normal[0] * rx + normal[1] * ry + normal[2]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = -offset_m / denom
    return np.where(np.isfinite(z) & (z > 0), z, 0.0)


def _random_depth(rng: np.random.Generator, shape=(H, W)) -> tuple[np.ndarray, float | None]:
    """A smooth random surface with holes (0) and, for float images, NaN and inf."""
    v, u = np.mgrid[0 : shape[0], 0 : shape[1]].astype(float)
    z = 2.0 + 0.5 * np.sin(u / rng.uniform(20, 80)) + 0.3 * np.cos(v / rng.uniform(20, 80))
    z += rng.normal(0, 0.01, shape)
    z[rng.random(shape) < rng.uniform(0, 0.4)] = 0.0
    kind = rng.integers(3)
    if kind == 0:
        scale = float(rng.choice([0.001, 0.00025]))
        return np.clip(np.round(z / scale), 0, 65535).astype(np.uint16), scale
    z = z.astype(np.float32 if kind == 1 else np.float64)
    z[rng.random(shape) < 0.02] = np.nan
    z[rng.random(shape) < 0.005] = np.inf
    return z, (None if rng.random() < 0.5 else 1.0)


def _random_distortion(rng: np.random.Generator):
    if rng.random() < 0.5:
        return None
    return tuple(rng.normal(0, [0.08, 0.05, 0.002, 0.002, 0.01]))


# ---------------------------------------------------------------------------
# lift_landmarks


@pytest.mark.parametrize("seed", range(30))
def test_lift_landmarks_matches_reference_on_random_input(seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 120)), int(rng.integers(1, 160)))
    depth, scale = _random_depth(rng, shape)
    n = int(rng.integers(0, 40))
    uv = rng.uniform(-8, max(shape) + 8, (n, 2))
    uv[rng.random((n, 2)) < 0.1] = np.nan
    kwargs = dict(
        depth_scale=scale,
        window_radius_px=int(rng.integers(0, 5)),
        min_depth_m=float(rng.uniform(0, 1.8)),
        max_depth_m=float(rng.uniform(2.2, 5)),
        distortion=_random_distortion(rng),
        mask=(rng.random(shape) < 0.7).astype(np.uint8) if seed % 2 else None,
    )
    intr = (rng.uniform(100, 800), rng.uniform(100, 800), shape[1] / 2, shape[0] / 2)
    got_pts, got_count = kernels.lift_landmarks(depth, uv, intr, **kwargs)
    ref_pts, ref_count = kernels_ref.lift_landmarks(depth, uv, intr, **kwargs)
    assert got_pts.shape == (n, 3) and got_count.dtype == np.int32
    np.testing.assert_array_equal(got_count, ref_count)
    np.testing.assert_allclose(got_pts, ref_pts, rtol=1e-12, atol=0, equal_nan=True)
    assert (np.isnan(got_pts).all(axis=1) == (got_count == 0)).all()


@pytest.mark.parametrize("impl", IMPLS)
def test_lift_landmarks_on_a_tilted_plane_with_holes(impl):
    rng = np.random.default_rng(1)
    normal = np.array([0.3, -0.2, -1.0]) / np.linalg.norm([0.3, -0.2, -1.0])
    z = _plane_depth(normal, 2.5)
    depth = np.round(z * 1000).astype(np.uint16)
    depth[rng.random(depth.shape) < 0.3] = 0  # 30% holes
    uv = np.array([[320.0, 240.0], [100.2, 50.7], [600.0, 400.0], [0.0, 0.0]])
    pts, count = impl.lift_landmarks(depth, uv, INTR, depth_scale=0.001, window_radius_px=3)
    assert (count[:3] > 20).all() and (count[:3] <= 49).all()
    assert 5 < count[3] <= 16  # the corner's window is clipped to 4 x 4 pixels
    # Each lifted landmark lies on the plane (5 mm: window of a tilted plane, 1 mm units).
    np.testing.assert_allclose(pts @ normal + 2.5, 0.0, atol=0.005)
    # ... and on its own pixel's ray.
    np.testing.assert_allclose(pts[:, 0] / pts[:, 2] * 600 + 320, uv[:, 0], atol=1e-9)
    np.testing.assert_allclose(pts[:, 1] / pts[:, 2] * 600 + 240, uv[:, 1], atol=1e-9)


@pytest.mark.parametrize("impl", IMPLS)
def test_lift_landmarks_median_ignores_holes_and_out_of_range(impl):
    depth = np.zeros((20, 20), np.float32)
    depth[8:13, 8:13] = [[1.0, 1.1, 1.2, 1.3, 50.0]] * 5  # a too-far column, and holes around
    depth[9, 9] = np.nan
    uv = np.array([[10.0, 10.0], [2.0, 2.0], [np.nan, 3.0], [1e12, 5.0], [-3.6, 10.0]])
    pts, count = impl.lift_landmarks(depth, uv, (100.0, 100.0, 10.0, 10.0), window_radius_px=2)
    assert count.tolist() == [19, 0, 0, 0, 0]
    assert pts[0, 2] == pytest.approx(1.2)  # 19 values: 1.0 x5, 1.1 x4 (a NaN), 1.2 x5, 1.3 x5
    assert np.isnan(pts[1:]).all()
    pts, count = impl.lift_landmarks(depth, np.array([[9.4, 10.0]]), (100.0, 100.0, 10.0, 10.0), None, 0)
    assert count[0] == 1 and pts[0, 2] == pytest.approx(1.1)


@pytest.mark.parametrize("impl", IMPLS)
def test_lift_landmarks_mask_keeps_the_floor_out_of_a_limbs_window(impl):
    # A shoe at 2.0 m on a floor at 2.6 m: the window at the toe straddles both.
    depth = np.full((20, 20), 2.6, np.float32)
    depth[:, :10] = 2.0
    person = np.zeros((20, 20), np.uint8)
    person[:, :10] = 1
    uv = np.array([[10.0, 10.0]])
    pts, count = impl.lift_landmarks(depth, uv, (100.0, 100.0, 10.0, 10.0), window_radius_px=2)
    assert count[0] == 25 and pts[0, 2] == pytest.approx(2.6)  # 15 floor pixels of 25 win the median
    pts, count = impl.lift_landmarks(depth, uv, (100.0, 100.0, 10.0, 10.0), window_radius_px=2, mask=person)
    assert count[0] == 10 and pts[0, 2] == pytest.approx(2.0)
    with pytest.raises(ValueError, match="mask"):
        impl.lift_landmarks(depth, uv, (100.0, 100.0, 10.0, 10.0), mask=person[:5])


@pytest.mark.parametrize("impl", IMPLS)
def test_lift_landmarks_empty_input(impl):
    pts, count = impl.lift_landmarks(np.zeros((4, 4), np.uint16), np.zeros((0, 2)), INTR)
    assert pts.shape == (0, 3) and count.shape == (0,)


# ---------------------------------------------------------------------------
# deproject_depth


@pytest.mark.parametrize("seed", range(20))
def test_deproject_depth_matches_reference_exactly(seed):
    rng = np.random.default_rng(100 + seed)
    shape = (int(rng.integers(1, 90)), int(rng.integers(1, 120)))
    depth, scale = _random_depth(rng, shape)
    mask = (rng.random(shape) < 0.7).astype(np.uint8) if seed % 2 else None
    intr = (rng.uniform(100, 800), rng.uniform(100, 800), rng.uniform(0, shape[1]), rng.uniform(0, shape[0]))
    kwargs = dict(
        depth_scale=scale,
        stride=int(rng.integers(1, 6)),
        min_depth_m=float(rng.uniform(0, 1.8)),
        max_depth_m=float(rng.uniform(2.2, 5)),
        distortion=_random_distortion(rng),
        mask=mask,
    )
    got = kernels.deproject_depth(depth, intr, **kwargs)
    ref = kernels_ref.deproject_depth(depth, intr, **kwargs)
    stride = kwargs["stride"]
    assert got.dtype == np.float32
    assert got.shape == (-(-shape[0] // stride), -(-shape[1] // stride), 3)
    np.testing.assert_array_equal(got, ref)  # NaN in the same places, same float32 values


@pytest.mark.parametrize("impl", IMPLS)
def test_deproject_depth_puts_points_on_the_plane(impl):
    normal = np.array([0.0, -0.8, -0.6])  # a floor seen from above and in front
    depth = _plane_depth(normal, 1.2).astype(np.float32)
    depth[:100] = 0  # the horizon: the camera sees no floor up there
    cloud = impl.deproject_depth(depth, INTR, stride=2, max_depth_m=8.0)
    pts = cloud.reshape(-1, 3).astype(float)
    ok = np.isfinite(pts).all(axis=1)
    assert ok.sum() > 20000 and np.isnan(cloud[:50]).all()
    np.testing.assert_allclose(pts[ok] @ normal + 1.2, 0.0, atol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_deprojection_inverts_brown_conrady_distortion(impl):
    dist = (0.12, -0.25, 0.001, -0.0015, 0.1)  # k1, k2, p1, p2, k3
    uv = np.array([[320.0, 240.0], [20.0, 30.0], [600.0, 450.0], [100.0, 400.0]])
    depth = np.full((H, W), 3000, np.uint16)
    pts, _ = impl.lift_landmarks(depth, uv, INTR, window_radius_px=0, distortion=dist)
    x, y = pts[:, 0] / pts[:, 2], pts[:, 1] / pts[:, 2]
    k1, k2, p1, p2, k3 = dist  # the forward model maps the ray back onto the pixel
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    np.testing.assert_allclose(xd * 600 + 320, uv[:, 0], atol=0.05)
    np.testing.assert_allclose(yd * 600 + 240, uv[:, 1], atol=0.05)
    np.testing.assert_allclose(pts[:, 2], 3.0)


# ---------------------------------------------------------------------------
# fit_plane_ransac


def _plane_cloud(rng: np.random.Generator, n: int, outlier_fraction: float):
    normal = rng.normal(size=3)
    normal /= np.linalg.norm(normal)
    basis = np.linalg.svd(normal[None, :])[2][1:]
    offset = rng.uniform(-2, 2)
    pts = rng.uniform(-1.5, 1.5, (n, 2)) @ basis - offset * normal + rng.normal(0, 0.003, (n, 1)) * normal
    out = rng.random(n) < outlier_fraction
    pts[out] = rng.uniform(-2, 2, (out.sum(), 3))
    return pts, normal, offset


@pytest.mark.parametrize("seed", range(30))
def test_fit_plane_ransac_matches_reference_on_random_input(seed):
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(0, 600))
    pts, normal, _ = _plane_cloud(rng, n, rng.uniform(0, 0.7))
    pts[rng.random(n) < 0.05, int(rng.integers(3))] = np.nan
    pts[rng.random(n) < 0.01] = np.inf
    if seed % 5 == 0:  # repeated points: degenerate triples
        pts[: n // 2] = pts[0]
    if seed % 3 == 1:
        pts = pts.astype(np.float32)
    up = None if seed % 2 else normal + rng.normal(0, 0.3, 3)
    kwargs = dict(
        iterations=int(rng.integers(1, 150)),
        inlier_threshold_m=float(rng.uniform(0.002, 0.05)),
        seed=int(rng.integers(0, 2**63)) * 2 + 1,  # odd and large: the full 64-bit range
        up_hint=up,
        max_tilt_deg=float(rng.uniform(5, 90)) if up is not None and seed % 4 == 0 else None,
        min_inliers=int(rng.integers(3, 30)),
    )
    got = kernels.fit_plane_ransac(pts, **kwargs)
    ref = kernels_ref.fit_plane_ransac(pts, **kwargs)
    assert got[3] == ref[3] and got[2] == ref[2]
    np.testing.assert_array_equal(got[4], ref[4])
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-9, atol=1e-12, equal_nan=True)
    if got[3]:
        assert got[2] == got[4].sum() >= kwargs["min_inliers"]
        assert abs(np.linalg.norm(got[0]) - 1) < 1e-12
        assert not got[4][~np.isfinite(pts).all(axis=1)].any()


def test_splitmix64_reference_matches_the_published_sequence():
    # splitmix64 seeded with 1234567: the first outputs of Vigna's reference code.
    got = kernels_ref.splitmix64_indices(1234567, 3, 2**63) | 0
    expected = [6457827717110365317, 3203168211198807973, 9817491932198370423]
    assert got.tolist() == [e % 2**63 for e in expected]


@pytest.mark.parametrize("impl", IMPLS)
def test_fit_plane_ransac_recovers_plane_despite_clutter(impl):
    rng = np.random.default_rng(5)
    pts, normal, offset = _plane_cloud(rng, 3000, 0.45)
    n, d, count, ok, inliers = impl.fit_plane_ransac(pts, iterations=200, inlier_threshold_m=0.01, seed=3)
    assert ok
    sign = 1.0 if d * offset >= 0 else -1.0
    assert math.degrees(math.acos(min(1.0, abs(n @ normal)))) < 0.3
    assert d >= 0  # no up hint: the normal points toward the camera
    assert abs(d - sign * offset) < 0.002
    assert 1500 < count == inliers.sum() < 1800  # the 55% on the plane, and a few outliers


@pytest.mark.parametrize("impl", IMPLS)
def test_floor_fit_from_a_rendered_depth_image_prefers_floor_over_a_bigger_wall(impl):
    """Camera 1.3 m above the floor, pitched down 25 deg; a wall 2.4 m ahead fills the top
    half, a box stands on the floor. With up_hint and max_tilt_deg the floor wins."""
    pitch = math.radians(25)
    # Camera optical frame: x right, y down, z forward. World up in camera coordinates:
    up = np.array([0.0, -math.cos(pitch), -math.sin(pitch)])
    forward = np.array([0.0, math.sin(pitch), math.cos(pitch)])  # horizontal, away from the camera
    floor = _plane_depth(up, 1.3)  # up . p + 1.3 = 0: 1.3 m below the camera
    wall = _plane_depth(-forward, 2.4)  # -forward . p + 2.4 = 0: 2.4 m ahead
    box = _plane_depth(-forward, 1.8)  # the front face of a box 1.8 m ahead
    rx, ry = _rays()
    height = lambda z: (rx * 0 + ry * z + 0) * up[1] + z * up[2] + 1.3  # noqa: E731
    z = np.where((wall > 0) & ((floor == 0) | (wall < floor)), wall, floor)
    in_box = (box > 0) & (box < z) & (height(box) < 0.4) & (np.abs(rx * box) < 0.3)
    z = np.where(in_box, box, z)
    rng = np.random.default_rng(2)
    depth = np.round((z + rng.normal(0, 0.003, z.shape)) * 1000).astype(np.uint16)
    depth[(rng.random(z.shape) < 0.1) | (z == 0)] = 0
    cloud = impl.deproject_depth(depth, INTR, stride=4).reshape(-1, 3)
    on_wall = np.abs(cloud @ forward - 2.4) < 0.02
    on_floor = np.abs(cloud @ up + 1.3) < 0.02
    assert on_wall.sum() > on_floor.sum() > 3000  # the wall is the bigger plane
    n, d, *_ = impl.fit_plane_ransac(cloud, iterations=100, inlier_threshold_m=0.02, seed=1)
    assert abs(n @ forward) > 0.99  # unconstrained RANSAC takes the wall
    n, d, count, ok, inliers = impl.fit_plane_ransac(
        cloud, iterations=100, inlier_threshold_m=0.02, seed=1, up_hint=(0, -1, 0), max_tilt_deg=45
    )
    assert ok
    assert math.degrees(math.acos(min(1.0, n @ up))) < 0.5  # points up (along the hint)
    assert abs(d - 1.3) < 0.005  # the camera's height above the floor
    assert abs(count - on_floor.sum()) < 0.05 * on_floor.sum()


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(
    "points",
    [
        np.zeros((0, 3)),
        np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 4.0]]),
        np.full((5, 3), np.nan),
        np.ones((50, 3)),  # all points equal: no triple spans a plane
        np.outer(np.linspace(0, 1, 50), [1.0, 2.0, 3.0]),  # collinear
    ],
)
def test_fit_plane_ransac_degenerate_input_gives_no_plane(impl, points):
    n, d, count, ok, inliers = impl.fit_plane_ransac(points, iterations=30)
    assert not ok and count == 0 and math.isnan(d) and np.isnan(n).all()
    assert inliers.shape == (len(points),) and not inliers.any()


@pytest.mark.parametrize("impl", IMPLS)
def test_fit_plane_ransac_is_deterministic_per_seed(impl):
    rng = np.random.default_rng(9)
    pts, *_ = _plane_cloud(rng, 400, 0.6)
    runs = [impl.fit_plane_ransac(pts, iterations=5, seed=s) for s in (7, 7, 8)]
    assert runs[0][2] == runs[1][2] and np.array_equal(runs[0][4], runs[1][4])
    assert not np.array_equal(runs[0][4], runs[2][4])  # another seed draws other triples


# ---------------------------------------------------------------------------
# back_profile


def _scene_coords(hip_uv, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel's (s, t): along the trunk axis from the hip (a) and toward the back (b)."""
    v, u = np.mgrid[0:H, 0:W].astype(float)
    du, dv = u - hip_uv[0], v - hip_uv[1]
    return du * a[0] + dv * a[1], du * b[0] + dv * b[1]


def _back_scene(
    hip_uv,
    trunk_deg: float,
    facing_x: float,
    trunk_px: float = 160.0,
    edge_depth_m: float = 2.5,
    background_m: float = 4.0,
):
    """Depth (float64, metres) and person mask of a side-on trunk with a known dorsal edge.

    The trunk axis leaves the hip at trunk_deg from image-up toward the facing side. Pixels
    at axis coordinate s (from the hip) and back coordinate t (toward the back) are person
    when -50 <= t <= back_px(s): a thoracic curve and a lordotic dip. The back surface bulges
    toward the camera, the dorsal rim sits at edge_depth_m.
    """
    a = np.array([facing_x * math.sin(math.radians(trunk_deg)), -math.cos(math.radians(trunk_deg))])
    b = facing_x * np.array([a[1], -a[0]])
    s, t = _scene_coords(hip_uv, a, b)

    def back_px(s_px):
        f = s_px / trunk_px
        return 42.0 + 8.0 * np.sin(np.pi * np.clip(f, 0, 1.2)) - 5.0 * np.exp(-(((f - 0.25) / 0.12) ** 2))

    back = back_px(s)
    person = (s >= -40) & (s <= trunk_px + 70) & (t >= -50) & (t <= back)
    bulge = np.where(t >= 0, t / back, t / 50.0)
    z = edge_depth_m - 0.12 * np.sqrt(np.clip(1 - bulge**2, 0, 1))
    depth = np.where(person, z, background_m)
    axis = np.array([hip_uv, np.asarray(hip_uv) + trunk_px * a, np.asarray(hip_uv) + (trunk_px + 45) * a])
    return depth, person.astype(np.uint8), axis, back_px, a, b


def _check_edges(result, axis, a, b, back_px, depth_m, atol_px=2.0):
    edge_uv, depth, points, valid, station_uv = result
    assert valid.all(), valid
    rel = edge_uv - axis[0]
    s, t = rel @ a, rel @ b
    expected = back_px(s)
    assert (t <= expected + 1e-9).all() and (t > expected - atol_px).all(), (t, expected)
    rows, cols = edge_uv[:, 1].astype(int), edge_uv[:, 0].astype(int)
    np.testing.assert_allclose(depth, depth_m[rows, cols], atol=0.0006)
    rx = (edge_uv[:, 0] - INTR[2]) / INTR[0]
    ry = (edge_uv[:, 1] - INTR[3]) / INTR[1]
    truth = np.stack([rx, ry, np.ones_like(rx)], axis=1) * depth_m[rows, cols][:, None]
    np.testing.assert_allclose(points, truth, atol=0.001)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("facing_x", [1.0, -1.0])
@pytest.mark.parametrize("trunk_deg", [5.0, 60.0, 95.0])
def test_back_profile_finds_the_known_dorsal_edge(impl, facing_x, trunk_deg):
    hip = (320.0 - facing_x * 60, 330.0) if trunk_deg > 45 else (320.0, 380.0)
    depth_m, mask, axis, back_px, a, b = _back_scene(hip, trunk_deg, facing_x)
    rng = np.random.default_rng(int(trunk_deg))
    raw = np.round(depth_m * 1000).astype(np.uint16)
    raw[rng.random(raw.shape) < 0.08] = 0  # scattered holes on the person and the background
    result = impl.back_profile(raw, INTR, axis, facing_x, depth_scale=0.001, stations=12)
    _check_edges(result, axis, a, b, back_px, raw * 0.001)
    station_uv = result[4]
    np.testing.assert_allclose(station_uv[0], axis[0])
    np.testing.assert_allclose(station_uv[-1], axis[-1], atol=1e-9)
    steps = np.linalg.norm(np.diff(station_uv, axis=0), axis=1)
    np.testing.assert_allclose(steps, steps[0], rtol=1e-9)  # evenly spaced along the polyline


@pytest.mark.parametrize("impl", IMPLS)
def test_back_profile_survives_flying_pixels_and_a_depth_shadow(impl):
    depth_m, mask, axis, back_px, a, b = _back_scene((320.0, 380.0), 10.0, 1.0)
    rel_s, rel_t = _scene_coords(axis[0], a, b)
    v = np.arange(H, dtype=float)[:, None]  # image row
    just_outside = (rel_t > back_px(rel_s)) & (rel_t <= back_px(rel_s) + 1.5)
    depth = depth_m.astype(np.float32)
    depth[just_outside & (v < 300)] = 3.2  # flying pixels halfway to the background
    shadow = (rel_t > back_px(rel_s)) & (rel_t <= back_px(rel_s) + 12) & (v >= 300)
    depth[shadow] = np.nan  # an invalid band beside the edge (stereo shadow)
    result = impl.back_profile(depth, INTR, axis[:2], 1.0, stations=10)
    _check_edges(result, axis, a, b, back_px, depth.astype(float))


@pytest.mark.parametrize("impl", IMPLS)
def test_back_profile_uses_the_mask_when_a_wall_is_close_behind(impl):
    depth_m, mask, axis, back_px, a, b = _back_scene((320.0, 380.0), 30.0, -1.0, background_m=2.55)
    no_mask = impl.back_profile(depth_m, INTR, axis, -1.0, stations=8)
    assert not no_mask[3].any()  # the wall continues the depth: no edge without a mask
    result = impl.back_profile(depth_m, INTR, axis, -1.0, stations=8, mask=mask)
    _check_edges(result, axis, a, b, back_px, depth_m)


@pytest.mark.parametrize("impl", IMPLS)
def test_back_profile_crosses_holes_inside_the_mask_when_asked(impl):
    """Dark hair gives no depth: a band of holes along the back edge, inside the person mask."""
    depth_m, mask, axis, back_px, a, b = _back_scene((320.0, 380.0), 30.0, 1.0)
    rel_s, rel_t = _scene_coords(axis[0], a, b)
    hair = (mask > 0) & (rel_t > back_px(rel_s) - 12)
    depth = depth_m.copy()
    depth[hair] = 0.0
    plain = impl.back_profile(depth, INTR, axis, 1.0, stations=8, mask=mask)
    t_plain = (plain[0] - axis[0]) @ b
    assert (t_plain < back_px((plain[0] - axis[0]) @ a) - 10).all()  # stops where the hair begins
    result = impl.back_profile(depth, INTR, axis, 1.0, stations=8, mask=mask, holes_in_mask=True)
    edge_uv, depth_out, points, valid, _ = result
    assert valid.all()
    rel = edge_uv - axis[0]
    expected = back_px(rel @ a)
    assert ((rel @ b) <= expected + 1e-9).all() and ((rel @ b) > expected - 2.0).all()
    # Placed at the last depth seen before the hair, along the edge pixel's ray.
    np.testing.assert_allclose(depth_out, plain[1])
    rays = np.stack([(edge_uv[:, 0] - INTR[2]) / INTR[0], (edge_uv[:, 1] - INTR[3]) / INTR[1]], axis=1)
    np.testing.assert_allclose(points[:, :2], rays * depth_out[:, None], rtol=1e-12)
    # Without a mask the flag changes nothing: the hole run ends the scan as before.
    unmasked = impl.back_profile(depth, INTR, axis, 1.0, stations=8, holes_in_mask=True)
    reference = impl.back_profile(depth, INTR, axis, 1.0, stations=8)
    for got, want in zip(unmasked, reference):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("impl", IMPLS)
def test_back_profile_drops_stations_where_an_arm_hides_the_rim(impl):
    """An arm 25 cm nearer the camera lies across the back's rim over part of the trunk."""
    depth_m, mask, axis, back_px, a, b = _back_scene((320.0, 380.0), 60.0, 1.0)
    rel_s, rel_t = _scene_coords(axis[0], a, b)
    arm = (rel_s > 60) & (rel_s < 100) & (rel_t > back_px(rel_s) - 10) & (rel_t < back_px(rel_s) + 8)
    depth = np.where(arm, 2.25, depth_m)
    person = ((mask > 0) | arm).astype(np.uint8)
    plain = impl.back_profile(depth, INTR, axis[:2], 1.0, stations=9, mask=person)
    result = impl.back_profile(depth, INTR, axis[:2], 1.0, stations=9, mask=person, occlusion_step_m=0.1)
    assert plain[3].all()
    hidden = plain[1] == 2.25  # without the test, the arm's outline is taken for the back
    s_station = (result[4] - axis[0]) @ a
    assert hidden.sum() >= 2 and ((s_station[hidden] > 55) & (s_station[hidden] < 105)).all()
    assert not result[3][hidden].any()
    assert result[3][~hidden].all()
    for got, want in zip(result, plain):
        np.testing.assert_array_equal(got[~hidden], want[~hidden])


@pytest.mark.parametrize("impl", IMPLS)
def test_back_profile_fails_safe(impl):
    depth_m, mask, axis, *_ = _back_scene((320.0, 380.0), 10.0, 1.0)
    cases = [
        np.array([[np.nan, 300.0], [330.0, 150.0]]),  # a missing landmark
        np.array([[320.0, 300.0], [320.0, 300.0]]),  # hip == shoulder
    ]
    for bad_axis in cases:
        result = impl.back_profile(depth_m, INTR, bad_axis, 1.0, stations=5)
        edge_uv, depth, points, valid, station_uv = result
        assert not valid.any() and np.isnan(edge_uv).all() and np.isnan(points).all()
        assert np.isnan(station_uv).all() and np.isnan(depth).all()
    # Facing the wrong way: the scan runs through the front and off into the image edge or
    # the background from the front; a scan that leaves the image is invalid.
    near_edge = np.array([[20.0, 300.0], [20.0, 150.0]])
    result = impl.back_profile(np.full((H, W), 2.0), INTR, near_edge, 1.0, stations=4)
    assert not result[3].any()
    # No depth at all: nothing found.
    result = impl.back_profile(np.zeros((H, W), np.uint16), INTR, axis, 1.0, stations=4)
    assert not result[3].any()
    # Too short a scan to reach the background.
    result = impl.back_profile(depth_m, INTR, axis, 1.0, stations=4, max_scan_px=20)
    assert not result[3].any()


@pytest.mark.parametrize("seed", range(30))
def test_back_profile_matches_reference_on_random_input(seed):
    rng = np.random.default_rng(300 + seed)
    facing = float(rng.choice([-1.0, 1.0]))
    hip = (rng.uniform(150, 490), rng.uniform(250, 420))
    depth_m, mask, axis, *_ = _back_scene(hip, rng.uniform(-20, 110), facing, rng.uniform(60, 180))
    depth_m += rng.normal(0, 0.004, depth_m.shape)
    axis = axis[: int(rng.integers(2, 4))] + rng.normal(0, 15, (1, 2))  # landmarks off the truth
    if seed % 3 == 0:
        depth = np.round(depth_m * 1000).astype(np.uint16)
        depth[rng.random(depth.shape) < rng.uniform(0, 0.5)] = 0
        scale = 0.001
    else:
        depth = depth_m.astype(np.float32)
        depth[rng.random(depth.shape) < rng.uniform(0, 0.5)] = 0
        depth[rng.random(depth.shape) < 0.05] = np.nan
        scale = None
    if seed % 7 == 0:
        axis[int(rng.integers(len(axis)))] = np.nan
    if seed % 11 == 0:
        axis[1] = axis[0]
    use_mask = seed % 2 == 0
    if use_mask:
        mask = mask.copy()
        mask[rng.random(mask.shape) < 0.05] ^= 1
    kwargs = dict(
        depth_scale=scale,
        stations=int(rng.integers(2, 40)),
        mask=mask if use_mask else None,
        max_scan_px=int(rng.integers(1, 250)),
        max_hole_px=int(rng.integers(0, 9)),
        depth_jump_m=float(rng.uniform(0.01, 0.5)),
        min_depth_m=0.1,
        max_depth_m=float(rng.uniform(2.6, 5.0)),
        distortion=_random_distortion(rng),
        holes_in_mask=bool(rng.random() < 0.5),
        occlusion_step_m=float(rng.choice([np.inf, rng.uniform(0.005, 0.2)])),
    )
    got = kernels.back_profile(depth, INTR, axis, facing, **kwargs)
    ref = kernels_ref.back_profile(depth, INTR, axis, facing, **kwargs)
    names = ("edge_uv", "depth_m", "points", "valid", "station_uv")
    for name, g, r in zip(names, got, ref):
        assert g.shape == r.shape, name
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)


# ---------------------------------------------------------------------------
# Limb sections (the knee and ankle onto the thigh's and shin's axes)


def _limb_scene(left=100, right=131, near_z=2.5, shape=(120, 240)):
    """A vertical limb: columns left..right (inclusive) at near_z on the person, the wall at 5 m."""
    depth = np.full(shape, 5.0, np.float32)
    mask = np.zeros(shape, np.uint8)
    depth[:, left : right + 1] = near_z
    mask[:, left : right + 1] = 1
    return depth, mask


@pytest.mark.parametrize("impl", IMPLS)
def test_limb_sections_finds_the_limbs_edges_across_holes(impl):
    depth, mask = _limb_scene()
    depth[::3, 104] = 0.0  # holes on the limb are passed over
    centres = np.array([[115.3, 40.0], [115.3, 60.0], [115.3, 80.0]])
    reference, ends, clean = impl.limb_sections(depth, mask, centres, (1.0, 0.0), 60, 0.1)
    np.testing.assert_allclose(reference, 2.5)
    # Centre pixel 115; the limb's last pixels 100 and 131: 15 and 16 steps, ends half a pixel on.
    np.testing.assert_array_equal(ends, [[-15.5, 16.5]] * 3)
    assert clean.all()
    # Too few steps to leave the limb, or a centre off the person: not clean.
    _, _, clean = impl.limb_sections(depth, mask, centres, (1.0, 0.0), 10, 0.1)
    assert not clean.any()
    _, _, clean = impl.limb_sections(depth, mask, [[60.0, 40.0]], (1.0, 0.0), 60, 0.1)
    assert not clean.any()


@pytest.mark.parametrize("impl", IMPLS)
def test_limb_sections_end_at_an_occluder_is_not_clean(impl):
    depth, mask = _limb_scene()
    depth[30:50, 128:140] = 2.1  # an arm 0.4 m nearer covers the limb's right rim
    mask[30:50, 128:140] = 1
    centres = [[115.0, 40.0], [115.0, 70.0]]
    _, ends, clean = impl.limb_sections(depth, mask, centres, (1.0, 0.0), 60, 0.1)
    assert not clean[0] and clean[1]
    assert ends[0, 1] == 12.5  # it stopped at the arm (pixel 128), not the rim
    # Something behind (the far leg, 0.3 m back) ends the limb as the background does.
    depth[60:80, 132:150], mask[60:80, 132:150] = 2.8, 1
    _, ends, clean = impl.limb_sections(depth, mask, [[115.0, 70.0]], (1.0, 0.0), 60, 0.1)
    assert clean[0] and ends[0, 1] == 16.5


@pytest.mark.parametrize("impl", IMPLS)
def test_limb_sections_fail_safe(impl):
    depth, mask = _limb_scene()
    empty = impl.limb_sections(depth, mask, np.zeros((0, 2)), (1.0, 0.0), 60, 0.1)
    assert [a.shape for a in empty] == [(0,), (0, 2), (0,)]
    # A NaN centre, one whose window leaves the image, one with no depth: no reference.
    holes = depth.copy()
    holes[30:50, 100:132] = 0.0
    centres = [[np.nan, 40.0], [1.0, 40.0], [115.0, 40.0]]
    reference, _, clean = impl.limb_sections(holes, mask, centres, (1.0, 0.0), 60, 0.1)
    assert np.isnan(reference).all() and not clean.any()


@pytest.mark.parametrize("seed", range(30))
def test_limb_sections_match_reference_on_random_input(seed):
    rng = np.random.default_rng(700 + seed)
    h, w = int(rng.integers(20, 200)), int(rng.integers(20, 200))
    v, u = np.mgrid[0:h, 0:w].astype(float)
    a, b = rng.uniform(0, w, 2), rng.uniform(0, h, 2)
    start, end = np.array([a[0], b[0]]), np.array([a[1], b[1]])
    seg = end - start
    t = np.clip(((u - start[0]) * seg[0] + (v - start[1]) * seg[1]) / max(seg @ seg, 1e-9), 0, 1)
    dist = np.hypot(u - start[0] - t * seg[0], v - start[1] - t * seg[1])
    radius = rng.uniform(2, 20)
    limb = dist <= radius
    depth_m = np.where(limb, 2.5 + 0.004 * dist, rng.uniform(2.3, 5.0))  # other things, near or far
    depth_m += rng.normal(0, 0.01, depth_m.shape)
    mask = (limb | (rng.random((h, w)) < 0.3)).astype(np.uint8)
    if seed % 3 == 0:
        depth = np.round(depth_m * 1000).astype(np.uint16)
        depth[rng.random(depth.shape) < rng.uniform(0, 0.3)] = 0
        scale = 0.001
    else:
        depth = depth_m.astype(np.float32 if seed % 3 == 1 else np.float64)
        depth[rng.random(depth.shape) < rng.uniform(0, 0.3)] = 0
        depth[rng.random(depth.shape) < 0.05] = np.nan
        scale = None
    n = int(rng.integers(0, 12))
    centres = start + rng.uniform(-0.2, 1.2, (n, 1)) * seg + rng.normal(0, 3, (n, 2))
    if seed % 5 == 0 and n:
        centres[0] = np.nan
    across = np.array([-seg[1], seg[0]]) / max(np.linalg.norm(seg), 1e-9)
    if not np.isfinite(across).all() or not across.any():
        across = np.array([1.0, 0.0])
    args = (depth, mask, centres, across, int(rng.integers(1, 80)), float(rng.uniform(0.02, 0.5)))
    got = kernels.limb_sections(*args, depth_scale=scale)
    ref = kernels_ref.limb_sections(*args, depth_scale=scale)
    for name, g, r in zip(("reference", "ends", "clean"), got, ref):
        assert g.shape == r.shape, name
        np.testing.assert_array_equal(g, r, err_msg=name)


# ---------------------------------------------------------------------------
# Degenerate input: an empty depth image finds nothing, the same in both implementations


@pytest.mark.parametrize("shape", [(0, 0), (5, 0), (0, 7)])
def test_empty_depth_image_finds_nothing_in_both(shape):
    depth, mask = np.zeros(shape, np.float32), np.zeros(shape, np.uint8)
    uv = np.array([[1.0, 1.0], [np.nan, 2.0]])
    axis = np.array([[5.0, 9.0], [5.0, 2.0]])
    calls = {
        "lift_landmarks": lambda impl: impl.lift_landmarks(depth, uv, INTR, mask=mask),
        "back_profile": lambda impl: impl.back_profile(depth, INTR, axis, 1.0, stations=3, mask=mask),
        "limb_sections": lambda impl: impl.limb_sections(depth, mask, uv, (1.0, 0.0), 5, 0.1),
    }
    for name, call in calls.items():
        got, ref = call(kernels), call(kernels_ref)
        for g, r in zip(got, ref, strict=True):
            assert g.shape == r.shape, name
            np.testing.assert_array_equal(g, r, err_msg=name)
    points, count = kernels_ref.lift_landmarks(depth, uv, INTR)
    assert np.isnan(points).all() and points.shape == (2, 3) and count.tolist() == [0, 0]
    edge_uv, depth_m, points, valid, station_uv = kernels_ref.back_profile(depth, INTR, axis, 1.0, stations=3)
    assert not valid.any() and np.isnan(edge_uv).all() and np.isnan(depth_m).all() and np.isnan(points).all()
    # The stations lie on the axis whatever the image: hip, midpoint, shoulder.
    np.testing.assert_array_equal(station_uv, [[5.0, 9.0], [5.0, 5.5], [5.0, 2.0]])
    reference, ends, clean = kernels_ref.limb_sections(depth, mask, uv, (1.0, 0.0), 5, 0.1)
    assert np.isnan(reference).all() and not clean.any()
    np.testing.assert_array_equal(ends, [[-0.5, 0.5], [-0.5, 0.5]])


# ---------------------------------------------------------------------------
# Errors: one clear line, the same in both implementations


@pytest.mark.parametrize("impl", IMPLS)
def test_bad_arguments_raise_value_error(impl):
    d16 = np.zeros((10, 10), np.uint16)
    uv = np.zeros((1, 2))
    axis = np.array([[5.0, 8.0], [5.0, 2.0]])
    m8 = np.ones((10, 10), np.uint8)
    bad = [
        ("depth must be", lambda: impl.lift_landmarks(np.zeros((2, 2, 2)), uv, INTR)),
        ("depth must be", lambda: impl.deproject_depth(np.zeros((4, 4), np.int32), INTR)),
        ("intrinsics", lambda: impl.lift_landmarks(d16, uv, (1.0, 2.0, 3.0))),
        ("intrinsics", lambda: impl.deproject_depth(d16, (0.0, 1.0, 1.0, 1.0))),
        ("distortion", lambda: impl.deproject_depth(d16, INTR, distortion=(0.1, 0.2))),
        ("depth_scale", lambda: impl.deproject_depth(d16, INTR, depth_scale=-1.0)),
        ("pixels_uv", lambda: impl.lift_landmarks(d16, np.zeros((3, 3)), INTR)),
        ("window_radius_px", lambda: impl.lift_landmarks(d16, uv, INTR, None, -1)),
        ("min_depth_m", lambda: impl.lift_landmarks(d16, uv, INTR, None, 2, 5.0, 1.0)),
        ("stride", lambda: impl.deproject_depth(d16, INTR, stride=0)),
        ("mask", lambda: impl.deproject_depth(d16, INTR, mask=np.ones((9, 10), np.uint8))),
        ("points must be", lambda: impl.fit_plane_ransac(np.zeros((5, 2)))),
        ("iterations", lambda: impl.fit_plane_ransac(np.zeros((5, 3)), iterations=0)),
        ("inlier_threshold_m", lambda: impl.fit_plane_ransac(np.zeros((5, 3)), inlier_threshold_m=0)),
        ("up_hint", lambda: impl.fit_plane_ransac(np.zeros((5, 3)), up_hint=(0, 0, 0))),
        ("max_tilt_deg needs", lambda: impl.fit_plane_ransac(np.zeros((5, 3)), max_tilt_deg=10)),
        ("min_inliers", lambda: impl.fit_plane_ransac(np.zeros((5, 3)), min_inliers=2)),
        ("axis_uv", lambda: impl.back_profile(d16, INTR, axis[:1], 1.0)),
        ("facing_x", lambda: impl.back_profile(d16, INTR, axis, 0.0)),
        ("stations", lambda: impl.back_profile(d16, INTR, axis, 1.0, stations=1)),
        ("depth_jump_m", lambda: impl.back_profile(d16, INTR, axis, 1.0, depth_jump_m=0.0)),
        ("occlusion_step_m", lambda: impl.back_profile(d16, INTR, axis, 1.0, occlusion_step_m=float("nan"))),
        ("occlusion_step_m", lambda: impl.back_profile(d16, INTR, axis, 1.0, occlusion_step_m=0.0)),
        ("mask", lambda: impl.back_profile(d16, INTR, axis, 1.0, mask=np.ones((10, 10), np.int8))),
        ("mask", lambda: impl.limb_sections(d16, None, uv, (1.0, 0.0), 5, 0.1)),
        ("mask", lambda: impl.limb_sections(d16, np.ones((9, 10), np.uint8), uv, (1.0, 0.0), 5, 0.1)),
        ("centres_uv", lambda: impl.limb_sections(d16, m8, np.zeros((2, 3)), (1.0, 0.0), 5, 0.1)),
        ("max_steps", lambda: impl.limb_sections(d16, m8, uv, (1.0, 0.0), 0, 0.1)),
        ("tolerance_m", lambda: impl.limb_sections(d16, m8, uv, (1.0, 0.0), 5, 0.0)),
        ("across", lambda: impl.limb_sections(d16, m8, uv, (np.nan, 0.0), 5, 0.1)),
    ]
    for match, call in bad:
        with pytest.raises(ValueError, match=match):
            call()


# ---------------------------------------------------------------------------
# The benchmark's frame and command


def test_bench_frame_depth_work_gives_floor_and_back_profile():
    from hinge_coach_ros import bench

    frame = bench.synthetic_rgbd_frame()
    for impl in IMPLS:
        cloud = np.empty((60, 80, 3), np.float32)
        (points, count), floor, profile, sections = bench.depth_work(impl, frame, cloud)
        assert (count > 10).sum() >= 30  # nearly every landmark lands on the figure's depth
        normal, offset, inliers, ok, _ = floor
        assert ok and abs(offset - 1.2) < 0.02  # the camera is 1.2 m above the floor
        assert math.degrees(math.acos(normal @ [0.0, -math.cos(0.2618), -math.sin(0.2618)])) < 1.0
        edge_uv, depth_m, back_points, valid, _ = profile
        assert valid.sum() >= 20
        np.testing.assert_allclose(depth_m[valid], 2.5, atol=0.02)  # the figure's rim depth
        # The thigh's and shin's sections across the drawn bones (40 and 30 px wide), through
        # the depth's 5% holes; near the hip the thigh's first runs into the trunk's round end.
        # (Where they put the knee: test_camera_node's leg scenes.)
        for (_, ends, clean), width in zip(sections, (40.0, 30.0)):
            widths = (ends[:, 1] - ends[:, 0])[clean]
            assert (np.abs(widths - width) <= 3.0).sum() >= 7


def test_bench_quick_runs_and_prints_ratios(capsys):
    from hinge_coach_ros import cli

    assert cli.main(["bench", "--quick"]) == 0
    out = capsys.readouterr().out
    kernel_names = ("lift_landmarks", "deproject_depth", "fit_plane_ransac", "back_profile", "limb_sections")
    for name in (*kernel_names, "robust_line_fit"):
        line = next(row for row in out.splitlines() if row.startswith(name))
        assert line.rstrip().endswith("x")
    assert "all depth work per frame" in out and "BlazePose" in out
