"""feedback_node: turns alignment reports into one cue at a time.

Drives the LED (std_msgs/ColorRGBA), aims the pan-tilt display at the
athlete's head (sensor_msgs/JointState) and renders the coaching screen
(sensor_msgs/Image). Logs one line per rep and a session summary.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState, PointCloud2
from std_msgs.msg import ColorRGBA, Header, String

from ..display import render
from ..drivers import SimLed, SimPanTilt
from ..feedback import (
    CuePolicy,
    PanTiltController,
    PanTiltLimits,
    RepView,
    aim_at,
    format_rep_line,
    format_summary,
)
from ..landmarks import INDEX
from ..messages import MessageError, cloud_to_skeleton, msg_to_rep_view, msg_to_report_view
from .common import REP_QOS, REPORT_QOS, SENSOR_QOS, declare_schema, run_node

PAN_TILT_JOINTS = ["pan", "tilt"]


def limits_from(params: dict[str, Any]) -> PanTiltLimits:
    return PanTiltLimits(
        pan_min_deg=params["pan_min_deg"],
        pan_max_deg=params["pan_max_deg"],
        tilt_min_deg=params["tilt_min_deg"],
        tilt_max_deg=params["tilt_max_deg"],
        home_pan_deg=params["home_pan_deg"],
        home_tilt_deg=params["home_tilt_deg"],
        max_speed_dps=params["max_speed_dps"],
        dead_band_deg=params["dead_band_deg"],
    )


def head_position(landmarks: np.ndarray) -> np.ndarray | None:
    """Mean of the seen head landmarks (nose, ears)."""
    rows = landmarks[[INDEX["nose"], INDEX["left_ear"], INDEX["right_ear"]]]
    seen = rows[(rows[:, 3] > 0.3) & np.isfinite(rows[:, :3]).all(axis=1)]
    return seen[:, :3].mean(axis=0) if len(seen) else None


class FeedbackNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("feedback_node", **kwargs)
        self.params = declare_schema(self, "feedback_node", self._on_params)
        p = self.params
        self.policy = CuePolicy(cue_min_dwell_s=p["cue_min_dwell_s"], rep_result_hold_s=p["good_rep_hold_s"])
        self.limits = limits_from(p)
        self.pan_tilt = PanTiltController(self.limits)
        self.mount = SimPanTilt(self.limits, *self.limits.clamp(p["home_pan_deg"], p["home_tilt_deg"]))
        self.led = SimLed()
        self.reps: list[RepView] = []
        self.rep_count = 0
        self.last_image: np.ndarray | None = None
        self._landmarks: np.ndarray | None = None
        self._last_skeleton_s = -math.inf
        self._last_step_s = time.monotonic()
        self._led_pub = self.create_publisher(ColorRGBA, "led", 10)
        self._cmd_pub = self.create_publisher(JointState, "pan_tilt/command", 10)
        self._state_pub = self.create_publisher(JointState, "pan_tilt/joint_states", 10)
        self._image_pub = self.create_publisher(Image, "display/image", 2)
        self._cue_pub = self.create_publisher(String, "cue", 10)
        self.create_subscription(DiagnosticArray, "alignment/report", self._on_report, REPORT_QOS)
        self.create_subscription(DiagnosticArray, "alignment/rep", self._on_rep, REP_QOS)
        self.create_subscription(PointCloud2, "skeleton", self._on_skeleton, SENSOR_QOS)
        self._control_timer = self.create_timer(1.0 / p["control_rate_hz"], self._control)
        self._display_timer = self.create_timer(1.0 / p["display_rate_hz"], self._render)

    def _on_params(self, changed: dict) -> None:
        self.params.update(changed)
        self.limits = limits_from(self.params)
        self.pan_tilt.limits = self.limits
        self.mount.limits = self.limits
        self.policy.cue_min_dwell_s = self.params["cue_min_dwell_s"]
        self.policy.rep_result_hold_s = self.params["good_rep_hold_s"]

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_skeleton(self, msg: PointCloud2) -> None:
        try:
            self._landmarks = cloud_to_skeleton(msg)
        except MessageError:
            return
        self._last_skeleton_s = self._now()
        head = head_position(self._landmarks)
        if head is not None:
            self.pan_tilt.set_target(
                *aim_at(head, np.asarray(self.params["mount_position_m"]), self.params["mount_yaw_deg"])
            )

    def _on_report(self, msg: DiagnosticArray) -> None:
        try:
            view = msg_to_report_view(msg)
        except MessageError as exc:
            self.get_logger().error(str(exc), throttle_duration_sec=5.0)
            return
        self.rep_count = view.rep_count
        previous = self.policy.cue_key
        self.policy.on_report(self._now(), view)
        self._apply_led()
        if self.policy.cue_key != previous and self.policy.cue_text:
            self._cue_pub.publish(String(data=self.policy.cue_text))

    def _on_rep(self, msg: DiagnosticArray) -> None:
        try:
            rep = msg_to_rep_view(msg)
        except (MessageError, KeyError, ValueError) as exc:
            self.get_logger().error(f"bad rep summary: {exc}")
            return
        self.policy.on_rep(self._now(), rep)
        self._apply_led()
        self.reps.append(rep)
        self.get_logger().info(format_rep_line(rep, self.policy.led_state))

    def _apply_led(self) -> None:
        self.led.set_colour(self.policy.colour)
        r, g, b, a = self.policy.colour
        self._led_pub.publish(ColorRGBA(r=r, g=g, b=b, a=a))

    def _control(self) -> None:
        now_mono = time.monotonic()
        dt, self._last_step_s = now_mono - self._last_step_s, now_mono
        if self._now() - self._last_skeleton_s > self.params["stale_timeout_s"]:
            self.pan_tilt.go_home()  # stale input: nobody to face, park the display
        pan, tilt = self.pan_tilt.step(dt)
        self.mount.command(pan, tilt)
        header = Header(stamp=self.get_clock().now().to_msg(), frame_id="pan_tilt_base")
        self._cmd_pub.publish(
            JointState(header=header, name=PAN_TILT_JOINTS, position=[math.radians(pan), math.radians(tilt)])
        )
        self._state_pub.publish(
            JointState(
                header=header,
                name=PAN_TILT_JOINTS,
                position=[math.radians(self.mount.pan_deg), math.radians(self.mount.tilt_deg)],
            )
        )

    def _render(self) -> None:
        if self._image_pub.get_subscription_count() == 0 and self.last_image is not None:
            return  # nobody watching: do not spend the CPU
        w, h = self.params["display_width_px"], self.params["display_height_px"]
        last = self.reps[-1].score if self.reps else None
        fresh = (
            self._landmarks if self._now() - self._last_skeleton_s < self.params["stale_timeout_s"] else None
        )
        img = render(w, h, fresh, self.policy.cue_text, self.policy.colour, self.rep_count, last)
        self.last_image = img
        msg = Image(
            header=Header(stamp=self.get_clock().now().to_msg(), frame_id="display"),
            height=h,
            width=w,
            encoding="rgb8",
            is_bigendian=0,
            step=3 * w,
            data=img.tobytes(),
        )
        self._image_pub.publish(msg)

    def summary(self) -> str:
        return format_summary(self.reps)

    def safe_shutdown(self) -> None:
        """Actuators to their safe state: LED off, mount home and torque off."""
        self.led.off()
        self.mount.safe_stop()
        self.get_logger().info(self.summary())


def main(args: list[str] | None = None) -> int:
    return run_node(FeedbackNode, args)
