"""Frame sources of the camera node: a live RealSense, a RealSense recording, a video file or webcam,
and the synthetic athlete rendered live.

ROS-free. Every source yields ``Frame`` objects; a recording goes through the
same pyrealsense2 pipeline code as the live camera. ``LatestFrame`` runs a
source in a thread and keeps only the newest frame, so frames are dropped,
never queued, when processing falls behind.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RECORDING_STALL_S = 30.0  # a recording that yields nothing for this long is broken, not slow


class SourceError(RuntimeError):
    """A source cannot be opened or read; the message says what was looked for and what to do."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of the color stream (aligned depth shares them).

    The defaults are a D435 color camera at 640x480, which the synthetic athlete renders.
    """

    width: int = 640
    height: int = 480
    fx: float = 615.3
    fy: float = 615.3
    cx: float = 321.7
    cy: float = 239.6

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) optical-frame points to (N, 2) pixel coordinates."""
        p = np.asarray(points, dtype=float)
        return np.stack(
            [self.fx * p[:, 0] / p[:, 2] + self.cx, self.fy * p[:, 1] / p[:, 2] + self.cy], axis=1
        )


@dataclass
class Frame:
    stamp_s: float  # the source's own time stamp (device clock, recording or video position)
    number: int
    color_rgb: np.ndarray  # (H, W, 3) uint8
    depth_m: np.ndarray | None  # (H, W) float32 metres aligned to color, 0 = no data; None for RGB-only
    intrinsics: Intrinsics | None
    arrival_s: float = 0.0  # system time when the frame was captured here: the messages' stamp


class RealSenseSource:
    """Live camera (by serial number) or a recording (.db3/.bag), through one pyrealsense2 pipeline.

    Depth is aligned to color with rs.align unless the recording already holds
    depth in the color geometry (``align=False``).
    """

    def __init__(
        self,
        serial: str = "",
        recording: str = "",
        width: int = 640,
        height: int = 480,
        fps: int = 30,
        align: bool = True,
        timeout_ms: int = 2000,
    ) -> None:
        try:
            import pyrealsense2 as rs
        except ImportError as exc:
            raise SourceError(
                f"pyrealsense2 is not importable ({exc}): "
                "install pyrealsense2 and the Debian package libusb-1.0-0"
            ) from None
        self._rs = rs
        self.serial, self.recording = serial, recording
        self.width, self.height, self.fps = width, height, fps
        self.align = align
        self.timeout_ms = timeout_ms
        self._pipeline = None
        self._aligner = rs.align(rs.stream.color) if align else None
        self._number = 0
        self.last_timings_ms: dict[str, float] = {}  # capture, align, convert of the last frame
        self.depth_scale = 0.001
        self.intrinsics: Intrinsics | None = None
        self.open()

    def open(self) -> None:
        rs = self._rs
        config = rs.config()
        if self.recording:
            path = Path(self.recording)
            if not path.is_file():
                raise SourceError(f"RealSense recording {path} not found")
            try:
                config.enable_device_from_file(str(path), repeat_playback=False)
            except RuntimeError as exc:
                raise SourceError(f"cannot open RealSense recording {path}: {exc}") from None
        else:
            serials = [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]
            if not serials:
                raise SourceError(
                    "no RealSense camera found (looked for any D4xx on USB): plug one in, check the cable "
                    "and udev rules, or use source:=recording / video / synthetic"
                )
            if self.serial and self.serial not in serials:
                raise SourceError(f"no RealSense with serial {self.serial}; connected: {', '.join(serials)}")
            if self.serial:
                config.enable_device(self.serial)
            config.enable_stream(rs.stream.color, self.width, self.height, rs.format.rgb8, self.fps)
            config.enable_stream(rs.stream.depth, self.width, self.height, rs.format.z16, self.fps)
        pipeline = rs.pipeline()
        try:
            profile = pipeline.start(config)
        except RuntimeError as exc:
            raise SourceError(f"RealSense pipeline failed to start: {exc}") from None
        device = profile.get_device()
        if self.recording:
            self._playback = device.as_playback()
            self._playback.set_real_time(False)  # every recorded frame, not the wall-clock subset
        self.depth_scale = device.first_depth_sensor().get_depth_scale()
        color = profile.get_stream(rs.stream.color).as_video_stream_profile().get_intrinsics()
        self.intrinsics = Intrinsics(color.width, color.height, color.fx, color.fy, color.ppx, color.ppy)
        self._pipeline = pipeline

    def read(self) -> Frame | None:
        """The next frame; None at the end of a recording. SourceError when the camera stops answering."""
        if self._pipeline is None:
            self.open()
        start = time.perf_counter()
        while True:
            try:
                ok, frames = self._pipeline.try_wait_for_frames(self.timeout_ms)
            except RuntimeError as exc:
                raise SourceError(f"RealSense read failed: {exc}") from None
            if ok:
                break
            if self.recording:
                # A slow machine can starve playback past the timeout: only a stopped
                # playback is the end of the recording.
                if self._playback.current_status() == self._rs.playback_status.stopped:
                    return None
                if time.perf_counter() - start > RECORDING_STALL_S:
                    raise SourceError(f"{self.recording}: playback stalled (truncated or corrupt recording?)")
                continue
            self.close()
            raise SourceError(f"RealSense sent no frame for {self.timeout_ms} ms (unplugged?)")
        captured = time.perf_counter()
        if self._aligner is not None:
            frames = self._aligner.process(frames)
        aligned = time.perf_counter()
        color, depth = frames.get_color_frame(), frames.get_depth_frame()
        if not color or not depth:
            raise SourceError("RealSense frame set without color or depth")
        self._number += 1
        depth_m = np.asanyarray(depth.get_data()).astype(np.float32) * self.depth_scale
        self.last_timings_ms = {
            "capture": 1000.0 * (captured - start),
            "align": 1000.0 * (aligned - captured),
            "convert": 1000.0 * (time.perf_counter() - aligned),
        }
        return Frame(
            stamp_s=color.get_timestamp() / 1000.0,
            number=self._number,
            color_rgb=np.asanyarray(color.get_data()).copy(),
            depth_m=depth_m,
            intrinsics=self.intrinsics,
        )

    def close(self) -> None:
        if self._pipeline is not None:
            try:
                self._pipeline.stop()
            except RuntimeError:
                pass  # already stopped by an unplug
            self._pipeline = None


