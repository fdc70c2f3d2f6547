"""camera_node: owns the capture source and the pose model; publishes the 3D skeleton.

Skeleton sources ('session', and 'synthetic' with synthetic_render 'skeleton')
play landmarks at their frame rate. Frame sources ('realsense', 'recording',
'video', 'topics', and 'synthetic' rendered as RGB-D) go through the camera
pipeline: BlazePose, depth lifting, one-euro filter. Capture runs in its own
thread and only the newest frame is kept, so frames are dropped, not queued,
when processing falls behind. Heavy images stay in this process,
republished under the realsense-ros names only at ``images_rate_hz``.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point, Vector3, Vector3Stamped
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, Image, PointCloud2
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from ..athlete import AthleteSpec, CameraPlacement, generate, parse_fault
from ..kernels import deproject_depth
from ..landmarks import BONES, INDEX, empty_skeleton
from ..messages import back_profile_to_cloud, colored_cloud, skeleton_to_cloud
from ..session_io import SkeletonStream, embedded_session_path, read_session
from ..sources import (
    Frame,
    Intrinsics,
    LatestFrame,
    RealSenseSource,
    SourceError,
    SyntheticCamera,
    VideoSource,
)
from .common import SENSOR_QOS, declare_schema, run_node

FRAME_ID = "camera_color_optical_frame"
# realsense-ros names (relative, so they sit under the station's namespace).
COLOR_TOPIC = "camera/color/image_raw"
COLOR_INFO_TOPIC = "camera/color/camera_info"
DEPTH_TOPIC = "camera/aligned_depth_to_color/image_raw"
DEPTH_INFO_TOPIC = "camera/aligned_depth_to_color/camera_info"
POINTS_TOPIC = "camera/depth/color/points"
CLOUD_STRIDE = 4  # every 4th pixel: 160x120 points, enough to see the person and the floor in RViz


def plays_skeleton(params: dict[str, Any]) -> bool:
    """Whether the source gives landmarks directly (no pose model, no images)."""
    return params["source"] == "session" or (
        params["source"] == "synthetic" and params["synthetic_render"] == "skeleton"
    )


def synthetic_spec(params: dict[str, Any]) -> AthleteSpec:
    """The synthetic athlete the parameters describe; SourceError naming a bad fault."""
    faults: dict[int, dict[str, float]] = {}
    try:
        for text in str(params["synthetic_faults"]).split():
            rep, fault_id, magnitude = parse_fault(text)
            faults.setdefault(rep, {})[fault_id] = magnitude
        return AthleteSpec(
            preset=params["synthetic_preset"],
            reps=params["synthetic_reps"],
            faults=faults,
            camera=CameraPlacement(view=params["synthetic_view"]),
        )
    except ValueError as exc:
        raise SourceError(f"camera_node.synthetic_faults: {exc}") from None


def load_stream(params: dict[str, Any]) -> SkeletonStream:
    """The skeleton frames the parameters ask for; SessionFileError on a bad file."""
    if params["source"] == "synthetic":
        session = generate(synthetic_spec(params))
        return SkeletonStream(session.fps, FRAME_ID, session.up_optical, session.times_s, session.landmarks)
    path = params["session_file"] or str(embedded_session_path())
    return read_session(path)


def open_frame_source(
    params: dict[str, Any],
) -> tuple[RealSenseSource | VideoSource | SyntheticCamera, float | None, bool]:
    """(source, pace in fps for files, reconnect on loss); SourceError names what was looked for."""
    source = params["source"]
    if source == "synthetic":
        camera = SyntheticCamera(synthetic_spec(params), loop=params["loop"])
        return camera, camera.fps, True
    if source == "realsense":
        rs = RealSenseSource(
            serial=params["serial"], width=params["width_px"], height=params["height_px"], fps=params["fps"]
        )
        return rs, None, True
    if source == "recording":
        if not params["recording_file"]:
            raise SourceError("source 'recording' needs recording_file: the path of a .db3 recording")
        rs = RealSenseSource(recording=params["recording_file"], align=params["align_depth"])
        return rs, float(params["fps"]), False
    if not params["video_file"]:
        raise SourceError("source 'video' needs video_file: a video path or a webcam index such as '0'")
    rotation = params["video_rotation"]
    video = VideoSource(params["video_file"], rotate_deg=None if rotation == "auto" else int(rotation))
    return video, (video.fps if not params["video_file"].isdigit() else None), False


class CameraNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("camera_node", **kwargs)
        self.params = declare_schema(self, "camera_node", self._on_params)
        self.finished = False
        self.frames_published = 0
        self.stream: SkeletonStream | None = None
        self.capture: LatestFrame | None = None
        self.pipeline = None
        self.device_state = "starting"
        self._pose_ms: deque[float] = deque(maxlen=60)
        self._published_at: deque[float] = deque(maxlen=60)
        self._last_images_s = 0.0
        self._topic_frames: dict[str, deque] = {}
        self._skeleton_pub = self.create_publisher(PointCloud2, "skeleton", SENSOR_QOS)
        self._back_pub = self.create_publisher(PointCloud2, "skeleton/back_profile", SENSOR_QOS)
        self._floor_pub = self.create_publisher(Vector3Stamped, "floor/up", SENSOR_QOS)
        self._marker_pub = self.create_publisher(MarkerArray, "skeleton/markers", SENSOR_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        self.create_timer(1.0, self._publish_diagnostics)
        source = self.params["source"]
        if plays_skeleton(self.params):
            try:
                self.stream = load_stream(self.params)
            except SourceError as exc:
                self.get_logger().error(str(exc))
                self._end(f"error: {exc}")
                return
            self._index = 0
            self._tick_timer = None
            self._start_timer = self.create_timer(float(self.params["start_delay_s"]) or 1e-3, self._start)
            self.get_logger().info(
                f"source '{source}': {len(self.stream.times_s)} frames at {self.stream.fps:g} fps"
            )
            return
        self._start_pipeline()
        self._image_pubs = {}
        if source == "topics":
            self._subscribe_driver()
        else:
            try:
                frame_source, pace, reconnect = open_frame_source(self.params)
            except SourceError as exc:
                # Stay up with diagnostics saying why: a station's monitor sees the error.
                self.get_logger().error(str(exc))
                self._end(f"error: {exc}")
                return
            self.capture = LatestFrame(frame_source, pace_fps=pace, reconnect=reconnect)
            self._image_pubs = {
                topic: self.create_publisher(kind, topic, SENSOR_QOS)
                for topic, kind in (
                    (COLOR_TOPIC, Image),
                    (COLOR_INFO_TOPIC, CameraInfo),
                    (DEPTH_TOPIC, Image),
                    (DEPTH_INFO_TOPIC, CameraInfo),
                    (POINTS_TOPIC, PointCloud2),
                )
            }
        self.create_timer(1.0 / (2.0 * float(self.params["fps"])), self._poll)
        self.device_state = "streaming"
        self.get_logger().info(f"source '{source}' open")

    def _on_params(self, changed: dict[str, Any]) -> None:
        self.params.update(changed)  # images_rate_hz is read at each frame

    # -- skeleton sources ----------------------------------------------------

    def _start(self) -> None:
        self._start_timer.cancel()
        self._tick_timer = self.create_timer(1.0 / self.stream.fps, self._tick)

    def _tick(self) -> None:
        if self._index >= len(self.stream.times_s):
            if not self.params["loop"]:
                self._end("session finished")
                return
            self._index = 0
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.stream.frame_id)
        if self.stream.up_given:
            # The file states its vertical ('# up:'): the alignment node takes it as it takes a
            # floor fit, as `hinge-coach analyze` takes it in place of --up.
            x, y, z = (float(v) for v in self.stream.up_optical)
            self._floor_pub.publish(Vector3Stamped(header=header, vector=Vector3(x=x, y=y, z=z)))
        self._publish_skeleton(self.stream.landmarks[self._index], header)
        self._index += 1

    def _end(self, why: str) -> None:
        self.finished = True
        self.device_state = why
        if getattr(self, "_tick_timer", None) is not None:
            self._tick_timer.cancel()
        if not why.startswith("error"):
            self.get_logger().info(why)

    # -- frame sources -------------------------------------------------------

    def _start_pipeline(self) -> None:
        from ..camera_pipeline import CameraPipeline
        from ..pose import PoseEstimator

        zone = [int(v) for v in self.params["zone_px"]]
        self.pipeline = CameraPipeline(
            PoseEstimator(
                min_detection_confidence=self.params["min_pose_confidence"],
                min_tracking_confidence=self.params["min_pose_confidence"],
                zone_px=tuple(zone) if any(zone) else None,
            ),
            window_radius_px=self.params["lift_window_px"],
            min_cutoff_hz=self.params["filter_min_cutoff_hz"],
            beta=self.params["filter_beta"],
            lead=self.params["filter_lead"],
        )

    def _poll(self) -> None:
        try:
            frame = self._take_frame()
        except (ValueError, SourceError) as exc:
            # A driver's malformed or unaligned image: skip that frame, keep the node up.
            self.get_logger().error(f"frame skipped: {exc}", throttle_duration_sec=5.0)
            return
        if frame is None:
            if self.capture is not None:
                if self.capture.error and not self.finished:
                    self.get_logger().error(self.capture.error)
                    self._end(f"error: {self.capture.error}")  # diagnostics keep reporting it
                elif self.capture.finished and not self.finished:
                    self._end("recording finished")
                elif not self.finished:
                    self.device_state = self.capture.state
            return
        # Stamped with the capture time, so latency can be measured at every hop.
        stamp = Time(nanoseconds=int(frame.arrival_s * 1e9)) if frame.arrival_s else self.get_clock().now()
        skeleton = self.pipeline.process(frame)
        header = Header(stamp=stamp.to_msg(), frame_id=FRAME_ID)
        if skeleton is not None:
            self._pose_ms.append(skeleton.timings.pose_ms)
            # Back profile and floor first, so they are there when the skeleton of their frame arrives.
            if skeleton.back is not None:
                self._back_pub.publish(back_profile_to_cloud(skeleton.back, header))
            if skeleton.up is not None:
                x, y, z = (float(v) for v in skeleton.up)
                self._floor_pub.publish(Vector3Stamped(header=header, vector=Vector3(x=x, y=y, z=z)))
            self._publish_skeleton(skeleton.landmarks, header)
        else:
            self._publish_skeleton(
                empty_skeleton(), header
            )  # "nobody here" is news for the alignment node too
        self._publish_images(frame, header)

    def _take_frame(self) -> Frame | None:
        if self.capture is not None:
            return self.capture.take()
        return self._match_driver_frames()

    def _publish_images(self, frame: Frame, header: Header) -> None:
        rate = float(self.params["images_rate_hz"])
        now = time.monotonic()
        if self.capture is None or rate <= 0.0 or now - self._last_images_s < 1.0 / rate:
            return
        self._last_images_s = now
        h, w = frame.color_rgb.shape[:2]
        color = Image(
            header=header, height=h, width=w, encoding="rgb8", step=3 * w, data=frame.color_rgb.tobytes()
        )
        self._image_pubs[COLOR_TOPIC].publish(color)
        if frame.intrinsics is not None:
            info = camera_info(frame.intrinsics, header)
            self._image_pubs[COLOR_INFO_TOPIC].publish(info)
            self._image_pubs[DEPTH_INFO_TOPIC].publish(info)
        if frame.depth_m is not None:
            depth_mm = np.clip(frame.depth_m * 1000.0, 0, 65535).astype(np.uint16)
            self._image_pubs[DEPTH_TOPIC].publish(
                Image(header=header, height=h, width=w, encoding="16UC1", step=2 * w, data=depth_mm.tobytes())
            )
            if frame.intrinsics is not None and self._image_pubs[POINTS_TOPIC].get_subscription_count() > 0:
                k = frame.intrinsics
                points = deproject_depth(
                    frame.depth_m, (k.fx, k.fy, k.cx, k.cy), depth_scale=1.0, stride=CLOUD_STRIDE
                )
                rgb = frame.color_rgb[::CLOUD_STRIDE, ::CLOUD_STRIDE]
                self._image_pubs[POINTS_TOPIC].publish(colored_cloud(points, rgb, header))

    # -- 'topics': a running realsense-ros driver ------------------------------

    def _subscribe_driver(self) -> None:
        self._driver_info: CameraInfo | None = None
        for topic in (COLOR_TOPIC, DEPTH_TOPIC):
            self._topic_frames[topic] = deque(maxlen=5)  # bounded: old frames fall out
            self.create_subscription(
                Image, topic, lambda m, t=topic: self._topic_frames[t].append(m), SENSOR_QOS
            )
        self.create_subscription(CameraInfo, COLOR_INFO_TOPIC, self._on_driver_info, SENSOR_QOS)

    def _on_driver_info(self, msg: CameraInfo) -> None:
        self._driver_info = msg

    def _match_driver_frames(self) -> Frame | None:
        """The newest color and depth pair with the same capture stamp (older pairs are dropped).

        ValueError or SourceError for a pair that cannot be read; it is dropped all the same.
        """
        colors, depths = self._topic_frames[COLOR_TOPIC], self._topic_frames[DEPTH_TOPIC]
        if self._driver_info is None or not colors or not depths:
            return None
        by_stamp = {_stamp_key(m): m for m in depths}
        for color in reversed(colors):
            matched = _stamp_key(color)
            depth = by_stamp.get(matched)
            if depth is not None:
                # Only what is this old or older goes: a newer colour whose depth is still on
                # its way (or the other way round) is the next frame's half.
                for queue in (colors, depths):
                    newer = [m for m in queue if _stamp_key(m) > matched]
                    queue.clear()
                    queue.extend(newer)
                return frame_from_driver(color, depth, self._driver_info)
        return None

    # -- output ----------------------------------------------------------------

    def _publish_skeleton(self, landmarks: np.ndarray, header: Header) -> None:
        self._skeleton_pub.publish(skeleton_to_cloud(landmarks, header))
        if self._marker_pub.get_subscription_count() > 0:
            self._marker_pub.publish(skeleton_markers(landmarks, header))
        self.frames_published += 1
        self._published_at.append(time.monotonic())

    def _publish_diagnostics(self) -> None:
        fps = 0.0
        if len(self._published_at) > 1:
            fps = (len(self._published_at) - 1) / max(self._published_at[-1] - self._published_at[0], 1e-6)
        values = {
            "source": self.params["source"],
            "device_state": self.device_state,
            "fps": f"{fps:.1f}",
            "frames_published": str(self.frames_published),
        }
        if self.capture is not None:
            values["frames_dropped"] = str(self.capture.dropped)
        if self._pose_ms:
            values["inference_ms"] = f"{np.mean(self._pose_ms):.1f}"
        if (
            self.pipeline is not None
            and self.capture is not None
            and isinstance(self.capture.source, VideoSource)
        ):
            values["video_rotation_deg"] = str(self.capture.source.rotation_deg)
            # How far from side-on the camera looks: beyond 60 deg no hinge angles.
            values["view_yaw_deg"] = f"{self.pipeline.sagittal_lift.view_yaw_deg:.0f}"
        level = DiagnosticStatus.ERROR if self.device_state.startswith("error") else DiagnosticStatus.OK
        if self.device_state.startswith("reconnecting"):
            level = DiagnosticStatus.WARN
        status = DiagnosticStatus(
            level=level,
            name="camera_node: source",
            message=self.device_state,
            values=[KeyValue(key=k, value=v) for k, v in values.items()],
        )
        self._diag_pub.publish(
            DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[status])
        )

    def safe_shutdown(self) -> None:
        if self.capture is not None:
            self.capture.close()
        if self.pipeline is not None:
            self.pipeline.estimator.close()


def camera_info(k: Intrinsics, header: Header) -> CameraInfo:
    return CameraInfo(
        header=header,
        width=k.width,
        height=k.height,
        distortion_model="plumb_bob",
        d=[0.0] * 5,
        k=[k.fx, 0.0, k.cx, 0.0, k.fy, k.cy, 0.0, 0.0, 1.0],
        r=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        p=[k.fx, 0.0, k.cx, 0.0, 0.0, k.fy, k.cy, 0.0, 0.0, 0.0, 1.0, 0.0],
    )


def _stamp_key(msg: Image) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


def _check_image(msg: Image, bytes_per_pixel: int, what: str) -> None:
    """ValueError unless the image is non-empty and its step, size and data agree (sensor_msgs/Image:
    data holds step * height bytes, each row at least width pixels, in whole pixels)."""
    row_bytes = msg.width * bytes_per_pixel
    if (
        msg.width == 0
        or msg.height == 0
        or msg.step < row_bytes
        or msg.step % bytes_per_pixel
        or len(msg.data) != msg.step * msg.height
    ):
        raise ValueError(
            f"malformed {what} image ({msg.encoding}): {msg.width}x{msg.height} px, step {msg.step}, "
            f"{len(msg.data)} bytes of data; need width, height > 0, step >= {row_bytes} "
            f"(a multiple of {bytes_per_pixel}) and step * height bytes"
        )


def frame_from_driver(color: Image, depth: Image, info: CameraInfo) -> Frame:
    """A realsense-ros color + aligned-depth pair as a Frame (no cv_bridge: plain numpy).

    SourceError for an unsupported encoding, ValueError for a malformed image or a depth image
    of another size than the colour (not aligned to it).
    """
    if color.encoding not in ("rgb8", "bgr8") or depth.encoding not in ("16UC1", "32FC1"):
        raise SourceError(
            f"unsupported encodings {color.encoding}/{depth.encoding}: need rgb8|bgr8 and 16UC1|32FC1"
        )
    _check_image(color, 3, "colour")
    _check_image(depth, 2 if depth.encoding == "16UC1" else 4, "depth")
    if depth.is_bigendian:
        # Read as little-endian (as realsense-ros sends it), its bytes would be another depth.
        raise ValueError(
            "big-endian depth image: need little-endian (is_bigendian false), as realsense-ros sends"
        )
    if (depth.width, depth.height) != (color.width, color.height):
        raise ValueError(
            f"depth image {depth.width}x{depth.height} px is not the colour image's "
            f"{color.width}x{color.height}: subscribe to the depth aligned to colour ({DEPTH_TOPIC})"
        )
    rgb = np.frombuffer(bytes(color.data), np.uint8).reshape(color.height, color.step)[:, : 3 * color.width]
    rgb = rgb.reshape(color.height, color.width, 3)
    if color.encoding == "bgr8":
        rgb = rgb[:, :, ::-1]
    if depth.encoding == "16UC1":
        raw = np.frombuffer(bytes(depth.data), np.uint16).reshape(depth.height, depth.step // 2)[
            :, : depth.width
        ]
        depth_m = raw.astype(np.float32) / 1000.0  # realsense-ros publishes millimetres
    else:
        depth_m = np.frombuffer(bytes(depth.data), np.float32).reshape(depth.height, depth.step // 4)[
            :, : depth.width
        ]
    k = Intrinsics(info.width, info.height, info.k[0], info.k[4], info.k[2], info.k[5])
    stamp = Time.from_msg(color.header.stamp).nanoseconds * 1e-9
    return Frame(stamp, 0, np.ascontiguousarray(rgb), np.ascontiguousarray(depth_m), k, arrival_s=stamp)


def skeleton_markers(frame: np.ndarray, header: Header) -> MarkerArray:
    """Joints as spheres and bones as a line list, for RViz."""
    seen = np.isfinite(frame[:, :3]).all(axis=1) & (frame[:, 3] > 0.3)
    joints = Marker(header=header, ns="joints", id=0, type=Marker.SPHERE_LIST, action=Marker.ADD)
    joints.scale.x = joints.scale.y = joints.scale.z = 0.04
    joints.color = ColorRGBA(r=0.2, g=0.8, b=1.0, a=1.0)
    joints.pose.orientation.w = 1.0
    joints.lifetime = Duration(sec=0, nanosec=200_000_000)
    joints.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in frame[seen]]
    bones = Marker(header=header, ns="bones", id=1, type=Marker.LINE_LIST, action=Marker.ADD)
    bones.scale.x = 0.015
    bones.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
    bones.pose.orientation.w = 1.0
    bones.lifetime = joints.lifetime
    for a, b in BONES:
        ia, ib = INDEX[a], INDEX[b]
        if seen[ia] and seen[ib]:
            bones.points += [
                Point(x=float(frame[i, 0]), y=float(frame[i, 1]), z=float(frame[i, 2])) for i in (ia, ib)
            ]
    return MarkerArray(markers=[joints, bones])


def main(args: list[str] | None = None) -> int:
    return run_node(CameraNode, args)
