"""The real LED and pan-tilt backends against simulated devices: a strip firmware and a
Dynamixel bus behind pseudo-terminals, and a WLED controller on 127.0.0.1."""

import math
import os
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hinge_coach_ros.drivers import DeviceWorker, DriverError, SimPanTilt
from hinge_coach_ros.drivers.dynamixel import DynamixelPanTilt
from hinge_coach_ros.drivers.dynamixel_sim import (
    INST_READ,
    MAX_POSITION_LIMIT,
    MIN_POSITION_LIMIT,
    PRESENT_POSITION,
    PROFILE_VELOCITY,
    ServoBusSim,
    build_packet,
    crc16,
    deg_to_ticks,
    status_packet,
    stuff,
    ticks_to_deg,
    unstuff,
)
from hinge_coach_ros.drivers.led_serial import (
    CMD_SHOW,
    NAK,
    FrameParser,
    SerialLed,
    StripFirmware,
    encode_frame,
)
from hinge_coach_ros.drivers.pty_device import PtyDevice
from hinge_coach_ros.drivers.wled import SimWled, WledLed
from hinge_coach_ros.feedback import LED_COLOURS, LED_PATTERNS, LedPattern, PanTiltController, PanTiltLimits

LIMITS = PanTiltLimits(-90.0, 90.0, -30.0, 30.0, 0.0, 0.0, 60.0, 2.0, 120.0)


