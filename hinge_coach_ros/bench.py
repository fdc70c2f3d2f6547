"""Benchmark of the C++ kernels against their numpy references, in one run.

Prints per-call times and the ratio measured on the same input in the same
process (median of repeated calls), so the numbers mean something on a noisy
machine; then all the depth work of one 640x480 frame against one BlazePose
inference measured in the same run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from . import kernels, kernels_ref
from .camera_pipeline import LIMB_DEPTH_TOL_M, LIMB_SECTIONS, limb_section_layout

WIDTH, HEIGHT = 640, 480
INTRINSICS = (615.0, 615.0, 320.0, 240.0)  # a RealSense D435 colour stream at 640x480
DEPTH_SCALE = 0.001
FLOOR_STRIDE = 8  # floor cloud: every 8th pixel (80 x 60 points)
FLOOR_ITERATIONS = 100
PROFILE_STATIONS = 24 + 12  # as the camera pipeline scans: hips to ear, and across the head
LIFT_RADIUS_PX = 4  # the camera node's default lift_window_px
LIMBS = (("hip", "knee"), ("knee", "ankle"))  # the near thigh and shin (camera_pipeline.limb_axis)


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds per call (median resists the machine's other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def back_profile_like_points(n: int, seed: int = 0) -> np.ndarray:
    """A noisy line of n 3D points with 10% outliers and a few NaN holes, like a back profile."""
    rng = np.random.default_rng(seed)
    s = np.linspace(0.0, 0.6, n)
    pts = np.stack([0.4 * s, -0.9 * s, 3.0 + 0.1 * s], axis=1) + rng.normal(0, 0.004, (n, 3))
    out = rng.random(n) < 0.1
    pts[out] += rng.normal(0, 0.08, (out.sum(), 3))
    pts[rng.random(n) < 0.02] = np.nan
    return pts


# A side-on person hinging forward (facing image +u), in pixels: ankle, knee, hip,
# shoulder, ear, and the hand hanging below the shoulder.
_FIGURE = {
    "ankle": (300, 445),
    "knee": (318, 370),
    "hip": (282, 292),
    "shoulder": (372, 208),
    "ear": (410, 168),
    "elbow": (380, 280),
    "wrist": (386, 345),
}
_BONES = [  # (from, to, thickness in px)
    ("ankle", "knee", 30),
    ("knee", "hip", 40),
    ("hip", "shoulder", 70),
    ("shoulder", "ear", 30),
    ("shoulder", "elbow", 22),
    ("elbow", "wrist", 18),
]


def synthetic_rgbd_frame(seed: int = 0) -> dict:
    """A 640x480 aligned RGB-D frame: floor, back wall, and a side-on hinging figure.

    The depth is uint16 millimetres with 5% holes; the colour image is a shaded
    capsule figure with a face, drawn with OpenCV, for timing BlazePose on it.
    """
    import cv2

    rng = np.random.default_rng(seed)
    pitch = math.radians(15)
    up = np.array([0.0, -math.cos(pitch), -math.sin(pitch)])
    forward = np.array([0.0, math.sin(pitch), math.cos(pitch)])
    v, u = np.mgrid[0:HEIGHT, 0:WIDTH].astype(float)
    rx, ry = (u - INTRINSICS[2]) / INTRINSICS[0], (v - INTRINSICS[3]) / INTRINSICS[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = -1.2 / (up[0] * rx + up[1] * ry + up[2])  # camera 1.2 m above the floor
        wall = 4.5 / (forward[0] * rx + forward[1] * ry + forward[2])  # wall 4.5 m ahead
    floor = np.where(np.isfinite(floor) & (floor > 0), floor, np.inf)
    depth_m = np.minimum(floor, wall)
    person = np.zeros((HEIGHT, WIDTH), np.uint8)
    rgb = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    rgb[:] = np.where((floor < wall)[..., None], [120, 110, 100], [190, 195, 200]).astype(np.uint8)
    for a, b, thickness in _BONES:
        cv2.line(person, _FIGURE[a], _FIGURE[b], 255, thickness)
        for shade in range(thickness, 0, -4):  # lighter toward the middle: a shaded capsule
            tone = int(150 + 80 * (1 - shade / thickness))
            cv2.line(rgb, _FIGURE[a], _FIGURE[b], (tone, int(tone * 0.8), int(tone * 0.65)), shade)
    cv2.circle(person, _FIGURE["ear"], 34, 255, -1)
    cv2.circle(rgb, (_FIGURE["ear"][0] + 8, _FIGURE["ear"][1]), 34, (225, 185, 155), -1)
    cv2.circle(rgb, (_FIGURE["ear"][0] + 24, _FIGURE["ear"][1] - 8), 4, (40, 30, 30), -1)  # eye
    cv2.circle(rgb, (_FIGURE["ear"][0] + 40, _FIGURE["ear"][1] + 6), 5, (200, 150, 130), -1)  # nose
    # The body is a rounded solid 2.5 m away: nearer toward its middle.
    dist = cv2.distanceTransform((person > 0).astype(np.uint8), cv2.DIST_L2, 5)
    body = 2.5 - 0.004 * np.minimum(dist, 30.0)
    depth_m = np.where(person > 0, body, depth_m)
    depth = np.round(np.clip(depth_m + rng.normal(0, 0.003, depth_m.shape), 0, 60) / DEPTH_SCALE)
    depth = depth.astype(np.uint16)
    depth[rng.random(depth.shape) < 0.05] = 0
    # 33 landmark pixels along the figure's bones (as BlazePose would place them).
    t = np.linspace(0, 1, 6)[:, None]
    bones = [np.array(_FIGURE[a]) + t * (np.array(_FIGURE[b]) - np.array(_FIGURE[a])) for a, b, _ in _BONES]
    landmarks = np.concatenate(bones)[:33].astype(float) + rng.normal(0, 1.0, (33, 2))
    axis = np.array([_FIGURE["hip"], _FIGURE["shoulder"], _FIGURE["ear"]], dtype=float)
    # The near thigh's and shin's sections: (centres, along, across, scan length).
    limbs = [limb_section_layout(_FIGURE[a], _FIGURE[b], depth.shape) for a, b in LIMBS]
    return {
        "depth": depth,
        "rgb": rgb,
        "mask": person,
        "landmarks": landmarks,
        "axis": axis,
        "limbs": limbs,
    }


def depth_work(impl, frame: dict, cloud_out: np.ndarray) -> tuple:
    """All depth work of one frame: lift 33 landmarks, floor fit on a subsampled cloud,
    back profile, the thigh's and shin's sections that place the knee and ankle."""
    depth = frame["depth"]
    lifted = impl.lift_landmarks(
        depth, frame["landmarks"], INTRINSICS, DEPTH_SCALE, LIFT_RADIUS_PX, mask=frame["mask"]
    )
    cloud = impl.deproject_depth(depth, INTRINSICS, DEPTH_SCALE, stride=FLOOR_STRIDE, out=cloud_out)
    floor = impl.fit_plane_ransac(
        cloud.reshape(-1, 3), FLOOR_ITERATIONS, 0.02, 0, up_hint=(0.0, -1.0, 0.0), max_tilt_deg=45.0
    )
    profile = impl.back_profile(
        depth, INTRINSICS, frame["axis"], 1.0, DEPTH_SCALE, PROFILE_STATIONS, mask=frame["mask"]
    )
    return lifted, floor, profile, limb_work(impl, frame)


def limb_work(impl, frame: dict) -> list[tuple]:
    """The thigh's and shin's sections (``limb_sections``), as the camera pipeline scans them."""
    depth, mask = frame["depth"], frame["mask"]
    return [
        impl.limb_sections(depth, mask, centres, across, steps, LIMB_DEPTH_TOL_M, DEPTH_SCALE)
        for centres, _, across, steps in frame["limbs"]
    ]


def _blazepose_seconds(rgb: np.ndarray, repeats: int) -> tuple[float | None, str]:
    """Median seconds of one BlazePose inference, as the camera node runs it (tracking mode)."""
    from .pose import PoseEstimator, PoseModelError

    try:
        pose = PoseEstimator(segmentation=False)
    except PoseModelError as exc:
        return None, str(exc)
    try:
        found = pose.process(rgb) is not None  # warm-up (and model load)
        seconds = _median_time(lambda: pose.process(rgb), repeats)
    finally:
        pose.close()
    how = "person found: landmark model per frame" if found else "no person found: detector per frame"
    return seconds, how


def run_benchmarks(repeats: int = 200, quick: bool = False) -> list[tuple[str, float, float]]:
    """Time every kernel (C++ and numpy) and the per-frame depth work; print the table."""
    if quick:
        repeats = 3
    frame = synthetic_rgbd_frame()
    depth = frame["depth"]
    full_cpp = kernels.deproject_depth(depth, INTRINSICS, DEPTH_SCALE)
    full_ref = full_cpp.copy()
    floor_cpp = kernels.deproject_depth(depth, INTRINSICS, DEPTH_SCALE, stride=FLOOR_STRIDE)
    floor_ref = floor_cpp.copy()
    floor_cloud = floor_cpp.reshape(-1, 3)
    slow_repeats = max(3, repeats // 10)  # the numpy RANSAC and full frames take milliseconds
    cases: list[tuple[str, Callable[[object], object], int]] = [
        (
            f"lift_landmarks 33 lm r={LIFT_RADIUS_PX} masked",
            lambda k: k.lift_landmarks(
                depth, frame["landmarks"], INTRINSICS, DEPTH_SCALE, LIFT_RADIUS_PX, mask=frame["mask"]
            ),
            repeats,
        ),
        (
            "deproject_depth 640x480",
            lambda k: k.deproject_depth(
                depth, INTRINSICS, DEPTH_SCALE, out=full_cpp if k is kernels else full_ref
            ),
            slow_repeats,
        ),
        (
            f"fit_plane_ransac {len(floor_cloud)} pts",
            lambda k: k.fit_plane_ransac(floor_cloud, FLOOR_ITERATIONS, 0.02, 0, (0.0, -1.0, 0.0), 45.0),
            slow_repeats,
        ),
        (
            f"back_profile {PROFILE_STATIONS} stations masked",
            lambda k: k.back_profile(
                depth, INTRINSICS, frame["axis"], 1.0, DEPTH_SCALE, PROFILE_STATIONS, mask=frame["mask"]
            ),
            repeats,
        ),
        (
            f"limb_sections 2 x {len(LIMB_SECTIONS)} sections",
            lambda k: limb_work(k, frame),
            repeats,
        ),
    ]
    for n in (3, 60, 480):
        pts = back_profile_like_points(n)
        cases.append((f"robust_line_fit n={n}", lambda k, p=pts: k.robust_line_fit(p), repeats))
    cases.append(
        (
            "all depth work per frame",
            lambda k: depth_work(k, frame, floor_cpp if k is kernels else floor_ref),
            slow_repeats,
        )
    )
    rows = []
    for name, call, n_repeats in cases:
        cpp = _median_time(lambda c=call: c(kernels), n_repeats)
        ref = _median_time(lambda c=call: c(kernels_ref), n_repeats)
        rows.append((name, cpp, ref))
    print(f"640x480 frame, median of repeats ({'quick' if quick else 'full'} run)")
    print(f"{'kernel':<30} {'C++ us':>9} {'numpy us':>10} {'ratio':>7}")
    for name, cpp, ref in rows:
        print(f"{name:<30} {cpp * 1e6:>9.1f} {ref * 1e6:>10.1f} {ref / cpp:>6.1f}x")
    pose_s, how = _blazepose_seconds(frame["rgb"], max(3, repeats // 10))
    work_cpp, work_ref = rows[-1][1], rows[-1][2]
    if pose_s is None:
        print(f"BlazePose: not timed ({how})")
    else:
        print(f"BlazePose (model_complexity=1) inference: {pose_s * 1e3:.2f} ms ({how})")
        print(
            f"all depth work per frame: C++ {work_cpp * 1e3:.3f} ms = {100 * work_cpp / pose_s:.1f}% "
            f"of one inference (target < 10%); numpy {work_ref * 1e3:.3f} ms = "
            f"{100 * work_ref / pose_s:.1f}%"
        )
    return rows


def run_camera_benchmark(recording: str, frames: int = 150, align: bool = False) -> dict[str, float]:
    """The camera node's per-frame time split on a RealSense recording, and its overhead over pose.

    Every stage runs the node's own code: the pyrealsense2 pipeline (capture and
    decode, optional rs.align, conversion), BlazePose, lifting with the back
    profile, the one-euro filter, and message packing plus a DDS publish.
    """
    import rclpy
    from rclpy.context import Context
    from rclpy.node import Node
    from sensor_msgs.msg import PointCloud2
    from std_msgs.msg import Header

    from .camera_pipeline import CameraPipeline
    from .messages import back_profile_to_cloud, skeleton_to_cloud
    from .pose import PoseEstimator
    from .sources import RealSenseSource

    source = RealSenseSource(recording=recording, align=align)
    pipeline = CameraPipeline(PoseEstimator())
    context = Context()
    rclpy.init(context=context)
    node = Node("camera_benchmark", context=context)
    skeleton_pub = node.create_publisher(PointCloud2, "skeleton", 2)
    back_pub = node.create_publisher(PointCloud2, "skeleton/back_profile", 2)
    stages: dict[str, list[float]] = {
        k: [] for k in ("capture", "align", "convert", "pose", "lift", "filter", "publish")
    }
    found = 0
    try:
        for _ in range(frames):
            frame = source.read()
            if frame is None:
                break
            skeleton = pipeline.process(frame)
            start = time.perf_counter()
            header = Header(stamp=node.get_clock().now().to_msg(), frame_id="camera_color_optical_frame")
            if skeleton is not None:
                found += 1
                if skeleton.back is not None:
                    back_pub.publish(back_profile_to_cloud(skeleton.back, header))
                skeleton_pub.publish(skeleton_to_cloud(skeleton.landmarks, header))
            publish_ms = 1000.0 * (time.perf_counter() - start)
            for key, value in source.last_timings_ms.items():
                stages[key].append(value)
            if skeleton is not None:
                stages["pose"].append(skeleton.timings.pose_ms)
                stages["lift"].append(skeleton.timings.lift_ms)
                stages["filter"].append(skeleton.timings.filter_ms)
                stages["publish"].append(publish_ms)
    finally:
        source.close()
        pipeline.estimator.close()
        node.destroy_node()
        rclpy.shutdown(context=context)
    medians = {k: float(np.median(v)) if v else float("nan") for k, v in stages.items()}
    overhead = sum(v for k, v in medians.items() if k != "pose")
    print(f"{'stage':<10} {'median ms':>10}   ({found} frames with a person, {len(stages['capture'])} read)")
    for key, value in medians.items():
        print(f"{key:<10} {value:>10.2f}")
    ratio = overhead / medians["pose"]
    print(
        f"camera node overhead beyond pose: {overhead:.2f} ms = {100 * ratio:.0f}% of one inference "
        "(target <= 25%)"
    )
    return {**medians, "overhead_ratio": ratio}
