"""The RGB-D renderer: geometry against the truth, depth artefacts, and BlazePose on its frames."""

import numpy as np
import pytest

from hinge_coach_ros.athlete import (
    PRESETS,
    AthleteSpec,
    CameraPlacement,
    Pose,
    body_at,
    body_for,
    generate,
    landmarks_world,
)
from hinge_coach_ros.pose_check import BODY_LANDMARKS
from hinge_coach_ros.render import (
    _MAT_INDEX,
    DepthModel,
    Intrinsics,
    Renderer,
    build_scene,
    expected_depth_rms_m,
    frame_rng,
    rgbd_frame,
)


@pytest.fixture(scope="module")
def renderer():
    return Renderer()


def test_floor_depth_is_the_plane_and_its_noise_grows_with_z_squared(renderer):
    spec = AthleteSpec()
    scene = build_scene(body_at(Pose(), 1.75), "dowel", spec.camera)
    frame = renderer.render(scene, frame_rng(1, 0))
    floor = frame.material == _MAT_INDEX["floor"]
    # Noise-free depth of floor pixels: where each pixel's ray meets the floor plane.
    n, d = scene.floor
    rays = renderer.rays[floor]
    plane_z = (d / (rays @ n)) * rays[:, 2]
    np.testing.assert_allclose(frame.depth_true_m[floor], plane_z, rtol=1e-5)
    measured = frame.depth[floor].astype(float) * 0.001
    ok = measured > 0
    err = measured[ok] - plane_z[ok]
    z = plane_z[ok]
    stds = []
    for lo, hi in ((2.0, 2.5), (3.5, 4.5)):
        band = (z >= lo) & (z < hi)
        assert band.sum() > 2000
        assert abs(np.median(err[band])) < 0.002
        stds.append((np.std(err[band]), expected_depth_rms_m(float(np.median(z[band])))))
    for measured_std, expected in stds:
        assert measured_std == pytest.approx(expected, rel=0.25)
    # z^2: the far band's noise over the near band's follows the squared distance ratio.
    assert stds[1][0] / stds[0][0] == pytest.approx(stds[1][1] / stds[0][1], rel=0.3)
    # Millimetre units: integer counts of 1 mm.
    assert frame.depth.dtype == np.uint16


def test_holes_on_dark_surfaces_and_at_silhouette_edges(renderer):
    spec = AthleteSpec(preset="deadlift")
    frame = rgbd_frame(spec, body_at(PRESETS["deadlift"].bottom, 1.75), 3, renderer)
    holes = frame.depth == 0
    shoe = frame.material == _MAT_INDEX["shoe"]
    iron = frame.material == _MAT_INDEX["iron"]
    shirt = frame.material == _MAT_INDEX["shirt"]
    assert holes[shoe].mean() > 0.3 and holes[iron].mean() > 0.3
    # Away from edges, a light surface keeps its depth.
    inner = shirt.copy()
    for axis in (0, 1):
        for step in (-3, 3):
            inner &= np.roll(shirt, step, axis=axis)
    assert holes[inner].mean() < 0.02
    # The occlusion band: background just left of the body (a nearer surface) has no depth.
    body = frame.material >= 2
    wall = frame.material == _MAT_INDEX["wall"]
    left_of_body = wall & np.roll(body, -1, axis=1)
    assert left_of_body.sum() > 50 and holes[left_of_body].mean() > 0.9
    # Nothing beyond the working range.
    assert frame.depth.max() <= DepthModel().max_z_m * 1000 * 1.05


def test_same_frame_index_renders_identical_frames(renderer):
    spec = AthleteSpec()
    body = body_at(PRESETS["dowel"].bottom, 1.75)
    a, b = rgbd_frame(spec, body, 5, renderer), rgbd_frame(spec, body, 5, renderer)
    assert np.array_equal(a.color, b.color) and np.array_equal(a.depth, b.depth)
    c = rgbd_frame(spec, body, 6, renderer)
    assert not np.array_equal(a.depth, c.depth)  # noise differs from frame to frame