def wait_until(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def plug(handler, link, name: str) -> PtyDevice:
    """A device behind a new pty, reached through a stable path (as a udev name is): replugging it
    gives a new pty under the same path."""
    dev = PtyDevice(handler, name)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(dev.port, link)
    return dev


# -- serial LED strip ---------------------------------------------------------
def test_frame_layout_and_crc():
    frame = encode_frame(CMD_SHOW, 7, bytes([255, 140, 0, 0, 0, 0]))
    assert frame[:4] == bytes([0xA5, 6, CMD_SHOW, 7])
    # CRC-16/CCITT-FALSE check value of "123456789" is 0x29B1.
    from hinge_coach_ros.drivers.led_serial import crc16 as ccitt

    assert ccitt(b"123456789") == 0x29B1
    parser = FrameParser()
    noisy = b"\x00\x13" + frame[:5] + b"" + frame[5:] + frame[:-1] + b"\x00"
    frames = parser.feed(noisy)
    assert frames[0] == (CMD_SHOW, 7, bytes([255, 140, 0, 0, 0, 0]), True)


def test_firmware_naks_a_corrupted_frame():
    fw = StripFirmware()
    frame = bytearray(encode_frame(CMD_SHOW, 9, bytes([1, 2, 3, 0, 0, 0])))
    frame[5] ^= 0xFF
    replies = FrameParser().feed(fw.handle(bytes(frame)))
    assert (replies[0][0], replies[0][1], replies[0][2]) == (NAK, 9, bytes([1]))
    assert fw.rgb == (0, 0, 0)


def test_serial_led_drives_the_simulated_strip_over_a_pty():
    fw = StripFirmware(led_count=72)
    with PtyDevice(fw.handle, "sim-strip") as dev:
        led = SerialLed(dev.port, 115200, brightness=0.5)
        led.open()
        assert led.led_count == 72
        led.show(LED_COLOURS["cue"], LED_PATTERNS["cue"])
        assert fw.rgb == (128, 70, 0) and fw.pattern.kind == "solid"  # amber at half brightness
        led.show(LED_COLOURS["warning"], LED_PATTERNS["warning"])
        assert fw.rgb == (128, 0, 0) and fw.pattern == LedPattern("blink", 0.5)
        assert fw.pixel(fw.last_frame_s + 0.1) == (128, 0, 0)  # blink: on in the first half period
        assert fw.pixel(fw.last_frame_s + 0.3) == (0, 0, 0)
        assert fw.pixel(fw.last_frame_s + 3.1) == (255, 0, 255)  # host silent: the watchdog shows magenta
        led.off()
        assert fw.rgb == (0, 0, 0) and fw.naks == 0
        led.close()


def test_serial_led_reports_a_silent_device():
    with PtyDevice(lambda data: b"", "silent") as dev:
        led = SerialLed(dev.port)
        with pytest.raises(DriverError, match="no acknowledgement"):
            led.open()
        led.close()
    with pytest.raises(DriverError, match="cannot open /nonexistent/tty"):
        SerialLed("/nonexistent/tty").open()


def test_serial_led_sends_its_state_again_to_a_replugged_strip(tmp_path):
    link = tmp_path / "ttyLED"
    fw1 = StripFirmware()
    dev = plug(fw1.handle, link, "sim-strip-1")
    led = SerialLed(str(link))
    led.open()
    led.show(LED_COLOURS["good"], LED_PATTERNS["good"])
    assert fw1.rgb == (0, 255, 0)
    dev.close()  # unplugged; the worker closes the driver and opens it again later
    led.close()
    fw2 = StripFirmware()  # its firmware restarted dark
    dev = plug(fw2.handle, link, "sim-strip-2")
    try:
        led.open()
        led.show(LED_COLOURS["good"], LED_PATTERNS["good"])  # the same state as before the unplug
        assert fw2.shown == [((0, 255, 0), "solid", 0.0)] and fw2.pixel() == (0, 255, 0)
        led.close()
    finally:
        dev.close()


# -- WLED -----------------------------------------------------------------------
def test_wled_driver_sets_colour_and_effect_on_a_local_wled():
    sim = SimWled(led_count=45)
    try:
        led = WledLed(sim.address, brightness=0.6)
        led.open()
        assert led.led_count == 45 and led.version == "0.14.4"
        led.show(LED_COLOURS["good"], LED_PATTERNS["good"])
        assert (
            sim.state["on"]
            and sim.state["seg"][0]["col"][0] == [0, 255, 0]
            and sim.state["seg"][0]["fx"] == 0
        )
        assert sim.state["bri"] == 153 and sim.pixel() == (0, 153, 0)
        led.show(LED_COLOURS["no_person"], LED_PATTERNS["no_person"])
        assert sim.state["seg"][0]["fx"] == 2  # breathe
        posts = len(sim.posts)
        led.show(LED_COLOURS["no_person"], LED_PATTERNS["no_person"])
        assert len(sim.posts) == posts  # unchanged state: no request
        led.off()
        assert not sim.state["on"] and sim.pixel() == (0, 0, 0)
    finally:
        sim.close()
    with pytest.raises(DriverError, match="WLED at http://127.0.0.1:9"):
        WledLed("127.0.0.1:9").open()  # nothing listens on the discard port


def test_wled_driver_sends_its_state_again_after_a_reconnect():
    sim = SimWled()
    try:
        led = WledLed(sim.address)
        led.open()
        led.show(LED_COLOURS["good"], LED_PATTERNS["good"])
        led.close()
        sim.apply({"on": False, "seg": [{"id": 0, "col": [[255, 160, 0]]}]})  # restarted meanwhile
        led.open()
        led.show(LED_COLOURS["good"], LED_PATTERNS["good"])
        assert sim.state["on"] and sim.pixel() == (0, 255, 0)
    finally:
        sim.close()


# -- Dynamixel ------------------------------------------------------------------
def test_protocol2_packet_crc_and_stuffing():
    # The ROBOTIS e-manual's PING example to ID 1: FF FF FD 00 01 03 00 01 19 4E.
    assert build_packet(1, 0x01, b"") == bytes.fromhex("FFFFFD000103000119 4E".replace(" ", ""))
    assert crc16(bytes.fromhex("FFFFFD00010300 01".replace(" ", ""))) == 0x4E19
    body = bytes([0x55, 0x00, 0xFF, 0xFF, 0xFD, 0x01])
    assert stuff(body) == bytes([0x55, 0x00, 0xFF, 0xFF, 0xFD, 0xFD, 0x01]) and unstuff(stuff(body)) == body
    assert status_packet(1, 0, b"\x5c\x04\x2e")[7] == 0x55


@pytest.fixture()
def servo_bus():
    bus = ServoBusSim.with_ids(1, 2)
    dev = PtyDevice(bus.handle, "sim-dynamixel")
    yield bus, dev
    dev.close()


def test_dynamixel_start_up_writes_limits_and_profile(servo_bus):
    bus, dev = servo_bus
    mount = DynamixelPanTilt(dev.port, 57600, 1, 2, LIMITS)
    mount.open()
    pan, tilt = bus.servos[1], bus.servos[2]
    assert pan.torque_on and tilt.torque_on
    assert (pan.get(MIN_POSITION_LIMIT), pan.get(MAX_POSITION_LIMIT)) == (deg_to_ticks(-90), deg_to_ticks(90))
    assert (tilt.get(MIN_POSITION_LIMIT), tilt.get(MAX_POSITION_LIMIT)) == (
        deg_to_ticks(-30),
        deg_to_ticks(30),
    )
    assert pan.get(PROFILE_VELOCITY) == 43  # 60 deg/s in units of 0.229 rev/min
    mount.command(45.0, 10.0)
    mount.read_position()  # a round trip: the SYNC_WRITE before it has been handled
    assert pan.accepted_goals[-1] == deg_to_ticks(45.0) and tilt.accepted_goals[-1] == deg_to_ticks(10.0)
    mount.safe_stop()
    assert not pan.torque_on and not tilt.torque_on
    assert abs(mount.pan_deg) < 1.0 and abs(mount.tilt_deg) < 1.0
    mount.close()


def test_dynamixel_mounting_offset_and_reversed_servo(servo_bus):
    """A pan servo fitted 30 deg off and upside down: joint angles still mean the same on the mount."""
    from hinge_coach_ros.drivers.dynamixel import ServoMounting

    bus, dev = servo_bus
    mount = DynamixelPanTilt(
        dev.port, 57600, 1, 2, LIMITS, ServoMounting(zero_deg=30.0, reversed=True), ServoMounting(-10.0)
    )
    mount.open()
    pan, tilt = bus.servos[1], bus.servos[2]

    # Joint pan -90..90 is servo 120..-60 (reversed: the low limit comes from the joint's high one).
    def limits(servo):
        return ticks_to_deg(servo.get(MIN_POSITION_LIMIT)), ticks_to_deg(servo.get(MAX_POSITION_LIMIT))

    # Rounded inward to whole ticks (0.088 deg).
    assert limits(pan) == pytest.approx((-60.0, 120.0), abs=0.09)
    assert limits(tilt) == pytest.approx((-40.0, 20.0), abs=0.09)
    mount.command(45.0, 10.0)
    mount.read_position()
    assert (pan.accepted_goals[-1], tilt.accepted_goals[-1]) == (deg_to_ticks(30.0 - 45.0), deg_to_ticks(0.0))
    mount.command(500.0, -500.0)  # past the joint limits: held at them, on the servo's side too
    mount.read_position()
    held = (pan.get(MIN_POSITION_LIMIT), deg_to_ticks(-40.0))
    assert (pan.accepted_goals[-1], tilt.accepted_goals[-1]) == held
    assert pan.refused_goals == [] and tilt.refused_goals == []
    mount.safe_stop()  # home is joint (0, 0): servo (30, -10), read back as joint angles
    assert abs(ticks_to_deg(pan.get(PRESENT_POSITION)) - 30.0) < 1.0
    assert abs(mount.pan_deg) < 1.0 and abs(mount.tilt_deg) < 1.0
    mount.close()


def test_dynamixel_mounting_that_needs_more_than_a_turn_is_refused():
    from hinge_coach_ros.drivers.dynamixel import ServoMounting

    with pytest.raises(DriverError, match="pan_servo_zero_deg 120 need servo angles 30 to 210 deg"):
        DynamixelPanTilt("/dev/null", 57600, 1, 2, LIMITS, ServoMounting(zero_deg=120.0))
    from hinge_coach_ros.params import ParameterError, validate

    with pytest.raises(ParameterError, match="pan_servo_zero_deg 120 need servo angles 30 to 210"):
        validate("feedback_node", {"pan_tilt_backend": "dynamixel", "pan_servo_zero_deg": 120.0})
    assert validate("feedback_node", {"pan_tilt_backend": "dynamixel", "pan_servo_zero_deg": 80.0})


def test_dynamixel_limits_changed_at_run_time_reach_the_servos(servo_bus):
    """Wider limits set while running (ros2 param set): the servos get them before the next goal."""
    import dataclasses

    bus, dev = servo_bus
    mount = DynamixelPanTilt(dev.port, 57600, 1, 2, LIMITS)
    mount.open()
    pan = bus.servos[1]
    mount.limits = dataclasses.replace(LIMITS, pan_min_deg=-120.0, pan_max_deg=120.0, max_speed_dps=30.0)
    mount.command(110.0, 0.0)  # past the old servo limit (90)
    mount.read_position()
    assert pan.accepted_goals[-1] == deg_to_ticks(110.0) and pan.refused_goals == []
    assert pan.get(MAX_POSITION_LIMIT) == deg_to_ticks(120.0) and pan.get(PROFILE_VELOCITY) == 21
    assert pan.torque_on and mount.torque_on
    mount.limits = dataclasses.replace(LIMITS, pan_min_deg=-45.0, pan_max_deg=45.0)
    mount.command(110.0, 0.0)  # narrower: held at the new limit, by the host and by the servo
    mount.read_position()
    assert pan.accepted_goals[-1] == deg_to_ticks(45.0) and pan.get(MAX_POSITION_LIMIT) == deg_to_ticks(45.0)
    from hinge_coach_ros.drivers.dynamixel import ServoMounting

    mount.set_mounting(ServoMounting(zero_deg=10.0), ServoMounting())  # the horn re-fitted, 10 deg on
    mount.command(20.0, 0.0)
    mount.read_position()
    assert pan.accepted_goals[-1] == deg_to_ticks(30.0)
    assert ticks_to_deg(pan.get(MAX_POSITION_LIMIT)) == pytest.approx(55.0, abs=0.09)  # inward
    mount.safe_stop()
    mount.close()


def test_dynamixel_missing_servo_is_a_one_line_error(servo_bus):
    _, dev = servo_bus
    with pytest.raises(DriverError, match="Dynamixel ID 3 .*ping"):
        DynamixelPanTilt(dev.port, 57600, 1, 3, LIMITS).open()


class ShortReadBus(ServoBusSim):
    """Answers READs with a valid status packet carrying ``short_data`` (fewer bytes than asked)."""

    short_data: bytes | None = None

    def _instruction(self, servo_id: int, body: bytes) -> bytes:
        if self.short_data is not None and body[0] == INST_READ and servo_id in self.servos:
            return status_packet(servo_id, 0, self.short_data)
        return super()._instruction(servo_id, body)


@pytest.mark.parametrize("data", [b"\x00\x08", b""])
def test_dynamixel_short_status_packet_is_a_one_line_error(data):
    bus = ShortReadBus.with_ids(1, 2)
    with PtyDevice(bus.handle, "sim-dynamixel-short") as dev:
        mount = DynamixelPanTilt(dev.port, 1000000, 1, 2, LIMITS)
        mount.open()
        bus.short_data = data
        with pytest.raises(DriverError, match=f"^Dynamixel ID 1: read 132: {len(data)} data bytes, not 4$"):
            mount.read_position()
        bus.short_data = None
        assert mount.read_position() == (0.0, 0.0)
        mount.close()


def test_dynamixel_unplugged_adapter_is_a_one_line_error(servo_bus):
    _, dev = servo_bus
    mount = DynamixelPanTilt(dev.port, 1000000, 1, 2, LIMITS)
    mount.open()
    dev.close()  # the USB adapter pulled: the port answers EIO (termios.error from dynamixel-sdk)
    for action in (lambda: mount.command(10.0, 0.0), mount.read_position, mount.torque_off):
        with pytest.raises(DriverError, match=f"^Dynamixel .*{dev.port}.*Input/output error"):
            action()
    mount.close()


def test_worker_reports_a_bad_status_packet_turns_the_torque_off_and_goes_on():
    bus = ShortReadBus.with_ids(1, 2)
    with PtyDevice(bus.handle, "sim-dynamixel-short") as dev:
        mount = DynamixelPanTilt(dev.port, 1000000, 1, 2, LIMITS)
        worker = DeviceWorker("pan_tilt", mount, retry_s=0.2, on_error=lambda d: d.torque_off())

        def drive(pan):
            def job(m):
                if not m.torque_on:
                    m.torque_enable()
                m.command(pan, 0.0)
                m.read_position()

            return job

        worker.submit(drive(10.0))
        assert wait_until(lambda: worker.jobs_done == 1)
        bus.short_data = b"\x00\x08"
        worker.submit(drive(11.0))
        assert wait_until(lambda: worker.failures == 1)
        assert worker.error == "Dynamixel ID 1: read 132: 2 data bytes, not 4"
        assert not bus.servos[1].torque_on and not bus.servos[2].torque_on
        bus.short_data = None
        worker.submit(drive(12.0))
        assert wait_until(lambda: worker.jobs_done == 2)
        worker.stop()
        assert worker.error is None and bus.servos[1].accepted_goals[-1] == deg_to_ticks(12.0)
        mount.safe_stop()
        mount.close()


def test_worker_reports_an_unplugged_dynamixel_adapter_and_reconnects(tmp_path):
    link = tmp_path / "ttyDXL"
    dev = plug(ServoBusSim.with_ids(1, 2).handle, link, "sim-dynamixel-1")
    mount = DynamixelPanTilt(str(link), 1000000, 1, 2, LIMITS)
    worker = DeviceWorker("pan_tilt", mount, retry_s=0.2, on_error=lambda d: d.torque_off())
    worker.submit(lambda m: m.command(10.0, 0.0))
    assert wait_until(lambda: worker.jobs_done == 1)
    dev.close()
    worker.submit(lambda m: m.command(11.0, 0.0))
    assert wait_until(lambda: worker.failures >= 1)
    assert worker.error.startswith("Dynamixel") and worker._thread.is_alive()
    bus = ServoBusSim.with_ids(1, 2)
    dev = plug(bus.handle, link, "sim-dynamixel-2")  # plugged in again
    try:
        worker.submit(lambda m: (m.command(12.0, 0.0), m.read_position()))
        assert wait_until(lambda: worker.jobs_done == 2)
        worker.stop()
        assert worker.error is None and bus.servos[1].accepted_goals == [deg_to_ticks(12.0)]
        mount.safe_stop()
        mount.close()
    finally:
        dev.close()


def test_simulated_servo_refuses_goals_past_its_limits_and_eeprom_writes_with_torque_on():
    bus = ServoBusSim.with_ids(1)
    servo = bus.servos[1]
    assert servo.write(MIN_POSITION_LIMIT[0], (1000).to_bytes(4, "little")) == 0
    servo.write(64, b"\x01")
    assert servo.write(MIN_POSITION_LIMIT[0], (0).to_bytes(4, "little")) == 7  # access error
    assert servo.write(116, (500).to_bytes(4, "little")) == 6  # data limit error
    assert servo.refused_goals == [500]


_BUS: dict = {}


def _shared_mount():
    if not _BUS:
        bus = ServoBusSim.with_ids(1, 2)
        dev = PtyDevice(bus.handle, "sim-dynamixel-prop")
        mount = DynamixelPanTilt(dev.port, 1000000, 1, 2, LIMITS)
        mount.open()
        _BUS.update(bus=bus, dev=dev, mount=mount)
    return _BUS["bus"], _BUS["mount"]


@settings(max_examples=40, deadline=None)
@given(
    commands=st.lists(
        st.tuples(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True)),
        min_size=1,
        max_size=8,
    )
)
def test_dynamixel_goal_positions_never_leave_the_limits(commands):
    bus, mount = _shared_mount()
    for pan, tilt in commands:
        mount.command(pan, tilt)
    mount.read_position()
    lo_p, hi_p = deg_to_ticks(-90), deg_to_ticks(90)
    lo_t, hi_t = deg_to_ticks(-30), deg_to_ticks(30)
    assert all(lo_p <= g <= hi_p for g in bus.servos[1].accepted_goals)
    assert all(lo_t <= g <= hi_t for g in bus.servos[2].accepted_goals)
    assert bus.servos[1].refused_goals == [] and bus.servos[2].refused_goals == []
    for pan_goal, tilt_goal in mount.goals_sent:
        assert lo_p <= pan_goal <= hi_p and lo_t <= tilt_goal <= hi_t


