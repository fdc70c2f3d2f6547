"""RGB-D frames of the synthetic athlete: a vectorised numpy ray caster.

The body from ``athlete.body_at`` becomes a scene of simple volumes: capsules
for the limbs and for the torso (three chains along the spine curve, so the
torso's back surface follows the spine and a rounded or arched back shows in
depth), ellipsoids for the head (with face-like shading), nose, ears and
hands, boxes and ellipsoids for the props (dowel, box, kettlebell, barbell),
and two planes (floor, back wall). Each volume is intersected only with the
rays of its screen-space bounding box, then a z-buffer keeps the nearest hit.

The colour image is Lambert-shaded with a little sensor noise. The depth
image is aligned to colour (the colour camera's pixels and intrinsics) and
carries the artefacts of an active-stereo camera like the RealSense D435:
disparity noise (so the depth error grows with z squared), the occlusion
band left of foreground edges where only one imager sees the background,
dropped "flying" pixels at depth edges, holes on dark surfaces, a working
range, and millimetre quantization.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .athlete import AthleteSpec, Body, CameraPlacement, virtual_dowel
from .sources import Intrinsics  # re-exported: the renderer draws through the camera's own model


@dataclass(frozen=True)
class DepthModel:
    """Depth artefacts of an active-stereo camera (D435-like defaults)."""

    stereo_focal_px: float = 383.0  # depth imagers' focal length at 640x480
    baseline_m: float = 0.050
    subpixel_rms_px: float = 0.05  # disparity noise: sigma_z = z^2 * rms / (f * B), 2.1 cm at 3 m
    min_z_m: float = 0.3
    max_z_m: float = 6.5
    dark_albedo: float = 0.12  # surfaces darker than this (luminance) lose depth
    dark_hole_fraction: float = 0.6
    flying_pixel_fraction: float = 0.5  # share of depth-edge pixels dropped
    depth_unit_m: float = 0.001


# Materials: albedo (linear RGB 0-1). Index into this table in the scene.
MATERIALS: dict[str, tuple[float, float, float]] = {
    "floor": (0.52, 0.52, 0.48),
    "wall": (0.80, 0.80, 0.77),
    "skin": (0.86, 0.66, 0.52),
    "shirt": (0.18, 0.42, 0.72),
    "shorts": (0.28, 0.28, 0.34),
    "shoe": (0.07, 0.07, 0.08),
    "dowel": (0.92, 0.92, 0.90),
    "box": (0.68, 0.50, 0.30),
    "iron": (0.08, 0.08, 0.09),
    "steel": (0.55, 0.56, 0.58),
    "head": (0.86, 0.66, 0.52),  # skin, with the face drawn on it
}
_MAT_INDEX = {name: i for i, name in enumerate(MATERIALS)}
_ALBEDO = np.array(list(MATERIALS.values()), dtype=np.float32)
_FIRST_VOLUME_MATERIAL = 2  # floor and wall come first
# Direction toward the light in the optical frame: above and to the camera's side.
_LIGHT = np.array([-0.35, -0.75, -0.55], dtype=np.float32) / np.float32(np.linalg.norm([-0.35, -0.75, -0.55]))


@dataclass
class Scene:
    """Volumes in the camera optical frame."""

    capsules: list[tuple[np.ndarray, np.ndarray, float, int]]
    ellipsoids: list[tuple[np.ndarray, np.ndarray, int]]  # centre, M (local = M @ (p - c)), material
    boxes: list[
        tuple[np.ndarray, np.ndarray, np.ndarray, int]
    ]  # centre, R (rows: axes), half extents, material
    head: tuple[np.ndarray, np.ndarray] | None  # centre, M of the head ellipsoid (face shading)
    floor: tuple[np.ndarray, float]  # unit normal n (optical), offset d: n . p = d on the plane
    wall: tuple[np.ndarray, float]


def _ellipsoid_matrix(axes: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """M with local = M @ (p - c): rows are the axes divided by the radii."""
    return axes / radii[:, None]


def build_scene(body: Body, prop: str, camera: CameraPlacement) -> Scene:
    """The scene for one body posture, in the camera's optical frame."""
    rot, trans = camera.world_to_optical()
    h = body.height_m
    j = body.joints

    def o(p: np.ndarray) -> np.ndarray:
        return rot @ np.asarray(p, dtype=float) + trans

    caps: list[tuple[np.ndarray, np.ndarray, float, int]] = []
    ells: list[tuple[np.ndarray, np.ndarray, int]] = []
    boxes: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []

    def cap(a, b, r, mat):
        caps.append((o(a), o(b), float(r), _MAT_INDEX[mat]))

    def ell(c, axes_world, radii, mat):
        axes = np.asarray(axes_world, dtype=float) @ rot.T  # rotate each axis into the optical frame
        ells.append((o(c), _ellipsoid_matrix(axes, np.asarray(radii, dtype=float)), _MAT_INDEX[mat]))

    for side in ("left", "right"):
        hip, knee, ankle = j[f"{side}_hip"], j[f"{side}_knee"], j[f"{side}_ankle"]
        cap(hip, knee, 0.046 * h, "shorts")
        cap(knee, ankle, 0.030 * h, "skin")
        heel, toe = j[f"{side}_heel"], j[f"{side}_toe"]
        cap(heel, toe, 0.020 * h, "shoe")
        cap(ankle, heel + 0.3 * (toe - heel), 0.024 * h, "shoe")
        sh, el, wr, hand = j[f"{side}_shoulder"], j[f"{side}_elbow"], j[f"{side}_wrist"], j[f"{side}_hand"]
        cap(sh, el, 0.027 * h, "shirt")
        cap(el, wr, 0.021 * h, "skin")
        cap(wr, hand, 0.020 * h, "skin")
    # Torso: three chains of capsules along the spine-curve axis; the middle
    # one carries the back surface, the side ones (a little thinner) give width.
    axis, radius = body.torso_axis, body.torso_radius
    half_width = 0.095 * h
    for k in range(len(axis) - 1):
        a, b = axis[k], axis[k + 1]
        r = 0.5 * (radius[k] + radius[k + 1])
        top = k >= len(axis) - 4
        mat = "shirt"
        if k == 0:
            mat = "shorts"
        cap(a, b, r, mat)
        side_r = 0.92 * r
        w = half_width - side_r if not top else 0.8 * half_width - side_r
        for sign in (-1.0, 1.0):
            cap(a + np.array([0, 0, sign * w]), b + np.array([0, 0, sign * w]), side_r, mat)
    # Shoulders: a capsule across joining the arms to the chest.
    cap(j["left_shoulder"], j["right_shoulder"], 0.032 * h, "shirt")
    # Neck and head.
    cap(j["t1"], j["neck_top"], 0.030 * h, "skin")
    up, fwd, right = body.head_axes
    c = body.head_centre
    head_axes = np.stack([up, fwd, right])
    ell(c, head_axes, body.head_radii, "head")
    head = ells[-1][:2]
    ell(
        c + 0.98 * body.head_radii[1] * fwd - 0.05 * body.head_radii[0] * up,
        head_axes,
        h * np.array([0.016, 0.012, 0.008]),
        "skin",
    )  # nose
    for sign in (-1.0, 1.0):
        ell(
            c - 0.05 * body.head_radii[1] * fwd + sign * 0.95 * body.head_radii[2] * right,
            head_axes,
            h * np.array([0.020, 0.011, 0.007]),
            "skin",
        )  # ears
    _add_prop(prop, body, cap, ell, boxes, o, rot)

    up_o = rot @ np.array([0.0, 1.0, 0.0])
    camera_height = camera.position_world()[1]
    floor = (up_o, float(-camera_height))  # up . p = -camera height on the floor (camera at the origin)
    view = -camera.position_world()
    view[1] = 0.0
    view /= np.linalg.norm(view)
    wall_point = camera.position_world() + view * (camera.distance_m + 2.2)
    n_wall = rot @ (-view)
    wall = (n_wall, float(n_wall @ o(wall_point)))
    return Scene(caps, ells, boxes, head, floor, wall)


