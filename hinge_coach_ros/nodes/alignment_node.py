"""alignment_node: runs the hinge engine on the skeleton topic.

Publishes a per-frame report and a per-rep summary (DiagnosticArray, layout
in messages.py and the README), each stamped with the skeleton's capture stamp,
and once a second how the camera sees the person on ``diagnostics``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Vector3Stamped
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import PointCloud2

from ..alignment import CUE_FOR_FAULT, HingeEngine
from ..messages import (
    MessageError,
    cloud_to_back_profile,
    cloud_to_skeleton,
    placement_to_status,
    rep_to_msg,
    report_to_msg,
)
from .common import REP_QOS, REPORT_QOS, SENSOR_QOS, declare_schema, run_node

BACK_BUFFER = 30  # frames: one second of back profiles waiting for their skeleton
FLOOR_MAX_AGE_S = 1.0  # an older floor fit is not used (the camera may have moved)


class AlignmentNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("alignment_node", **kwargs)
        self.engine = HingeEngine(declare_schema(self, "alignment_node", self._on_params))
        self.reps_published = 0
        self._report_pub = self.create_publisher(DiagnosticArray, "alignment/report", REPORT_QOS)
        self._rep_pub = self.create_publisher(DiagnosticArray, "alignment/rep", REP_QOS)
        # Back profiles wait here for the skeleton of the same frame (matched by capture stamp);
        # the buffer is bounded, so a profile whose skeleton never comes falls out.
        self._backs: OrderedDict[tuple[int, int], PointCloud2] = OrderedDict()
        self.create_subscription(PointCloud2, "skeleton/back_profile", self._on_back, SENSOR_QOS)
        self._floor: tuple[float, np.ndarray] | None = None  # (stamp s, up vector) from the depth floor fit
        self.create_subscription(Vector3Stamped, "floor/up", self._on_floor, SENSOR_QOS)
        self.create_subscription(PointCloud2, "skeleton", self._on_skeleton, SENSOR_QOS)
        self._diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        self.create_timer(1.0, self._publish_diagnostics)

    def _publish_diagnostics(self) -> None:
        msg = DiagnosticArray(status=[placement_to_status(self.engine.placement())])
        msg.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(msg)

    def _on_floor(self, msg: Vector3Stamped) -> None:
        v = msg.vector
        self._floor = (Time.from_msg(msg.header.stamp).nanoseconds * 1e-9, np.array([v.x, v.y, v.z]))

    def _on_back(self, msg: PointCloud2) -> None:
        self._backs[(msg.header.stamp.sec, msg.header.stamp.nanosec)] = msg
        while len(self._backs) > BACK_BUFFER:
            self._backs.popitem(last=False)

    def _on_params(self, changed: dict) -> None:
        self.engine.set_params(changed)
        self.get_logger().info(f"parameters changed: {changed}")

    def _on_skeleton(self, msg: PointCloud2) -> None:
        try:
            landmarks = cloud_to_skeleton(msg)
        except MessageError as exc:
            self.get_logger().error(str(exc), throttle_duration_sec=5.0)
            return
        t = Time.from_msg(msg.header.stamp).nanoseconds * 1e-9
        back_msg = self._backs.pop((msg.header.stamp.sec, msg.header.stamp.nanosec), None)
        back = None
        if back_msg is not None:
            try:
                back = cloud_to_back_profile(back_msg)
            except MessageError as exc:
                self.get_logger().error(str(exc), throttle_duration_sec=5.0)
        floor = (
            self._floor[1] if self._floor is not None and abs(t - self._floor[0]) < FLOOR_MAX_AGE_S else None
        )
        report = self.engine.update(t, landmarks, back, floor)
        self._report_pub.publish(report_to_msg(report, msg.header, CUE_FOR_FAULT))
        if report.completed_rep is not None:
            self._rep_pub.publish(rep_to_msg(report.completed_rep, msg.header))
            self.reps_published += 1


def main(args: list[str] | None = None) -> int:
    return run_node(AlignmentNode, args)
