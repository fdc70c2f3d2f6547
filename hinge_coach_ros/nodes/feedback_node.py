"""feedback_node: turns alignment reports into one cue at a time.

Drives the LED strip (std_msgs/ColorRGBA on ``led``), aims the pan-tilt
display at the athlete's head (sensor_msgs/JointState), renders the
coaching screen (sensor_msgs/Image), speaks the cue, writes the session log
and publishes its drivers' state on ``diagnostics``. Wiring only: the logic
lives in feedback, drivers, display, speech and session_log.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState, PointCloud2
from std_msgs.msg import ColorRGBA, Header, String

from ..cues import CueTable, load_cue_table
from ..display import DisplayWindow, render
from ..drivers import DeviceWorker, DriverError, make_led, make_pan_tilt
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
from ..mcap_log import McapLog, McapLogError
from ..messages import MessageError, cloud_to_skeleton, msg_to_rep_view, msg_to_report_view
from ..session_log import SessionLog, SessionLogError
from ..speech import Speaker
from .common import REP_QOS, REPORT_QOS, SENSOR_QOS, declare_schema, run_node

PAN_TILT_JOINTS = ["pan", "tilt"]
OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


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
        max_accel_dps2=params["max_accel_dps2"],
    )


def _cue_table(params: dict[str, Any]) -> CueTable:
    """The cue words the parameters ask for; ParameterError naming an unknown language or bad file."""
    return load_cue_table(params["language"], Path(params["cue_file"]) if params["cue_file"] else None)


def head_position(landmarks: np.ndarray) -> np.ndarray | None:
    """Mean of the seen head landmarks (nose, ears)."""
    rows = landmarks[[INDEX["nose"], INDEX["left_ear"], INDEX["right_ear"]]]
    seen = rows[(rows[:, 3] > 0.3) & np.isfinite(rows[:, :3]).all(axis=1)]
    return seen[:, :3].mean(axis=0) if len(seen) else None


def _status(name: str, level: int, message: str, **values: Any) -> DiagnosticStatus:
    return DiagnosticStatus(
        level=level,
        name=f"feedback_node: {name}",
        message=message,
        hardware_id=str(values.pop("hardware_id", "")),
        values=[KeyValue(key=k, value=str(v)) for k, v in values.items()],
    )


class FeedbackNode(Node):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__("feedback_node", **kwargs)
        self.params = declare_schema(self, "feedback_node", self._on_params)
        p = self.params
        self.table = _cue_table(p)
        self.policy = CuePolicy(
            cue_min_dwell_s=p["cue_min_dwell_s"],
            rep_result_hold_s=p["good_rep_hold_s"],
            cue_cooldown_s=p["cue_cooldown_s"],
            escalate_after_reps=p["escalate_after_reps"],
            praise_streak_reps=p["praise_streak_reps"],
            table=self.table,
        )
        self.limits = limits_from(p)
        self.pan_tilt = PanTiltController(self.limits)
        self.led = make_led(p)
        self.mount = make_pan_tilt(p, self.limits)
        self._led_worker = DeviceWorker("led", self.led, p["driver_retry_s"])
        # A mount that fails is left without torque rather than holding a stale pose.
        self._mount_worker = DeviceWorker(
            "pan_tilt", self.mount, p["driver_retry_s"], on_error=lambda d: d.torque_off()
        )
        self.speaker = (
            Speaker(
                command=[p["speech_command"]],
                voice=self.table.voice,
                words_per_minute=p["speech_words_per_minute"],
                min_interval_s=p["speech_min_interval_s"],
            )
            if p["speech"]
            else None
        )
        self.session_log: SessionLog | None = None
        self._log_error = ""
        if p["log_dir"]:
            try:
                self.session_log = SessionLog(
                    Path(p["log_dir"]), p["exercise"], self.get_namespace(), p["language"]
                )
            except SessionLogError as exc:
                self._log_error = str(exc)
                self.get_logger().error(self._log_error)
        self.mcap: McapLog | None = None
        if p["record_mcap"] and self.session_log is not None:
            try:
                self.mcap = McapLog(self.session_log.path.with_suffix(".mcap"))
            except McapLogError as exc:
                self._log_error = str(exc)
                self.get_logger().error(self._log_error)
        self.window: DisplayWindow | None = None
        self._window_error = ""
        if p["display_backend"] == "window":
            try:
                self.window = DisplayWindow()
            except RuntimeError as exc:
                self._window_error = str(exc)
                self.get_logger().error(f"{exc}; the screen is still published on display/image")
        self.reps: list[RepView] = []
        self.rep_count = 0
        self.last_image: np.ndarray | None = None
        self._gaps: tuple[float, float, float] | None = None
        self._landmarks: np.ndarray | None = None
        self._last_skeleton_s = -math.inf
        self._last_step_s = time.monotonic()
        self._mount_was_failing = False
        self._parked = False  # home with torque off while nobody is there
        self._shut_down = False
        self._led_pub = self.create_publisher(ColorRGBA, "led", 10)
        self._cmd_pub = self.create_publisher(JointState, "pan_tilt/command", 10)
        self._state_pub = self.create_publisher(JointState, "pan_tilt/joint_states", 10)
        self._image_pub = self.create_publisher(Image, "display/image", 2)
        self._cue_pub = self.create_publisher(String, "cue", 10)
        self._diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        self.create_subscription(DiagnosticArray, "alignment/report", self._on_report, REPORT_QOS)
        self.create_subscription(DiagnosticArray, "alignment/rep", self._on_rep, REP_QOS)
        self.create_subscription(PointCloud2, "skeleton", self._on_skeleton, SENSOR_QOS)
        self._control_timer = self.create_timer(1.0 / p["control_rate_hz"], self._control)
        self._display_timer = self.create_timer(1.0 / p["display_rate_hz"], self._render)
        self._diag_timer = self.create_timer(1.0, self._publish_diagnostics)
        if self.speaker is not None and not self.speaker.available:
            self.get_logger().warning(self.speaker.status)

    def _on_params(self, changed: dict) -> None:
        """Apply a validated change of a live parameter (params.LIVE_PARAMS); ParameterError
        (nothing changed) for a language or cue file that does not load."""
        new_table = None
        if "language" in changed or "cue_file" in changed:
            new_table = _cue_table({**self.params, **changed})  # before anything changes
        self.params.update(changed)
        if new_table is not None:
            self.table = self.policy.table = new_table
            if self.speaker is not None:
                self.speaker.voice = new_table.voice
            language, cue_file = new_table.language, self.params["cue_file"]
            self._write_log(lambda log: log.log_settings(language=language, cue_file=cue_file))
        if "control_rate_hz" in changed:
            self._control_timer.timer_period_ns = int(1e9 / changed["control_rate_hz"])
        if "display_rate_hz" in changed:
            self._display_timer.timer_period_ns = int(1e9 / changed["display_rate_hz"])
        self.limits = limits_from(self.params)
        self.pan_tilt.limits = self.limits
        self.mount.limits = self.limits
        if hasattr(self.mount, "set_mounting"):
            from ..drivers.dynamixel import ServoMounting

            p = self.params
            self.mount.set_mounting(
                ServoMounting(p["pan_servo_zero_deg"], p["pan_servo_reversed"]),
                ServoMounting(p["tilt_servo_zero_deg"], p["tilt_servo_reversed"]),
            )
        self.policy.cue_min_dwell_s = self.params["cue_min_dwell_s"]
        self.policy.rep_result_hold_s = self.params["good_rep_hold_s"]
        self.policy.cue_cooldown_s = self.params["cue_cooldown_s"]
        self.policy.escalate_after_reps = self.params["escalate_after_reps"]
        self.policy.praise_streak_reps = self.params["praise_streak_reps"]

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _record(self, topic: str, datatype: str, msg) -> None:
        if self.mcap is None:
            return
        stamp = msg.header.stamp
        try:
            self.mcap.write(
                self.resolve_topic_name(topic), datatype, msg, stamp.sec * 1_000_000_000 + stamp.nanosec
            )
        except (OSError, McapLogError) as exc:
            # A full disk ends the recording, not the node: coaching and the JSONL log go on.
            self._log_error = f"MCAP recording stopped: {exc}"
            self.get_logger().error(self._log_error)
            mcap, self.mcap = self.mcap, None
            self._best_effort("MCAP close", mcap.close)  # what the disk still takes

    def _on_skeleton(self, msg: PointCloud2) -> None:
        self._record("skeleton", "sensor_msgs/msg/PointCloud2", msg)
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
        self._record("alignment/report", "diagnostic_msgs/msg/DiagnosticArray", msg)
        try:
            view = msg_to_report_view(msg)
        except MessageError as exc:
            self.get_logger().error(str(exc), throttle_duration_sec=5.0)
            return
        self.rep_count = view.rep_count
        self._gaps = view.dowel_gaps_m
        previous = (self.policy.cue_key, self.policy.escalated)
        self.policy.on_report(self._now(), view)
        self._after_policy(previous)

    def _on_rep(self, msg: DiagnosticArray) -> None:
        self._record("alignment/rep", "diagnostic_msgs/msg/DiagnosticArray", msg)
        try:
            rep = msg_to_rep_view(msg)
        except (MessageError, KeyError, ValueError) as exc:
            self.get_logger().error(f"bad rep summary: {exc}")
            return
        previous = (self.policy.cue_key, self.policy.escalated)
        self.policy.on_rep(self._now(), rep)
        self._after_policy(previous)
        self.reps.append(rep)
        self.get_logger().info(format_rep_line(rep, self.policy.led_state))
        self._write_log(lambda log: log.log_rep(rep, self.policy.cue_key, self.policy.led_state))

    def _write_log(self, write: Callable[[SessionLog], None]) -> None:
        """One line to the session log, if there is one; a full disk is a diagnostic, not a crash."""
        if self.session_log is None:
            return
        try:
            write(self.session_log)
        except (OSError, ValueError) as exc:
            self._log_error = f"session log: {exc}"
            self.get_logger().error(self._log_error, throttle_duration_sec=30.0)

    def _after_policy(self, previous: tuple[str, bool]) -> None:
        """Publish the LED colour; on a new cue, publish and speak its words."""
        self._apply_led()
        if (self.policy.cue_key, self.policy.escalated) == previous:
            return
        text = self.policy.cue_text
        if text:
            self._cue_pub.publish(String(data=text))
        if self.speaker is not None:
            if self.policy.led_state in ("cue", "warning") or self.policy.cue_key == "good_streak":
                self.speaker.say(text, time.monotonic())
            else:
                self.speaker.cancel_pending()  # a cue that no longer holds is not spoken late

    def _apply_led(self) -> None:
        self._apply_led_keepalive()
        r, g, b, a = self.policy.colour
        self._led_pub.publish(ColorRGBA(r=r, g=g, b=b, a=a))

    def _control(self) -> None:
        now_mono = time.monotonic()
        dt, self._last_step_s = now_mono - self._last_step_s, now_mono
        failing = bool(self._led_worker.error or self._mount_worker.error)
        if failing != self.policy.system_fault:
            self.policy.set_system_fault(self._now(), failing)
            self._apply_led()
        if self._mount_worker.error:
            # The mount's torque is off (the worker did that); stand still until it answers again.
            self.pan_tilt.go_home()
            self._mount_was_failing = True
            # A park that failed (or that the worker dropped while waiting to retry) is not a park:
            # submit it again below, or nothing would ever retry the mount while nobody is there.
            self._parked = False
        elif self._mount_was_failing and self._mount_worker.jobs_done:
            self._mount_was_failing = False
            self.pan_tilt.reset(self.mount.pan_deg, self.mount.tilt_deg)  # continue from where it is
        if self._now() - self._last_skeleton_s > self.params["stale_timeout_s"]:
            # Stale input: nobody to face. Go home, and once there, torque off (parked).
            self.pan_tilt.go_home()
            if not self._parked and self.pan_tilt.at_rest_on_target():
                self._parked = True
                self._mount_worker.submit(lambda mount: mount.safe_stop())
        elif self._parked:
            self._parked = False  # someone is back: the next command job turns the torque on
        pan, tilt = self.pan_tilt.step(dt)
        if not self._parked:  # the worker keeps only the newest job: do not replace the park
            self._mount_worker.submit(lambda mount: self._drive(mount, pan, tilt))
        self._apply_led_keepalive()
        if self.speaker is not None:
            self.speaker.poll(now_mono)
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

    @staticmethod
    def _drive(mount, pan: float, tilt: float) -> None:
        """One control step on the device (in the driver's worker thread)."""
        if not mount.torque_on:
            mount.torque_enable()  # after a park; a failed device is reopened by the worker instead
        mount.command(pan, tilt)
        mount.read_position()

    def _apply_led_keepalive(self) -> None:
        colour, pattern = self.policy.colour, self.policy.pattern
        self._led_worker.submit(lambda led: led.show(colour, pattern))  # drivers skip unchanged states

    def _render(self) -> None:
        if self._image_pub.get_subscription_count() == 0 and self.last_image is not None and not self.window:
            return  # nobody watching: do not spend the CPU
        w, h = self.params["display_width_px"], self.params["display_height_px"]
        last = self.reps[-1].score if self.reps else None
        fresh_s = self.params["stale_timeout_s"]
        fresh = self._landmarks if self._now() - self._last_skeleton_s < fresh_s else None
        img = render(w, h, fresh, self.policy.cue_text, self.policy.colour, self.rep_count, last, self._gaps)
        self.last_image = img
        if self.window is not None:
            self.window.show(img)
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

    def diagnostics(self) -> list[DiagnosticStatus]:
        p = self.params
        led_err, mount_err = self._led_worker.error, self._mount_worker.error
        stale_s = self._now() - self._last_skeleton_s
        statuses = [
            _status(
                "led",
                ERROR if led_err else OK,
                led_err or f"{self.led.name}: {self.policy.led_state}",
                hardware_id=p["led_port"] if p["led_backend"] == "serial" else p["led_address"],
                backend=p["led_backend"],
                state=self.policy.led_state,
                failures=self._led_worker.failures,
            ),
            _status(
                "pan_tilt",
                ERROR if mount_err else OK,
                mount_err or f"{self.mount.name}: torque {'on' if self.mount.torque_on else 'off'}",
                hardware_id=p["pan_tilt_port"] if p["pan_tilt_backend"] == "dynamixel" else "",
                backend=p["pan_tilt_backend"],
                pan_deg=f"{self.mount.pan_deg:.1f}",
                tilt_deg=f"{self.mount.tilt_deg:.1f}",
                failures=self._mount_worker.failures,
            ),
            _status(
                "skeleton input",
                OK if stale_s <= p["stale_timeout_s"] else WARN,
                "fresh" if stale_s <= p["stale_timeout_s"] else "stale: the mount is parked at home",
                age_s=f"{stale_s:.2f}" if math.isfinite(stale_s) else "never",
            ),
        ]
        if self.speaker is not None:
            statuses.append(_status("speech", OK if self.speaker.available else WARN, self.speaker.status))
        if p["display_backend"] == "window":
            statuses.append(
                _status("display", ERROR if self._window_error else OK, self._window_error or "window")
            )
        if p["log_dir"]:
            path = str(self.session_log.path) if self.session_log else ""
            statuses.append(
                _status(
                    "session log",
                    ERROR if self._log_error else OK,
                    self._log_error or path,
                    reps=len(self.reps),
                )
            )
        return statuses

    def _publish_diagnostics(self) -> None:
        header = Header(stamp=self.get_clock().now().to_msg())
        self._diag_pub.publish(DiagnosticArray(header=header, status=self.diagnostics()))

    def summary(self) -> str:
        return format_summary(self.reps)

    def _best_effort(self, what: str, action: Callable[[], object]) -> None:
        """One clean-up step: a failure of any kind (a dead serial port raises termios.error) is
        logged and the caller goes on, so in the shutdown one device cannot keep the others from
        their safe state or the session log from its summary."""
        try:
            action()
        except Exception as exc:
            self.get_logger().error(f"{what} failed: {type(exc).__name__}: {exc}")

    @staticmethod
    def _close_driver(driver: Any) -> None:
        try:
            driver.close()
        except (DriverError, OSError):
            pass  # the device is gone; its safe stop already said so

    def safe_shutdown(self) -> None:
        """Actuators to their safe state: LED off, mount home and torque off; close the logs.

        Each step runs whatever the ones before it did.
        """
        if self._shut_down:
            return
        self._shut_down = True
        step = self._best_effort
        step("LED worker stop", self._led_worker.stop)
        step("pan-tilt worker stop", self._mount_worker.stop)
        if self._led_worker.opened:
            step("LED safe stop", self.led.off)
        step("LED close", lambda: self._close_driver(self.led))
        step("pan-tilt safe stop", self.mount.safe_stop)
        step("pan-tilt close", lambda: self._close_driver(self.mount))
        if self.speaker is not None:
            step("speech close", self.speaker.close)
        if self.window is not None:
            step("display window close", self.window.close)
        if self.session_log is not None:
            step("session log close", self.session_log.close)
        if self.mcap is not None:
            step("MCAP close", self.mcap.close)
        self.get_logger().info(self.summary())


def main(args: list[str] | None = None) -> int:
    return run_node(FeedbackNode, args)