ROTATIONS_DEG = (0, 90, 180, 270)


class VideoSource:
    """A video file (a phone video in any orientation, 24-60 fps) or a webcam index; RGB only.

    Phones store a portrait video as landscape frames plus a display matrix
    (the mp4 track header) saying to turn them 90 or 270 deg. OpenCV's FFmpeg
    backend reads it (``CAP_PROP_ORIENTATION_META``) and by default turns the
    frames itself; here the backend's turning is switched off and the frames
    are turned in ``read``, so the rotation is explicit, reported, and can be
    overridden (``rotate_deg``) for a file whose metadata is missing or wrong.
    Time stamps are the container's presentation times, so a 24 or 60 fps (or
    variable frame rate) video keeps its real tempo.
    """

    def __init__(self, path_or_index: str, rotate_deg: int | None = None) -> None:
        import cv2

        self._cv2 = cv2
        if rotate_deg is not None and rotate_deg % 360 not in ROTATIONS_DEG:
            raise SourceError(f"video rotation must be one of {ROTATIONS_DEG} deg, not {rotate_deg}")
        target: str | int = int(path_or_index) if path_or_index.isdigit() else path_or_index
        if isinstance(target, str) and not Path(target).is_file():
            raise SourceError(f"video file {target} not found")
        self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            raise SourceError(f"cannot open video {path_or_index!r} (unknown format, or no such webcam)")
        # The display rotation (clockwise, deg) the container asks for; 0 without metadata.
        self.metadata_rotation_deg = int(round(self._cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360
        if self.metadata_rotation_deg not in ROTATIONS_DEG:
            self.metadata_rotation_deg = 0  # a skewed matrix: nothing a phone writes
        backend_turns = not self._cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
        wanted = self.metadata_rotation_deg if rotate_deg is None else rotate_deg % 360
        # A backend that cannot stop turning frames has applied the metadata already.
        self.rotation_deg = (wanted - (self.metadata_rotation_deg if backend_turns else 0)) % 360
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1.0 <= fps <= 1000.0 else 30.0
        self._number = 0
        self._last_stamp_s = -math.inf
        self._is_file = isinstance(target, str)

    def read(self) -> Frame | None:
        ok, bgr = self._cap.read()
        if not ok:
            if self._is_file:
                return None
            raise SourceError("webcam stopped delivering frames")
        self._number += 1
        stamp = self._file_stamp_s() if self._is_file else time.time()
        rgb = self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)
        if self.rotation_deg:
            rgb = np.ascontiguousarray(np.rot90(rgb, k=-(self.rotation_deg // 90)))  # clockwise
        return Frame(stamp, self._number, rgb, None, None)

    def _file_stamp_s(self) -> float:
        """The frame's presentation time; the nominal frame rate only where the container has none."""
        pts_s = self._cap.get(self._cv2.CAP_PROP_POS_MSEC) / 1000.0
        if not math.isfinite(pts_s) or pts_s <= self._last_stamp_s:
            pts_s = max(self._last_stamp_s + 1.0 / self.fps, (self._number - 1) / self.fps)
        self._last_stamp_s = pts_s
        return pts_s

    def close(self) -> None:
        self._cap.release()


class SyntheticCamera:
    """The synthetic athlete rendered to colour and aligned depth frame by frame, like a live camera.

    A first-class source for stations without a camera: the frames go through
    the same pose, lifting and filtering as a RealSense's. Frames render as
    fast as one core allows (about 27 fps at 640x480, `hinge-coach bench-render`); ``LatestFrame``
    paces them to the session's frame rate. It can be unplugged and plugged
    back in (``unplug``/``replug``) to exercise the station's recovery, with
    the same errors a RealSense gives.
    """

    def __init__(self, spec, loop: bool = False) -> None:  # spec: athlete.AthleteSpec
        from .athlete import generate
        from .render import Renderer

        self.spec = spec
        self.loop = loop
        self.session = generate(spec)
        self._renderer = Renderer()
        self.intrinsics: Intrinsics = self._renderer.intr
        self.fps = float(spec.fps)
        self.last_timings_ms: dict[str, float] = {}
        self._number = 0  # frames sent; the session repeats when looping
        self._plugged = True
        self._open = True

    def unplug(self) -> None:
        self._plugged = False

    def replug(self) -> None:
        self._plugged = True

    def open(self) -> None:
        if not self._plugged:
            raise SourceError("synthetic camera unplugged (looked for the simulated device)")
        self._open = True

    def read(self) -> Frame | None:
        """The next rendered frame; None at the end of the session unless looping."""
        from .athlete import body_for
        from .render import rgbd_frame

        if not self._plugged or not self._open:
            self._open = False
            raise SourceError("synthetic camera sent no frame (unplugged?)")
        if self._number >= len(self.session.poses) and not self.loop:
            return None
        i = self._number % len(self.session.poses)
        self._number += 1
        start = time.perf_counter()
        rendered = rgbd_frame(self.spec, body_for(self.spec, self.session.poses[i]), i, self._renderer)
        depth_m = rendered.depth.astype(np.float32) * np.float32(self._renderer.depth_model.depth_unit_m)
        self.last_timings_ms = {"render": 1000.0 * (time.perf_counter() - start)}
        return Frame(
            stamp_s=self._number / self.fps,  # keeps rising over loops, as a camera clock does
            number=self._number,
            color_rgb=rendered.color,
            depth_m=depth_m,
            intrinsics=self.intrinsics,
        )

    def close(self) -> None:
        self._open = False


class LatestFrame:
    """Reads a source in a background thread and keeps only the newest frame.

    ``dropped`` counts frames replaced before anybody took them. The thread
    ends at the end of a recording (``finished``) or on an error (``error``);
    a live camera that stops answering (unplugged) is reopened every
    ``retry_s`` until it comes back, with ``state`` saying so meanwhile.
    """

    def __init__(
        self,
        source: RealSenseSource | VideoSource | SyntheticCamera,
        pace_fps: float | None = None,
        reconnect: bool = False,
        retry_s: float = 1.0,
    ) -> None:
        self.source = source
        self.pace_fps = pace_fps  # play files at their frame rate, like a camera
        self.reconnect = reconnect
        self.retry_s = retry_s
        self.dropped = 0
        self.captured = 0
        self.finished = False
        self.error: str | None = None
        self.state = "streaming"
        self._frame: Frame | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_due = time.monotonic()
        while not self._stop.is_set():
            try:
                frame = self.source.read()
            except SourceError as exc:
                if not self.reconnect:
                    self.error = str(exc)
                    break
                self.state = f"reconnecting: {exc}"
                self._reopen()
                continue
            if frame is None:
                self.finished = True
                break
            frame.arrival_s = time.time()
            with self._lock:
                if self._frame is not None:
                    self.dropped += 1
                self._frame = frame
                self.captured += 1
            if self.pace_fps:
                next_due += 1.0 / self.pace_fps
                self._stop.wait(max(0.0, next_due - time.monotonic()))

    def _reopen(self) -> None:
        while not self._stop.wait(self.retry_s):
            try:
                self.source.open()
            except SourceError as exc:
                self.state = f"reconnecting: {exc}"
                continue
            self.state = "streaming"
            return

    def take(self) -> Frame | None:
        with self._lock:
            frame, self._frame = self._frame, None
        return frame

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.source.close()
