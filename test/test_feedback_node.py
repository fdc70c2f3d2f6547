"""The feedback node with its real backends against simulated devices, in the whole rig."""

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

from hinge_coach_ros.drivers.dynamixel_sim import ServoBusSim, deg_to_ticks
from hinge_coach_ros.drivers.led_serial import StripFirmware
from hinge_coach_ros.drivers.pty_device import PtyDevice
from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.params import defaults
from hinge_coach_ros.runner import Rig


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