# -- acceleration cap, device worker --------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    targets=st.lists(st.tuples(st.floats(-400, 400), st.floats(-200, 200)), min_size=1, max_size=30),
    dts=st.lists(st.floats(0.0001, 2.0), min_size=1, max_size=30),
    caps=st.tuples(st.floats(1, 360), st.floats(1, 5000)),
)
def test_pan_tilt_speed_and_acceleration_stay_within_their_caps(targets, dts, caps):
    speed, accel = caps
    lim = PanTiltLimits(-90.0, 90.0, -30.0, 30.0, 0.0, 0.0, speed, 1.0, accel)
    c = PanTiltController(lim)
    mount = SimPanTilt(lim)
    velocity = (0.0, 0.0)
    for (pan, tilt), dt in zip(targets * 3, dts * 90):
        c.set_target(pan, tilt)
        before = (c.pan_deg, c.tilt_deg)
        c.step(dt)
        assert lim.inside(c.pan_deg, c.tilt_deg)
        for axis, (v0, v1, p0, p1) in enumerate(
            ((velocity[0], c.pan_dps, before[0], c.pan_deg), (velocity[1], c.tilt_dps, before[1], c.tilt_deg))
        ):
            assert abs(v1) <= speed * (1 + 1e-9), axis
            assert abs(v1 - v0) <= accel * dt * (1 + 1e-9) + 1e-9, axis
            assert math.isclose(p1 - p0, v1 * dt, abs_tol=1e-9)
        velocity = (c.pan_dps, c.tilt_dps)
        mount.command(c.pan_deg, c.tilt_deg)
    assert mount.rejected_commands == 0


