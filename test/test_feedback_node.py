"""The feedback node with its real backends against simulated devices, in the whole rig."""

import os
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path
from unittest.mock import MagicMock

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.context import Context
from rclpy.parameter import Parameter
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import Header

from hinge_coach_ros.alignment import RepSummary
from hinge_coach_ros.drivers.dynamixel_sim import ServoBusSim, deg_to_ticks
from hinge_coach_ros.drivers.led_serial import StripFirmware
from hinge_coach_ros.drivers.pty_device import PtyDevice
from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.messages import rep_to_msg
from hinge_coach_ros.nodes.feedback_node import FeedbackNode
from hinge_coach_ros.params import defaults
from hinge_coach_ros.runner import Rig
from hinge_coach_ros.session_log import read_log


def test_rig_drives_serial_strip_and_dynamixel_mount_and_ends_safe():
    fw = StripFirmware(led_count=60)
    bus = ServoBusSim.with_ids(1, 2)
    with PtyDevice(fw.handle, "strip") as strip, PtyDevice(bus.handle, "servos") as servos:
        rig = Rig(
            GraphArgs(
                led_backend="serial",
                led_port=strip.port,
                pan_tilt_backend="dynamixel",
                pan_tilt_port=servos.port,
            )
        )
        diagnostics = []
        listener = rig.nodes["camera_node"]  # any node of the rig's context can listen
        listener.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        try:
            rig.spin_until(lambda: len({c for c, _, _ in fw.shown}) >= 3, timeout_s=30.0)
        finally:
            rig.close()
    colours = {rgb for rgb, _, _ in fw.shown}
    assert (0, 153, 0) in colours or (0, 0, 38) in colours  # green or dim blue at brightness 0.6
    assert fw.shown[-1] == ((0, 0, 0), "solid", 0.0)  # off on exit
    p = defaults("feedback_node")
    for servo_id, lo, hi in (
        (1, p["pan_min_deg"], p["pan_max_deg"]),
        (2, p["tilt_min_deg"], p["tilt_max_deg"]),
    ):
        servo = bus.servos[servo_id]
        assert servo.accepted_goals and servo.refused_goals == []
        assert all(deg_to_ticks(lo) <= g <= deg_to_ticks(hi) for g in servo.accepted_goals)
        assert not servo.torque_on  # home, then torque off
        assert abs(servo.position - 2048) <= 12  # within 1 deg of home
    feedback = [s for d in diagnostics for s in d.status if s.name.startswith("feedback_node")]
    names = {s.name for s in feedback}
    assert {"feedback_node: led", "feedback_node: pan_tilt"} <= names
    bad = [
        (s.name, s.message)
        for s in feedback
        if s.level != DiagnosticStatus.OK and s.name.endswith(("led", "pan_tilt"))
    ]
    assert not bad, bad


def test_mount_limits_and_mounting_changed_at_run_time_reach_the_servos():
    """ros2 param set on a running station: the servos' own limits follow before the next goal."""
    from rclpy.parameter import Parameter

    from hinge_coach_ros.drivers.dynamixel_sim import MAX_POSITION_LIMIT, MIN_POSITION_LIMIT, ticks_to_deg

    bus = ServoBusSim.with_ids(1, 2)
    with PtyDevice(bus.handle, "servos") as servos:
        rig = Rig(GraphArgs(pan_tilt_backend="dynamixel", pan_tilt_port=servos.port))
        pan = bus.servos[1]
        try:
            assert rig.spin_until(lambda: len(pan.accepted_goals) >= 3, timeout_s=30.0)
            result = rig.nodes["feedback_node"].set_parameters(
                [Parameter("pan_max_deg", value=120.0), Parameter("pan_servo_zero_deg", value=-20.0)]
            )
            assert all(r.successful for r in result)
            goals = len(pan.accepted_goals)

            def limits():
                return ticks_to_deg(pan.get(MIN_POSITION_LIMIT)), ticks_to_deg(pan.get(MAX_POSITION_LIMIT))

            # Joint -90..120 deg with the servo at -20 deg for joint 0: servo -110..100 deg.
            assert rig.spin_until(
                lambda: len(pan.accepted_goals) > goals + 2 and abs(limits()[1] - 100.0) < 0.1, timeout_s=30.0
            )
            assert abs(limits()[0] + 110.0) < 0.1 and pan.refused_goals == []
            bad = rig.nodes["feedback_node"].set_parameters([Parameter("pan_servo_zero_deg", value=120.0)])
            assert not bad[0].successful and "need servo angles" in bad[0].reason
        finally:
            rig.close()
    assert not pan.torque_on


def test_sigterm_ends_the_node_through_its_safe_shutdown(tmp_path):
    """kill, systemd, docker stop and a launch shutdown send SIGTERM: LED off, mount parked, summary."""
    fw = StripFirmware(led_count=60)
    bus = ServoBusSim.with_ids(1, 2)
    logs = tmp_path / "logs"
    with PtyDevice(fw.handle, "strip") as strip, PtyDevice(bus.handle, "servos") as servos:
        params = {
            "led_backend": "serial",
            "led_port": strip.port,
            "pan_tilt_backend": "dynamixel",
            "pan_tilt_port": servos.port,
            "log_dir": str(logs),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from hinge_coach_ros.nodes.feedback_node import main; sys.exit(main(sys.argv))",
                "--ros-args",
            ]
            + [arg for k, v in params.items() for arg in ("-p", f"{k}:={v}")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60.0
            while time.monotonic() < deadline and proc.poll() is None:
                if fw.shown and bus.servos[1].accepted_goals and list(logs.glob("session-*.jsonl")):
                    break  # spinning: the strip shows "no person" and the mount has parked
                time.sleep(0.1)
            assert fw.shown and fw.shown[-1] != ((0, 0, 0), "solid", 0.0), "the node did not start"
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, output
    assert "session: no reps" in output  # safe_shutdown() logs the summary last
    assert fw.shown[-1] == ((0, 0, 0), "solid", 0.0)  # the strip was switched off
    assert not bus.servos[1].torque_on and not bus.servos[2].torque_on
    assert abs(bus.servos[1].position - 2048) <= 12  # home
    (path,) = logs.glob("session-*.jsonl")
    rows = read_log(path)
    assert rows[0]["type"] == "session_start" and rows[-1]["type"] == "summary" and rows[-1]["reps"] == 0


@pytest.fixture
def feedback_node():
    """Makes feedback nodes in a context of their own; shuts them down (again) and destroys them."""
    context = Context()
    rclpy.init(context=context)
    nodes = []

    def make(**params):
        node = FeedbackNode(
            context=context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()]
        )
        nodes.append(node)
        return node

    try:
        yield make
    finally:
        for node in nodes:
            node.safe_shutdown()
            node.destroy_node()
        rclpy.shutdown(context=context)