@pytest.mark.parametrize("fault", [{}, {"rounded_back": 30.0}, {"banana_back": 15.0}])
def test_back_surface_in_depth_follows_the_truth_profile(renderer, fault):
    """The truth's back profile is the depth image's back contour (side view)."""
    import hinge_coach_ros.athlete as athlete

    spec = AthleteSpec()
    pose = athlete._bottom_pose(spec, fault) if "banana_back" not in fault else athlete._top_pose(fault)
    body = body_at(pose, 1.75)
    frame = renderer.render(
        build_scene(body, "box", spec.camera), frame_rng(0, 0)
    )  # a box: no dowel on the back
    rot, trans = spec.camera.world_to_optical()
    # Lumbar and thoracic profile points, each with its outward (posterior) normal.
    k = np.where((body.back_labels == 1) | (body.back_labels == 2))[0]
    outward = body.back_profile[k] - body.spine[k - 1]
    outward /= np.linalg.norm(outward, axis=1, keepdims=True)
    points = body.back_profile[k] @ rot.T + trans
    px = renderer.intr.project(points)
    step = renderer.intr.project((body.back_profile[k] + 0.03 * outward) @ rot.T + trans) - px
    step /= np.linalg.norm(step, axis=1, keepdims=True)
    for uv, n, p in zip(px, step, points):
        inside = np.round(uv - 2.5 * n).astype(int)
        outside = np.round(uv + 2.5 * n).astype(int)
        assert frame.material[inside[1], inside[0]] >= 2, (uv, "body inside the back surface")
        # Behind the back surface: the wall or floor, or an arm hanging beside the torso (0.23 m out).
        behind = frame.material[outside[1], outside[0]]
        background = behind in (_MAT_INDEX["wall"], _MAT_INDEX["floor"])
        assert background or abs(frame.depth_true_m[outside[1], outside[0]] - p[2]) > 0.15, uv
        # Just inside the silhouette the ray meets the back between the midline
        # profile and the near arm (hanging at the side, 0.23 m out).
        edge = np.round(uv - 1.0 * n).astype(int)
        assert p[2] - 0.3 < frame.depth_true_m[edge[1], edge[0]] < p[2] + 0.005


def test_head_has_a_face(renderer):
    spec = AthleteSpec(camera=CameraPlacement(view="oblique45"))
    frame = rgbd_frame(spec, body_at(Pose(), 1.75), 0, renderer)
    head = frame.material == _MAT_INDEX["head"]
    colours = frame.color[head].astype(int)
    dark = (colours.sum(axis=1) < 120).mean()
    white = (colours.min(axis=1) > 150).mean()
    assert 0.02 < dark < 0.6 and white > 0.002  # hair and pupils; the whites of the eyes


def test_intrinsics_project_like_a_pinhole():
    intr = Intrinsics()
    assert intr.project(np.array([[0.0, 0.0, 2.0]]))[0] == pytest.approx([intr.cx, intr.cy])
    assert intr.project(np.array([[1.0, -0.5, 2.0]]))[0] == pytest.approx(
        [intr.cx + intr.fx / 2, intr.cy - intr.fy / 4]
    )


@pytest.mark.parametrize("view", ["side", "oblique45"])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_blazepose_finds_the_athlete(renderer, pose_model, preset, view):
    """BlazePose (offline, in the venv) on a sample of frames through a rep with a fault."""
    from hinge_coach_ros.landmarks import INDEX

    spec = AthleteSpec(
        preset=preset,
        reps=1,
        faults={1: {"rounded_back": 20.0}},
        camera=CameraPlacement(view=view),
        landmark_noise_m=0,
    )
    s = generate(spec)
    rot, trans = spec.camera.world_to_optical()
    samples = np.linspace(20, len(s.poses) - 20, 6).astype(int)
    found, errors = 0, []
    for i in samples:
        body = body_for(spec, s.poses[i])
        frame = rgbd_frame(spec, body, int(i), renderer)
        result = pose_model.process(frame.color)
        if result.pose_landmarks is None:
            continue
        found += 1
        detected = np.array([[p.x * 640, p.y * 480] for p in result.pose_landmarks.landmark])
        truth = renderer.intr.project(landmarks_world(body) @ rot.T + trans)
        errors += [np.linalg.norm(detected[INDEX[n]] - truth[INDEX[n]]) for n in BODY_LANDMARKS]
    assert found == len(samples)
    assert np.median(errors) < 15.0, np.median(errors)


@pytest.fixture(scope="module")
def pose_model():
    mp = pytest.importorskip("mediapipe", reason="mediapipe 0.10.14 (BlazePose) is in requirements.txt")
    if not hasattr(mp, "solutions"):
        pytest.skip("this mediapipe has no legacy solutions API (needs 0.10.14)")
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as model:
        yield model