def _add_prop(prop, body: Body, cap, ell, boxes, o, rot) -> None:
    j = body.joints
    hands = 0.5 * (j["left_hand"] + j["right_hand"])
    if prop == "dowel":
        # A PVC pipe (2.5 cm) along the virtual dowel: no back point lies behind that line.
        d = virtual_dowel(body)
        r = 0.0125
        p0 = d.line_point + d.back_dir * r
        s0 = (body.back_profile[0] - d.line_point) @ d.line_dir - 0.12
        s1 = (body.back_profile[-1] - d.line_point) @ d.line_dir + 0.18
        cap(p0 + s0 * d.line_dir, p0 + s1 * d.line_dir, r, "dowel")
    elif prop == "box":
        size = np.array([0.30, 0.24, 0.36])  # forward, up, across (m)
        centre = hands + np.array([0.02, 0.02, 0.0])
        centre[2] = 0.0
        centre[1] = max(centre[1], size[1] / 2)
        boxes.append((o(centre), rot.copy(), size / 2, _MAT_INDEX["box"]))
    elif prop == "kettlebell":
        bell = hands + np.array([0.0, -0.14, 0.0])
        bell[2] = 0.0
        bell[1] = max(bell[1], 0.10)
        ell(bell, np.eye(3), np.array([0.10, 0.10, 0.10]), "iron")
        top = bell + np.array([0.0, 0.13, 0.0])
        cap(top + np.array([0, 0, -0.06]), top + np.array([0, 0, 0.06]), 0.016, "iron")
        cap(bell + np.array([0, 0.05, -0.07]), top + np.array([0, 0, -0.06]), 0.016, "iron")
        cap(bell + np.array([0, 0.05, 0.07]), top + np.array([0, 0, 0.06]), 0.016, "iron")
    elif prop == "barbell":
        bar = hands.copy()
        bar[2] = 0.0
        bar[1] = max(bar[1], 0.225)  # plates of 45 cm rest on the floor
        cap(bar + np.array([0, 0, -1.05]), bar + np.array([0, 0, 1.05]), 0.014, "steel")
        for sign in (-1.0, 1.0):
            ell(bar + np.array([0, 0, sign * 0.78]), np.eye(3), np.array([0.225, 0.225, 0.03]), "iron")