def test_pan_tilt_settles_on_the_target():
    c = PanTiltController(LIMITS)
    c.set_target(45.0, -10.0)
    for _ in range(200):
        c.step(0.05)
    assert (c.pan_deg, c.tilt_deg) == (45.0, -10.0) and not c.moving


class FlakyMount(SimPanTilt):
    def __init__(self):
        super().__init__(LIMITS)
        self.fail = True
        self.torque_offs = 0

    def command(self, pan, tilt):
        if self.fail:
            raise DriverError("servo bus: no status packet")
        super().command(pan, tilt)

    def torque_off(self):
        self.torque_offs += 1
        super().torque_off()


def test_worker_turns_the_torque_off_on_a_driver_error_and_recovers():
    mount = FlakyMount()
    # A failed job is tried again after retry_s: long enough to see the first failure alone.
    worker = DeviceWorker("pan_tilt", mount, retry_s=0.3, on_error=lambda d: d.torque_off())
    done = threading.Event()
    worker.submit(lambda d: d.command(10.0, 0.0))
    while worker.failures == 0:
        done.wait(0.01)
    assert worker.error == "servo bus: no status packet" and mount.torque_offs == 1
    mount.fail = False
    worker.submit(lambda d: (d.command(10.0, 0.0), done.set()))
    assert done.wait(5.0)
    worker.stop()
    assert worker.error is None and mount.torque_on and mount.pan_deg == 10.0


