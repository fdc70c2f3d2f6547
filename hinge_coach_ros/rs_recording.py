"""RealSense recordings of the synthetic athlete, written and read with pyrealsense2.

A recording is what ``rs.recorder`` writes for a RealSense device (rosbag2,
``.db3``, pyrealsense2 2.59): a depth stream (z16, 1 mm units) and a colour
stream (rgb8), both 640x480 at 30 fps, frame numbers from 0. The depth is
already aligned to colour: it is written with the colour camera's intrinsics
and an identity depth-to-colour extrinsic, so no align step is needed. Depth
units travel on the sensor (``depth_units`` option) and on every frame:
without them playback reports a depth scale of 0 and ``rs.align`` turns all
depth into zeros. Even with them, aligning this already-aligned depth leaves
empty rows and columns (align's pixel-corner rounding), so do not align it.

Next to it, ``<name>.truth.json`` holds what the athlete knows for every frame
(see ``session_io.write_rgbd_truth`` and the README).

``embedded_rgbd_session()`` gives the default RGB-D session (5 dowel reps:
clean, rounded back, squatting, banana back, clean), rendered on first use
into the user's cache directory and reused afterwards.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import multiprocessing
import multiprocessing.pool
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .athlete import RGBD_DEMO_SPEC, AthleteSpec, Session, body_for, generate
from .render import Intrinsics, Renderer, rgbd_frame

RECORDING_NAME = "rgbd.db3"
# Cached sessions are keyed by the spec and by the source of the modules that
# make them, so a changed body model, renderer or truth writer renders anew.
_SOURCES = ("athlete.py", "dowel.py", "render.py", "rs_recording.py", "session_io.py")


class RecordingError(RuntimeError):
    """A recording is missing, unreadable or not what we wrote; the message says what to do."""


def _rs():
    try:
        import pyrealsense2 as rs
    except ImportError as exc:  # pragma: no cover - pinned in requirements.txt
        raise RecordingError(
            f"pyrealsense2 is not importable ({exc}): install it (pip install pyrealsense2) "
            "and the libusb-1.0-0 system library"
        ) from None
    return rs


class RealSenseWriter:
    """Writes aligned colour + depth frames as a RealSense recording (rs.software_device + rs.recorder)."""

    def __init__(
        self, path: Path, intrinsics: Intrinsics, fps: int = 30, depth_unit_m: float = 0.001
    ) -> None:
        rs = _rs()
        self.rs = rs
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.suffix != ".db3":
            raise RecordingError(f"{self.path}: pyrealsense2 2.59 writes rosbag2 files, name it *.db3")
        if self.path.exists():
            self.path.unlink()
        self.intr = intrinsics
        self.depth_unit_m = depth_unit_m
        ri = rs.intrinsics()
        ri.width, ri.height = intrinsics.width, intrinsics.height
        ri.fx, ri.fy, ri.ppx, ri.ppy = intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy
        ri.model = rs.distortion.brown_conrady
        ri.coeffs = [0.0] * 5
        self.device = rs.software_device()
        self.device.register_info(rs.camera_info.name, "Synthetic athlete (hinge_coach_ros)")
        self.device.register_info(rs.camera_info.serial_number, "000000000000")
        self.depth_sensor = self.device.add_sensor("Stereo Module")
        self.color_sensor = self.device.add_sensor("RGB Camera")

        def stream(kind, uid, fmt, bpp):
            vs = rs.video_stream()
            vs.type, vs.index, vs.uid = kind, 0, uid
            vs.width, vs.height, vs.fps, vs.bpp, vs.fmt = intrinsics.width, intrinsics.height, fps, bpp, fmt
            vs.intrinsics = ri
            return vs

        self.depth_profile = self.depth_sensor.add_video_stream(stream(rs.stream.depth, 0, rs.format.z16, 2))
        self.color_profile = self.color_sensor.add_video_stream(stream(rs.stream.color, 1, rs.format.rgb8, 3))
        self.depth_sensor.add_read_only_option(rs.option.depth_units, depth_unit_m)
        identity = rs.extrinsics()
        identity.rotation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        identity.translation = [0.0, 0.0, 0.0]
        # Depth is aligned to colour already: the two streams share one frame.
        self.depth_profile.register_extrinsics_to(self.color_profile, identity)
        self.device.create_matcher(rs.matchers.dlr_c)
        self.recorder = rs.recorder(str(self.path), self.device, True)
        self.depth_sensor.open(self.depth_profile)
        self.color_sensor.open(self.color_profile)
        self.depth_sensor.start(lambda frame: None)
        self.color_sensor.start(lambda frame: None)
        self.frames = 0
        self.fps = fps

    def write(self, frame_number: int, color: np.ndarray, depth: np.ndarray) -> None:
        rs = self.rs
        i = self.intr
        if color.shape != (i.height, i.width, 3) or color.dtype != np.uint8:
            raise ValueError(
                f"colour must be uint8 ({i.height}, {i.width}, 3), got {color.dtype} {color.shape}"
            )
        if depth.shape != (i.height, i.width) or depth.dtype != np.uint16:
            raise ValueError(f"depth must be uint16 ({i.height}, {i.width}), got {depth.dtype} {depth.shape}")
        stamp_ms = frame_number * 1000.0 / self.fps
        for sensor, profile, pixels, bpp in (
            (self.depth_sensor, self.depth_profile, np.ascontiguousarray(depth), 2),
            (self.color_sensor, self.color_profile, np.ascontiguousarray(color), 3),
        ):
            f = rs.software_video_frame()
            f.pixels = pixels
            f.stride = i.width * bpp
            f.bpp = bpp
            f.timestamp = stamp_ms
            f.domain = rs.timestamp_domain.hardware_clock
            f.frame_number = frame_number
            f.profile = profile.as_video_stream_profile()
            if bpp == 2:
                f.depth_units = self.depth_unit_m  # align and get_distance read the units from the frame
            sensor.on_video_frame(f)
        self.frames += 1

    def close(self) -> None:
        for sensor in (self.depth_sensor, self.color_sensor):
            sensor.stop()
            sensor.close()
        del self.recorder  # the recorder finishes the file when it is released
        self.recorder = None

    def __enter__(self) -> RealSenseWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class RecordedFrame:
    frame_number: int
    timestamp_ms: float
    color: np.ndarray  # (H, W, 3) uint8 RGB
    depth: np.ndarray  # (H, W) uint16


@dataclass
class RecordingInfo:
    width: int
    height: int
    fps: int
    depth_scale_m: float
    color_intrinsics: tuple[float, float, float, float]  # fx, fy, cx, cy
    depth_intrinsics: tuple[float, float, float, float]
    depth_to_color_translation_m: tuple[float, float, float]


def read_recording(path: Path, timeout_s: float = 120.0) -> tuple[RecordingInfo, Iterator[RecordedFrame]]:
    """Open a recording through pyrealsense2's playback and read every frame, in order.

    Frames come from the playback device's sensors (not the pipeline's
    syncer, which may drop or repeat frames when it pairs streams), with
    playback.set_real_time(False) so none is skipped.
    """
    rs = _rs()
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"recording {path} not found: write one with 'hinge-coach synth OUT_DIR'")
    try:
        device = rs.context().load_device(str(path))
    except RuntimeError as exc:
        raise RecordingError(f"{path}: not a readable RealSense recording ({exc})") from None
    playback = device.as_playback()
    playback.set_real_time(False)
    sensors = device.query_sensors()
    profiles = {}
    for sensor in sensors:
        for p in sensor.get_stream_profiles():
            profiles[p.stream_type()] = (sensor, p.as_video_stream_profile())
    if rs.stream.depth not in profiles or rs.stream.color not in profiles:
        raise RecordingError(f"{path}: needs a depth and a colour stream")
    depth_sensor, depth_profile = profiles[rs.stream.depth]
    color_sensor, color_profile = profiles[rs.stream.color]
    ci, di = color_profile.get_intrinsics(), depth_profile.get_intrinsics()
    try:
        extr = depth_profile.get_extrinsics_to(color_profile)
        translation = tuple(float(v) for v in extr.translation)
    except RuntimeError:
        translation = (float("nan"),) * 3
    info = RecordingInfo(
        width=ci.width,
        height=ci.height,
        fps=color_profile.fps(),
        depth_scale_m=float(depth_sensor.as_depth_sensor().get_depth_scale()),
        color_intrinsics=(ci.fx, ci.fy, ci.ppx, ci.ppy),
        depth_intrinsics=(di.fx, di.fy, di.ppx, di.ppy),
        depth_to_color_translation_m=translation,  # type: ignore[arg-type]
    )

    def frames() -> Iterator[RecordedFrame]:
        lock = threading.Condition()
        depth: dict[int, tuple[float, np.ndarray]] = {}
        color: dict[int, np.ndarray] = {}

        def on_frame(frame) -> None:
            data = np.asanyarray(frame.get_data()).copy()
            with lock:
                if frame.get_profile().stream_type() == rs.stream.depth:
                    depth[frame.get_frame_number()] = (frame.get_timestamp(), data)
                else:
                    color[frame.get_frame_number()] = data
                lock.notify_all()

        depth_sensor.open(depth_profile)
        color_sensor.open(color_profile)
        depth_sensor.start(on_frame)
        color_sensor.start(on_frame)
        try:
            start = time.monotonic()
            # Playback starts with the sensors; wait for it to begin, then to end.
            while playback.current_status() == rs.playback_status.stopped and not depth and not color:
                if time.monotonic() - start > 5.0:
                    break
                time.sleep(0.005)
            while playback.current_status() != rs.playback_status.stopped:
                if time.monotonic() - start > timeout_s:
                    raise RecordingError(f"{path}: playback did not finish within {timeout_s:.0f} s")
                time.sleep(0.02)
            with lock:
                numbers = sorted(set(depth) & set(color))
            for n in numbers:
                stamp, d = depth.pop(n)
                yield RecordedFrame(n, stamp, color.pop(n), d)
        finally:
            for sensor in (depth_sensor, color_sensor):
                try:
                    sensor.stop()
                    sensor.close()
                except RuntimeError:
                    pass

    return info, frames()


# --- rendering whole sessions -------------------------------------------------

_worker_renderer: Renderer | None = None


def _render_task(task: tuple[AthleteSpec, object, int]) -> tuple[int, np.ndarray, np.ndarray]:
    global _worker_renderer
    spec, pose, index = task
    if _worker_renderer is None:
        _worker_renderer = Renderer()
    frame = rgbd_frame(spec, body_for(spec, pose), index, _worker_renderer)
    return index, frame.color, frame.depth


def render_frames(
    spec: AthleteSpec, session: Session, pool: multiprocessing.pool.Pool | None = None
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(index, colour, depth) of every frame, in order, rendered by ``pool`` if given.

    Every frame has its own random generator (seed, frame index), so the
    frames are the same whatever the number of workers.
    """
    tasks = ((spec, pose, i) for i, pose in enumerate(session.poses))
    if pool is None:
        yield from map(_render_task, tasks)
    else:
        yield from pool.imap(_render_task, tasks, chunksize=4)