@dataclass
class RenderedFrame:
    color: np.ndarray  # (H, W, 3) uint8 RGB
    depth: np.ndarray  # (H, W) uint16, depth_unit_m per count, 0 = no depth
    depth_true_m: np.ndarray  # (H, W) float32 noise-free depth (inf where nothing)
    material: np.ndarray  # (H, W) int16 material index, -1 where nothing


class Renderer:
    """Renders scenes at fixed intrinsics; keeps the per-pixel rays."""

    def __init__(self, intrinsics: Intrinsics | None = None, depth_model: DepthModel | None = None) -> None:
        self.intr = intrinsics or Intrinsics()
        self.depth_model = depth_model or DepthModel()
        i = self.intr
        u, v = np.meshgrid(np.arange(i.width, dtype=np.float32), np.arange(i.height, dtype=np.float32))
        d = np.stack([(u - i.cx) / i.fx, (v - i.cy) / i.fy, np.ones_like(u)], axis=-1)
        self.rays = (d / np.linalg.norm(d, axis=-1, keepdims=True)).astype(np.float32)
        self._bg_key: tuple | None = None
        self._bg: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _bbox(self, centres: np.ndarray, radius: float) -> tuple[slice, slice] | None:
        i = self.intr
        z = centres[:, 2]
        if np.any(z - radius <= 0.05):
            return slice(0, i.height), slice(0, i.width)
        u = i.fx * centres[:, 0] / z + i.cx
        v = i.fy * centres[:, 1] / z + i.cy
        ru = i.fx * radius / (z - radius) + 1.0
        rv = i.fy * radius / (z - radius) + 1.0
        u0, u1 = int(max(0, np.floor((u - ru).min()))), int(min(i.width, np.ceil((u + ru).max()) + 1))
        v0, v1 = int(max(0, np.floor((v - rv).min()))), int(min(i.height, np.ceil((v + rv).max()) + 1))
        if u0 >= u1 or v0 >= v1:
            return None
        return slice(v0, v1), slice(u0, u1)

    def _background(self, scene: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Floor and wall (static for a camera): ray length, material and Lambert term, cached."""
        key = (
            tuple(np.round(scene.floor[0], 9)),
            round(scene.floor[1], 9),
            tuple(np.round(scene.wall[0], 9)),
        )
        if self._bg_key != key:
            t_bg = np.full(self.rays.shape[:2], np.inf, dtype=np.float32)
            mat_bg = np.full(self.rays.shape[:2], -1, dtype=np.int16)
            lam_bg = np.zeros(self.rays.shape[:2], dtype=np.float32)
            for (n_p, d_p), m in ((scene.floor, _MAT_INDEX["floor"]), (scene.wall, _MAT_INDEX["wall"])):
                denom = self.rays @ n_p.astype(np.float32)
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = np.where(denom < -1e-6, d_p / denom, np.inf).astype(np.float32)
                closer = (t > 0) & (t < t_bg)
                t_bg[closer] = t[closer]
                mat_bg[closer] = m
                lam_bg[closer] = max(0.0, float(n_p @ _LIGHT))
            self._bg = (t_bg, mat_bg, lam_bg)
            self._bg_key = key
        return self._bg

    def render(self, scene: Scene, rng: np.random.Generator) -> RenderedFrame:
        i = self.intr
        t_bg, mat_bg, lam_bg = self._background(scene)
        t_buf = t_bg.copy()
        mat = mat_bg.copy()
        normal = np.zeros((i.height, i.width, 3), dtype=np.float32)
        rays = self.rays
        region = [i.height, 0, i.width, 0]  # rows and columns the volumes cover

        def commit(box, t, n, m):
            ys, xs = box
            tb = t_buf[ys, xs]
            closer = t < tb
            if not closer.any():
                return
            tb[closer] = t[closer]
            mat[ys, xs][closer] = m
            normal[ys, xs][closer] = n[closer]
            region[0], region[1] = min(region[0], ys.start), max(region[1], ys.stop)
            region[2], region[3] = min(region[2], xs.start), max(region[3], xs.stop)

        for a, b, r, m in scene.capsules:
            box = self._bbox(np.stack([a, b]), r)
            if box is None:
                continue
            t, n = _capsule_hit(rays[box], a.astype(np.float32), b.astype(np.float32), np.float32(r))
            commit(box, t, n, m)
        for c, mm, m in scene.ellipsoids:
            radius = 1.0 / np.linalg.norm(mm, axis=1).min()
            box = self._bbox(c[None, :], radius)
            if box is None:
                continue
            t, n = _ellipsoid_hit(rays[box], c.astype(np.float32), mm.astype(np.float32))
            commit(box, t, n, m)
        for c, rot, half, m in scene.boxes:
            box = self._bbox(c[None, :], float(np.linalg.norm(half)))
            if box is None:
                continue
            t, n = _box_hit(rays[box], c.astype(np.float32), rot.astype(np.float32), half.astype(np.float32))
            commit(box, t, n, m)

        hit = np.isfinite(t_buf)
        albedo = np.where(hit[..., None], _ALBEDO[np.maximum(mat, 0)], 0.0).astype(np.float32)
        if scene.head is not None:
            _paint_face(albedo, t_buf, mat, rays, scene.head)
        lambert = lam_bg.copy()
        volume = mat >= _FIRST_VOLUME_MATERIAL
        lambert[volume] = np.clip(normal[volume] @ _LIGHT, 0.0, 1.0)
        # No colour noise: the pose model does not need it, and noise-free
        # colour halves the recording's size.
        color = np.clip(albedo * (255.0 * (0.38 + 0.62 * lambert))[..., None] + 0.5, 0, 255).astype(np.uint8)

        z_true = np.where(hit, t_buf * rays[..., 2], np.inf).astype(np.float32)
        y0, y1, x0, x1 = region
        edges = (slice(max(0, y0 - 2), min(i.height, y1 + 2)), slice(max(0, x0 - 10), min(i.width, x1 + 2)))
        depth = self._depth_artefacts(z_true, albedo, rng, edges)
        return RenderedFrame(color=color, depth=depth, depth_true_m=z_true, material=mat)

    def _depth_artefacts(
        self, z: np.ndarray, albedo: np.ndarray, rng: np.random.Generator, edges: tuple[slice, slice]
    ) -> np.ndarray:
        """Noisy, holed, quantized depth; edge artefacts are looked for only inside ``edges``
        (where the volumes are: floor and wall meet without a depth step)."""
        dm = self.depth_model
        fb = dm.stereo_focal_px * dm.baseline_m
        valid = np.isfinite(z) & (z >= dm.min_z_m) & (z <= dm.max_z_m)
        zc = np.where(valid, z, np.float32(1.0))
        # Disparity noise is correlated over the stereo matcher's window: draw
        # it on a 2x2-pixel grid (also keeps the recording compressible).
        h, w = z.shape
        coarse = rng.standard_normal(((h + 1) // 2, (w + 1) // 2), dtype=np.float32)
        noise = np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)[:h, :w]
        disparity = fb / zc + dm.subpixel_rms_px * noise
        noisy = fb / np.maximum(disparity, 1e-3)
        drop = self._edge_artefacts(zc[edges], valid[edges], rng)
        keep = valid.copy()
        keep[edges] &= ~drop
        # Dark, textureless surfaces: no stereo match, holes in small blocks.
        luminance = albedo @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        blocks = rng.random(((z.shape[0] + 3) // 4, (z.shape[1] + 3) // 4)) < dm.dark_hole_fraction
        dark_holes = (luminance < dm.dark_albedo) & np.kron(blocks, np.ones((4, 4), bool))[
            : z.shape[0], : z.shape[1]
        ]
        keep &= ~dark_holes
        counts = np.rint(noisy / dm.depth_unit_m)
        return np.where(keep, np.clip(counts, 0, 65535), 0).astype(np.uint16)

    def _edge_artefacts(self, zc: np.ndarray, valid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        dm = self.depth_model
        # Occlusion band: background pixels left of a nearer surface that the
        # second imager cannot see; its width is the disparity step (in colour pixels).
        fb_color = self.intr.fx * dm.baseline_m
        inv = np.where(valid, 1.0 / zc, 0.0)
        shadow = np.zeros_like(valid)
        for s in range(1, 9):
            right = np.empty_like(inv)
            right[:, :-s] = inv[:, s:]
            right[:, -s:] = 0.0
            shadow |= fb_color * (right - inv) >= s
        # Flying pixels at depth edges: mixed depth, dropped by the camera's filters.
        jump = np.zeros_like(valid)
        dz_x = np.abs(np.diff(zc, axis=1)) > 0.04 * zc[:, 1:]
        dz_y = np.abs(np.diff(zc, axis=0)) > 0.04 * zc[1:, :]
        jump[:, 1:] |= dz_x
        jump[:, :-1] |= dz_x
        jump[1:, :] |= dz_y
        jump[:-1, :] |= dz_y
        flying = jump & (rng.random(zc.shape) < dm.flying_pixel_fraction)
        return shadow | flying


def _capsule_hit(rd: np.ndarray, a: np.ndarray, b: np.ndarray, r: np.float32):
    """Nearest hit of rays from the origin with a capsule: t (inf on a miss) and normals."""
    ba = b - a
    oa = -a
    baba = float(ba @ ba)
    bard = rd @ ba
    baoa = float(ba @ oa)
    rdoa = rd @ oa
    oaoa = float(oa @ oa)
    qa = baba - bard * bard
    qb = baba * rdoa - baoa * bard
    qc = baba * oaoa - baoa * baoa - r * r * baba
    disc = qb * qb - qa * qc
    with np.errstate(invalid="ignore", divide="ignore"):
        t_cyl = (-qb - np.sqrt(disc)) / qa
        y = baoa + t_cyl * bard
        t_cyl = np.where((disc >= 0) & (y > 0) & (y < baba), t_cyl, np.inf)
        t = t_cyl
        for c in (a, b):
            bc = rd @ c
            hc = bc * bc - (float(c @ c) - r * r)
            ts = np.where(hc >= 0, bc - np.sqrt(hc), np.inf)
            t = np.minimum(t, ts)
    t = np.where(t > 0, t, np.inf).astype(np.float32)
    p = rd * np.where(np.isfinite(t), t, 0.0)[..., None]
    s = np.clip(((p - a) @ ba) / baba, 0.0, 1.0)
    n = (p - (a + s[..., None] * ba)) / r
    return t, n


def _ellipsoid_hit(rd: np.ndarray, c: np.ndarray, m: np.ndarray):
    ro = m @ (-c)
    rdl = rd @ m.T
    qa = np.einsum("...i,...i->...", rdl, rdl)
    qb = rdl @ ro
    qc = float(ro @ ro) - 1.0
    disc = qb * qb - qa * qc
    with np.errstate(invalid="ignore"):
        t = np.where(disc >= 0, (-qb - np.sqrt(disc)) / qa, np.inf)
    t = np.where(t > 0, t, np.inf).astype(np.float32)
    local = ro + rdl * np.where(np.isfinite(t), t, 0.0)[..., None]
    n = local @ m  # gradient of |M (p - c)|^2 is M^T M (p - c) = M^T local
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-9)
    return t, n


def _box_hit(rd: np.ndarray, c: np.ndarray, rot: np.ndarray, half: np.ndarray):
    ro = rot @ (-c)
    rdl = rd @ rot.T
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / rdl
        t1 = (-half - ro) * inv
        t2 = (half - ro) * inv
    tmin = np.minimum(t1, t2)
    tmax = np.maximum(t1, t2)
    near = tmin.max(axis=-1)
    far = tmax.min(axis=-1)
    t = np.where((near <= far) & (near > 0), near, np.inf).astype(np.float32)
    face = tmin.argmax(axis=-1)
    sign = -np.sign(np.take_along_axis(rdl, face[..., None], axis=-1))[..., 0]
    n_local = np.zeros(rd.shape, dtype=np.float32)
    np.put_along_axis(n_local, face[..., None], sign[..., None], axis=-1)
    return t, n_local @ rot


def _paint_face(albedo, t_buf, mat, rays, head) -> None:
    """Eyes, brows, mouth and hair on the head ellipsoid (in its unit-sphere coordinates)."""
    c, m = head
    sel = mat == _MAT_INDEX["head"]
    if not sel.any():
        return
    p = rays[sel] * t_buf[sel][:, None]
    q = (p - c) @ m.T  # unit-sphere coordinates: up, forward, right
    up, fwd, right = q[:, 0], q[:, 1], q[:, 2]
    col = albedo[sel]
    hair = (up > 0.5) | ((fwd < -0.15) & (up > -0.45))
    col[hair] = (0.16, 0.10, 0.06)
    for s in (-1.0, 1.0):
        eye_d = ((up - 0.22) / 0.11) ** 2 + ((right - s * 0.36) / 0.13) ** 2
        col[(eye_d < 1.0) & (fwd > 0.3)] = (0.95, 0.95, 0.95)
        col[(eye_d < 0.3) & (fwd > 0.3)] = (0.12, 0.08, 0.05)
        brow = (np.abs(up - 0.40) < 0.04) & (np.abs(right - s * 0.36) < 0.17) & (fwd > 0.3)
        col[brow] = (0.20, 0.12, 0.07)
    mouth = (((up + 0.45) / 0.06) ** 2 + (right / 0.28) ** 2 < 1.0) & (fwd > 0.3)
    col[mouth] = (0.62, 0.25, 0.25)
    albedo[sel] = col


def frame_rng(seed: int, frame_index: int) -> np.random.Generator:
    """One generator per frame, so frames can be rendered in any order or process."""
    return np.random.default_rng([seed, frame_index, 0x5EED])


def rgbd_frame(spec: AthleteSpec, body: Body, frame_index: int, renderer: Renderer) -> RenderedFrame:
    from .athlete import PRESETS

    scene = build_scene(body, PRESETS[spec.preset].prop, spec.camera)
    return renderer.render(scene, frame_rng(spec.seed, frame_index))


def expected_depth_rms_m(z_m: float, model: DepthModel | None = None) -> float:
    """The depth noise the model gives at distance z (first order)."""
    dm = model or DepthModel()
    return z_m * z_m * dm.subpixel_rms_px / (dm.stereo_focal_px * dm.baseline_m)


def benchmark(frames: int = 60, workers: int = 2, preset: str = "dowel") -> dict[str, float]:
    """Frames per second of the whole RGB-D frame (body, scene, ray casting, depth artefacts).

    Measured in one run: the same frames rendered in this process, then by
    ``workers`` processes, so the ratio is meaningful on a noisy machine.
    """
    import time

    from .athlete import generate
    from .rs_recording import render_frames, render_pool

    spec = AthleteSpec(preset=preset, reps=1)
    session = generate(spec)
    session.poses = [session.poses[i % len(session.poses)] for i in range(frames)]
    start = time.perf_counter()
    for _ in render_frames(spec, session, None):
        pass
    one = frames / (time.perf_counter() - start)
    result = {"frames": float(frames), "fps_1_process": one}
    if workers > 1:
        pool = render_pool(workers)
        try:
            list(pool.imap(abs, range(workers)))  # start the workers before timing
            start = time.perf_counter()
            for _ in render_frames(spec, session, pool):
                pass
            result[f"fps_{workers}_processes"] = frames / (time.perf_counter() - start)
        finally:
            pool.terminate()
    return result
