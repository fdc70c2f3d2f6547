"""camera_node: owns the capture source and publishes the 3D skeleton.

Sources here: a skeleton session file (the embedded demo session by default)
or the synthetic athlete run live. Frames go out at the source's frame rate,
stamped with their capture time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import Point
from rclpy.node import Node
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from ..athlete import AthleteSpec, generate
from ..landmarks import BONES, INDEX
from ..messages import skeleton_to_cloud
from ..session_io import SkeletonStream, embedded_session_path, read_session
from .common import SENSOR_QOS, declare_schema, run_node


def load_stream(params: dict[str, Any]) -> SkeletonStream:
    """The frames the parameters ask for; SessionFileError on a bad file."""
    if params["source"] == "synthetic":
        session = generate(AthleteSpec(preset=params["synthetic_preset"], reps=params["synthetic_reps"]))
        return SkeletonStream(
            session.fps, "camera_color_optical_frame", session.up_optical, session.times_s, session.landmarks
        )
    path = params["session_file"] or str(embedded_session_path())
    return read_session(path)


class CameraNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("camera_node", **kwargs)
        self.params = declare_schema(self, "camera_node")
        self.stream = load_stream(self.params)
        self.finished = False
        self.frames_published = 0
        self._index = 0
        self._skeleton_pub = self.create_publisher(PointCloud2, "skeleton", SENSOR_QOS)
        self._marker_pub = self.create_publisher(MarkerArray, "skeleton/markers", SENSOR_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        self._timer = None
        self._start_timer = self.create_timer(float(self.params["start_delay_s"]) or 1e-3, self._start)
        self.create_timer(1.0, self._publish_diagnostics)
        self.get_logger().info(
            f"source '{self.params['source']}': {len(self.stream.times_s)} frames at {self.stream.fps:g} fps"
        )

    def _start(self) -> None:
        self._start_timer.cancel()
        self._timer = self.create_timer(1.0 / self.stream.fps, self._tick)

    def _tick(self) -> None:
        if self._index >= len(self.stream.times_s):
            if not self.params["loop"]:
                self.finished = True
                self._timer.cancel()
                self.get_logger().info("session finished")
                return
            self._index = 0
        frame = self.stream.landmarks[self._index]
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id=self.stream.frame_id)
        self._skeleton_pub.publish(skeleton_to_cloud(frame, header))
        if self._marker_pub.get_subscription_count() > 0:
            self._marker_pub.publish(skeleton_markers(frame, header))
        self._index += 1
        self.frames_published += 1

    def _publish_diagnostics(self) -> None:
        state = "finished" if self.finished else "playing"
        status = DiagnosticStatus(
            level=DiagnosticStatus.OK,
            name="camera_node: source",
            message=f"{self.params['source']} {state}",
            values=[
                KeyValue(key="fps", value=f"{self.stream.fps:g}"),
                KeyValue(key="frames_published", value=str(self.frames_published)),
                KeyValue(key="frames_total", value=str(len(self.stream.times_s))),
            ],
        )
        self._diag_pub.publish(
            DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()), status=[status])
        )


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