def test_worker_survives_any_exception_from_a_job():
    mount = FlakyMount()
    mount.fail = False
    worker = DeviceWorker("pan_tilt", mount, retry_s=0.2, on_error=lambda d: d.torque_off())
    worker.submit(lambda d: [][0])  # an exception no driver should let through
    assert wait_until(lambda: worker.failures == 1)
    assert worker.error == "pan_tilt: IndexError('list index out of range')" and mount.torque_offs == 1
    assert worker._thread.is_alive()
    worker.submit(lambda d: d.command(20.0, 0.0))
    assert wait_until(lambda: worker.jobs_done == 1)
    worker.stop()
    assert worker.error is None and mount.pan_deg == 20.0


def test_worker_runs_a_park_submitted_while_it_waits_to_retry():
    mount = FlakyMount()
    worker = DeviceWorker("pan_tilt", mount, retry_s=0.3, on_error=lambda d: d.torque_off())
    worker.submit(lambda d: d.command(10.0, 0.0))
    assert wait_until(lambda: worker.failures == 1)
    failed_at = time.monotonic()
    mount.fail = False
    mount.pan_deg = 40.0
    worker.submit(lambda d: d.safe_stop())  # the node submits the park once
    assert wait_until(lambda: worker.jobs_done == 1)
    assert time.monotonic() - failed_at >= 0.15  # after the retry delay, not at once
    worker.stop()
    assert worker.error is None and worker.failures == 1
    assert (mount.pan_deg, mount.tilt_deg, mount.torque_on) == (0.0, 0.0, False)


def test_worker_tries_a_failed_park_again():
    mount = FlakyMount()
    mount.fail = False
    mount.command(40.0, 0.0)
    calls = []

    def flaky_safe_stop():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise DriverError("Dynamixel ID 1: no status packet")
        SimPanTilt.safe_stop(mount)

    mount.safe_stop = flaky_safe_stop
    worker = DeviceWorker("pan_tilt", mount, retry_s=0.2, on_error=lambda d: d.torque_off())
    worker.submit(lambda d: d.safe_stop())
    assert wait_until(lambda: worker.jobs_done == 1)
    worker.stop()
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.2  # after the retry delay
    assert worker.error is None and worker.failures == 1
    assert (mount.pan_deg, mount.torque_on) == (0.0, False)