def _mcap_message_count(path) -> int:
    """Messages in a finished MCAP file (its summary is written on close)."""
    from mcap.reader import make_reader

    with open(path, "rb") as f:
        summary = make_reader(f).get_summary()
    assert summary is not None and summary.statistics is not None, f"{path} was not finished"
    return summary.statistics.message_count


def test_a_failing_shutdown_step_does_not_skip_the_others(feedback_node, tmp_path):
    node = feedback_node(log_dir=str(tmp_path), record_mcap=True)
    for _ in range(5):
        node._on_report(DiagnosticArray())
    closed = []

    def dead_port():  # what dynamixel-sdk raises on an unplugged adapter: not an OSError
        raise termios.error(5, "Input/output error")

    node._led_worker.opened = True
    node.led.off = lambda: (_ for _ in ()).throw(RuntimeError("strip firmware hung"))
    node.mount.safe_stop = dead_port
    node.mount.close = lambda: closed.append("mount")
    node.safe_shutdown()  # does not raise
    assert closed == ["mount"]
    (path,) = tmp_path.glob("session-*.jsonl")
    assert read_log(path)[-1]["type"] == "summary"
    assert _mcap_message_count(node.mcap.path) == 5


def rep_message(index: int = 1) -> DiagnosticArray:
    """A clean rep's summary, as the alignment node publishes it."""
    rep = RepSummary(index, 0.0, 2.0, 80.0, 60.0, 20.0, {}, 100.0, {})
    return rep_to_msg(rep, Header())


def test_a_full_disk_ends_the_mcap_recording_not_the_node(feedback_node, tmp_path):
    from hinge_coach_ros.mcap_log import McapLog

    node = feedback_node(log_dir=str(tmp_path), record_mcap=True)
    node.mcap.close()
    node.mcap = McapLog(Path("/dev/full"))  # every write fails: ENOSPC
    # More than a chunk, and random so that compressing it does not shrink it: written at once.
    big = PointCloud2(data=os.urandom(2 * 1024 * 1024))
    node._on_skeleton(big)  # does not raise
    assert node.mcap is None
    (log,) = [s for s in node.diagnostics() if s.name == "feedback_node: session log"]
    assert log.level == DiagnosticStatus.ERROR
    assert log.message == "MCAP recording stopped: [Errno 28] No space left on device"
    node._on_skeleton(big)  # recording stopped: the callbacks go on
    node._on_rep(rep_message())
    assert [r.index for r in node.reps] == [1]
    (path,) = tmp_path.glob("session-*.jsonl")
    assert [r["rep"] for r in read_log(path) if r["type"] == "rep"] == [1]  # the JSONL log goes on


def test_a_full_disk_for_the_summary_still_finishes_the_mcap_file(feedback_node, tmp_path):
    node = feedback_node(log_dir=str(tmp_path), record_mcap=True)
    for _ in range(50):
        node._on_report(DiagnosticArray())
    node.session_log._file = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115 - the disk is full
    node.safe_shutdown()  # does not raise
    assert _mcap_message_count(node.mcap.path) == 50


class RecordingWorker:
    """Stands in for the mount's DeviceWorker: keeps the jobs; the test says when the device fails."""

    def __init__(self) -> None:
        self.jobs: list = []
        self.error: str | None = None
        self.jobs_done, self.failures, self.opened = 0, 0, True

    def submit(self, job) -> None:
        self.jobs.append(job)

    def stop(self) -> None:
        pass

    def run_jobs(self) -> list[str]:
        """What the submitted jobs asked of the mount ("park" or "drive"); then forgets them."""
        asked = []
        for job in self.jobs:
            mount = MagicMock()
            job(mount)
            asked.append("park" if mount.safe_stop.called else "drive")
        self.jobs = []
        return asked


def test_a_park_that_failed_is_submitted_again_until_it_succeeds(feedback_node):
    node = feedback_node()
    node._mount_worker.stop()
    worker = node._mount_worker = RecordingWorker()
    for _ in range(3):  # nobody in view, at home and at rest: park once
        node._control()
    assert worker.run_jobs() == ["park"] and node._parked
    worker.error = "Dynamixel ID 1: no status packet"  # that park failed (torque off by the worker)
    node._control()
    assert node.policy.led_state == "system_fault"
    assert worker.run_jobs() == ["park"]  # submitted again, for the worker's retry
    node._control()
    assert worker.run_jobs() == ["park"]  # and again while it fails (a worker may drop it meanwhile)
    worker.error = None  # the retry parked the mount
    for _ in range(3):
        node._control()
    assert worker.run_jobs() == [] and node._parked
    assert node.policy.led_state == "ready"
