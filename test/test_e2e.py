"""The whole graph on the embedded session, over DDS, checked against the session's truth."""

import math
import time

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState, PointCloud2
from std_msgs.msg import ColorRGBA

from hinge_coach_ros.feedback import LED_COLOURS
from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.messages import msg_to_rep_view
from hinge_coach_ros.nodes.common import REP_QOS, REPORT_QOS, SENSOR_QOS
from hinge_coach_ros.params import defaults
from hinge_coach_ros.runner import Rig
from hinge_coach_ros.session_io import embedded_session_path, read_truth


def named(colour):
    """The LED state whose colour this is (ColorRGBA carries float32)."""
    for name, rgba in LED_COLOURS.items():
        if np.allclose(colour, rgba, atol=1e-3):
            return name
    return "unknown"


class Recorder(Node):
    """Listens to the station's topics like an outside observer would."""

    def __init__(self, context):
        super().__init__("e2e_recorder", context=context)
        self.skeleton_times: list[float] = []
        self.leds: list[tuple[float, tuple[float, float, float, float]]] = []
        self.reps: list[tuple[float, object]] = []
        self.commands: list[list[float]] = []
        self.images: list[Image] = []
        self.reports = 0
        self.create_subscription(
            PointCloud2, "skeleton", lambda m: self.skeleton_times.append(time.monotonic()), SENSOR_QOS
        )
        self.create_subscription(
            ColorRGBA, "led", lambda m: self.leds.append((self._now(), (m.r, m.g, m.b, m.a))), 10
        )
        self.create_subscription(
            DiagnosticArray, "alignment/rep", lambda m: self.reps.append(msg_to_rep_view(m)), REP_QOS
        )
        self.create_subscription(DiagnosticArray, "alignment/report", self._on_report, REPORT_QOS)
        self.create_subscription(
            JointState, "pan_tilt/command", lambda m: self.commands.append(list(m.position)), 10
        )
        self.create_subscription(Image, "display/image", self.images.append, 2)
        self.views: list[dict[str, str]] = []  # the alignment node's camera-view diagnostic
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)

    def _on_diagnostics(self, msg):
        for status in msg.status:
            if status.name == "alignment_node: camera view":
                self.views.append({"message": status.message, **{kv.key: kv.value for kv in status.values}})

    def _on_report(self, msg):
        self.reports += 1

    def _now(self):
        return self.get_clock().now().nanoseconds * 1e-9


@pytest.fixture(scope="module")
def run_result():
    rig = Rig(GraphArgs())
    recorder = Recorder(rig.context)
    rig.add_node(recorder)
    rep_windows = []
    alignment = rig.nodes["alignment_node"]
    original = alignment._rep_pub.publish

    def capture(msg):  # remember each rep's time window (capture stamps) as published
        view = {kv.key: float(kv.value) for kv in msg.status[0].values if kv.key in ("start_s", "end_s")}
        rep_windows.append((view["start_s"], view["end_s"]))
        original(msg)

    alignment._rep_pub.publish = capture
    feedback = rig.nodes["feedback_node"]
    try:
        finished = rig.spin_session(timeout_s=90.0)
    finally:
        recorder.destroy_node()
        rig.close()  # the actuators' safe state is part of what is checked
    return {"finished": finished, "recorder": recorder, "windows": rep_windows, "feedback": feedback}


def test_session_plays_to_its_end(run_result):
    assert run_result["finished"]


def test_skeleton_arrives_at_the_session_frame_rate(run_result):
    times = np.array(run_result["recorder"].skeleton_times)
    truth = read_truth(embedded_session_path())
    assert len(times) >= 0.95 * len(truth["frames"]["time_s"])
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert abs(rate - truth["fps"]) <= 0.1 * truth["fps"], rate


def test_reps_and_diagnostics_say_what_this_input_cannot_measure(run_result):
    # The embedded session is a skeleton: no back surface, every joint seen.
    recorder = run_result["recorder"]
    assert recorder.reps and all(set(r.not_measurable) == {"no_brace", "rounded_back"} for r in recorder.reps)
    seen = [v for v in recorder.views if v["legs_seen_fraction"] != "nan"]
    assert seen and all(v["legs_seen_fraction"] == "1.000" for v in seen)
    assert all(v["message"].startswith("no depth") for v in seen)


def test_rep_count_equals_truth(run_result):
    truth = read_truth(embedded_session_path())
    reps = run_result["recorder"].reps
    assert [r.index for r in reps] == list(range(1, truth["rep_count"] + 1))
    assert [bool(r.faults) for r in reps] == [bool(t["faults"]) for t in truth["reps"]]


def test_led_shows_fault_colour_on_faulty_reps_and_good_colour_on_clean_reps(run_result):
    truth = read_truth(embedded_session_path())
    leds = run_result["recorder"].leds
    assert len(run_result["windows"]) == truth["rep_count"]
    for (start, end), rep in zip(run_result["windows"], truth["reps"]):
        during = {named(c) for t, c in leds if start <= t <= end + 0.3}
        assert during, f"no LED updates during rep {rep['index']}"
        if rep["faults"]:
            assert "cue" in during, f"rep {rep['index']} has {rep['faults']} but the LED showed {during}"
        else:
            assert "good" in during and not during & {"cue", "warning"}, during


def test_every_pan_tilt_command_is_inside_the_limits(run_result):
    p = defaults("feedback_node")
    commands = run_result["recorder"].commands
    assert len(commands) > 100
    for pan, tilt in commands:
        assert math.radians(p["pan_min_deg"]) - 1e-9 <= pan <= math.radians(p["pan_max_deg"]) + 1e-9
        assert math.radians(p["tilt_min_deg"]) - 1e-9 <= tilt <= math.radians(p["tilt_max_deg"]) + 1e-9
    # The display turned toward the athlete, who stands 3 m away, ahead and a bit off axis.
    assert any(abs(pan) > 1e-3 or abs(tilt) > 1e-3 for pan, tilt in commands)


def test_display_images_are_published(run_result):
    images = run_result["recorder"].images
    assert images and images[-1].encoding == "rgb8"
    assert (images[-1].width, images[-1].height) == (640, 360)


def test_actuators_end_safe(run_result):
    feedback = run_result["feedback"]
    assert feedback.led.colour == LED_COLOURS["off"]
    assert not feedback.mount.torque_on
    assert (feedback.mount.pan_deg, feedback.mount.tilt_deg) == (0.0, 0.0)