def render_pool(workers: int | None = None) -> multiprocessing.pool.Pool | None:
    """Worker processes for rendering (None for one worker: render in this process).

    Forked; the workers only ever run numpy, and the frames do not depend on
    the number of workers. A forked worker inherits the parent's objects: one
    whose garbage collector freed a RealSense playback the parent had dropped
    hung for good in its destructor (a test run that had played a recording).
    So the parent frees its garbage first, where that is safe, and what is
    left is frozen while the workers are forked: their collector never visits it.
    """
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers <= 1:
        return None
    gc.collect()
    gc.freeze()
    try:
        return multiprocessing.get_context("fork").Pool(workers)  # forks every worker now
    finally:
        gc.unfreeze()


def write_rgbd_session(spec: AthleteSpec, out_dir: Path, workers: int | None = None) -> tuple[Path, Path]:
    """Render the athlete to ``out_dir/rgbd.db3`` and its truth to ``out_dir/rgbd.truth.json``."""
    from .session_io import truth_path, write_rgbd_truth

    out_dir = Path(out_dir)
    session = generate(spec)
    intr = Intrinsics()
    path = out_dir / RECORDING_NAME
    tmp = out_dir / (".partial-" + RECORDING_NAME)
    pool = render_pool(workers)
    try:
        with RealSenseWriter(tmp, intr, fps=int(round(spec.fps))) as writer:
            for index, color, depth in render_frames(spec, session, pool):
                writer.write(index, color, depth)
    finally:
        if pool is not None:
            pool.terminate()
    tmp.replace(path)
    write_rgbd_truth(spec, session, intr, truth_path(path))
    return path, truth_path(path)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hinge_coach_ros"


def _spec_key(spec: AthleteSpec) -> str:
    digest = hashlib.sha256(json.dumps(asdict(spec), sort_keys=True, default=str).encode())
    for name in _SOURCES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:12]


def embedded_rgbd_session(spec: AthleteSpec = RGBD_DEMO_SPEC, workers: int | None = None) -> Path:
    """Path of the default RGB-D recording, rendered into the cache on first use (about a minute)."""
    directory = cache_dir() / f"rgbd-{_spec_key(spec)}"
    path = directory / RECORDING_NAME
    done = directory / "complete"
    if done.is_file():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    # One renderer at a time: a second process waits, then finds it done.
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_file():
            write_rgbd_session(spec, directory, workers)
            done.write_text("rendered by hinge_coach_ros\n")
    return path
