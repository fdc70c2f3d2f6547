"""Cue policy and pan-tilt aiming: one cue at a time, and never past the limits."""

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hinge_coach_ros.drivers import SimPanTilt
from hinge_coach_ros.feedback import (
    LED_COLOURS,
    CuePolicy,
    PanTiltController,
    PanTiltLimits,
    ReportView,
    RepView,
    aim_at,
    format_rep_line,
    format_summary,
)

LIMITS = PanTiltLimits(-90.0, 90.0, -30.0, 30.0, 0.0, 0.0, 60.0, 2.0)


def report(phase="descent", cues=None, person=True):
    return ReportView(person=person, phase=phase, rep_count=0, hip_flexion_deg=40.0, active_cues=cues or {})


def rep(faults=None, index=1):
    return RepView(index, 60.0 if faults else 100.0, 80.0, 60.0, 20.0, 2.0, faults or {})


def test_led_states_follow_the_rep():
    p = CuePolicy(cue_min_dwell_s=1.0, rep_result_hold_s=1.5)
    p.on_report(0.0, report(person=False))
    assert p.led_state == "no_person"
    p.on_report(0.1, report(phase="setup"))
    assert p.led_state == "ready"
    p.on_report(0.2, report(phase="descent"))
    assert p.led_state == "good" and p.colour == LED_COLOURS["good"]
    p.on_report(0.3, report(cues={"squat": "hips_back"}))
    assert p.led_state == "cue" and p.cue_key == "hips_back"
    assert "Hips back" in p.cue_text


def test_cue_dwells_instead_of_flickering():
    p = CuePolicy(cue_min_dwell_s=1.0, rep_result_hold_s=1.5)
    p.on_report(0.0, report(cues={"squat": "hips_back"}))
    p.on_report(0.2, report())  # fault gone after 0.2 s: keep the cue
    assert p.led_state == "cue"
    p.on_report(1.1, report())
    assert p.led_state == "good"


def test_rep_result_is_held_then_released():
    p = CuePolicy(cue_min_dwell_s=0.5, rep_result_hold_s=1.5)
    p.on_rep(0.0, rep())
    assert (p.led_state, p.cue_key) == ("good", "good_rep")
    p.on_report(1.0, report(phase="lockout"))
    assert p.led_state == "good"
    p.on_report(1.6, report(phase="setup"))
    assert p.led_state == "ready"
    p.on_rep(2.0, rep({"squat": 0.8}))
    assert (p.led_state, p.cue_key) == ("cue", "hips_back")


def test_aim_at_points_at_the_head():
    mount = np.array([0.0, 0.0, 0.0])
    assert aim_at(np.array([0.0, 0.0, 3.0]), mount, 0.0) == (0.0, 0.0)
    pan, tilt = aim_at(np.array([3.0, 0.0, 3.0]), mount, 0.0)
    assert math.isclose(pan, 45.0) and math.isclose(tilt, 0.0, abs_tol=1e-9)
    pan, tilt = aim_at(np.array([0.0, -3.0, 3.0]), mount, 0.0)  # above: optical y is down
    assert math.isclose(tilt, 45.0)
    pan, _ = aim_at(np.array([0.0, 0.0, 3.0]), mount, 30.0)
    assert math.isclose(pan, -30.0)


def test_controller_is_rate_limited_and_dead_banded():
    c = PanTiltController(LIMITS)
    c.set_target(50.0, 0.0)
    pan, _ = c.step(0.1)
    assert math.isclose(pan, 6.0)  # 60 deg/s for 0.1 s
    c.set_target(51.0, 0.5)  # inside the 2 deg dead band: target unchanged
    assert c.target == (50.0, 0.0)
    c.set_target(float("nan"), 0.0)
    assert c.target == (50.0, 0.0)


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    targets=st.lists(
        st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True)), min_size=1, max_size=30
    ),
    dts=st.lists(st.floats(min_value=-1.0, max_value=5.0), min_size=1, max_size=30),
    limits=st.tuples(
        st.floats(-180, 0), st.floats(0, 180), st.floats(-90, 0), st.floats(0, 90), st.floats(1, 360)
    ),
)
def test_no_command_ever_leaves_the_limits(targets, dts, limits):
    pan_min, pan_max, tilt_min, tilt_max, speed = limits
    lim = PanTiltLimits(pan_min, pan_max, tilt_min, tilt_max, 0.0, 0.0, speed, 1.0)
    c = PanTiltController(lim)
    mount = SimPanTilt(lim)
    for (pan, tilt), dt in zip(targets, dts * (len(targets) // len(dts) + 1)):
        c.set_target(pan, tilt)
        before = (c.pan_deg, c.tilt_deg)
        cmd_pan, cmd_tilt = c.step(dt)
        assert pan_min <= cmd_pan <= pan_max and tilt_min <= cmd_tilt <= tilt_max
        assert abs(cmd_pan - before[0]) <= speed * max(dt, 0.0) + 1e-9
        assert abs(cmd_tilt - before[1]) <= speed * max(dt, 0.0) + 1e-9
        mount.command(cmd_pan, cmd_tilt)
    assert mount.rejected_commands == 0


def test_sim_mount_safe_stop_goes_home_and_drops_torque():
    mount = SimPanTilt(PanTiltLimits(-90, 90, -30, 30, 10.0, -5.0, 60, 1))
    mount.command(80.0, 20.0)
    mount.safe_stop()
    assert (mount.pan_deg, mount.tilt_deg, mount.torque_on) == (10.0, -5.0, False)
    mount.command(50.0, 0.0)  # torque off: it does not move
    assert mount.pan_deg == 10.0
    mount.command(500.0, 0.0)  # and a sim mount never goes past its limits
    assert mount.pan_deg == 10.0


def test_rep_line_and_summary():
    line = format_rep_line(rep({"squat": 0.75}, index=2), "cue")
    assert line.startswith("rep 2:") and "squat(0.75)" in line and "LED cue" in line and "score 60" in line
    summary = format_summary([rep(), rep({"squat": 1.0}, 2), rep(index=3)])
    assert summary == "session: 3 reps, 2 clean, mean score 87 | faults: squat x1"
    unjudged = RepView(4, 100.0, 80.0, 60.0, 20.0, 2.0, {}, ("no_brace", "rounded_back"))
    line = format_rep_line(unjudged, "good")
    assert "faults: none | not measurable: no_brace, rounded_back | score 100" in line
    summary = format_summary([rep(), unjudged, replace(unjudged, index=5, not_measurable=("no_brace",))])
    assert summary.endswith("| faults: none | not measurable: no_brace x2, rounded_back x1")


def _sweep(c: PanTiltController, dt_s: float, steps: int) -> np.ndarray:
    """The commands of ``steps`` control steps, one row (pan, tilt) each, the start first."""
    rows = [(c.pan_deg, c.tilt_deg)]
    rows += [c.step(dt_s) for _ in range(steps)]
    return np.array(rows)


def test_limits_narrowed_around_the_mount_bring_it_back_under_the_speed_and_acceleration_caps():
    speed_dps, accel_dps2, dt_s = 60.0, 120.0, 0.02
    lim = replace(LIMITS, max_speed_dps=speed_dps, max_accel_dps2=accel_dps2)
    c = PanTiltController(lim)
    c.set_target(60.0, 25.0)
    _sweep(c, dt_s, 300)
    assert (c.pan_deg, c.tilt_deg) == (60.0, 25.0) and not c.moving
    # What a `ros2 param set` does while the mount stands outside the new limits.
    c.limits = replace(lim, pan_min_deg=-20.0, pan_max_deg=20.0, tilt_min_deg=-10.0, tilt_max_deg=10.0)
    commands = _sweep(c, dt_s, 300)
    velocity_dps = np.diff(commands, axis=0) / dt_s
    accel_dps2_seen = np.diff(np.vstack([[0.0, 0.0], velocity_dps]), axis=0) / dt_s  # from standing still
    assert np.abs(velocity_dps).max() <= speed_dps + 1e-9
    assert np.abs(accel_dps2_seen).max() <= accel_dps2 + 1e-6
    # Straight back in: never farther out, never past the new limit (the clamped target) and back.
    assert (np.diff(commands, axis=0) <= 1e-12).all()
    assert commands[:, 0].min() >= 20.0 - 1e-9 and commands[:, 1].min() >= 10.0 - 1e-9
    assert c.target == (20.0, 10.0)
    assert commands[-1] == pytest.approx([20.0, 10.0], abs=1e-6) and abs(c.pan_dps) < 1e-6
    assert 0.5 < np.argmax(commands[:, 0] <= 20.0 + 1e-6) * dt_s < 2.0  # about 1.2 s for 40 deg


def test_a_mount_found_outside_the_limits_after_a_reconnect_comes_back_under_the_caps():
    speed_dps, accel_dps2, dt_s = 60.0, 120.0, 0.02
    lim = replace(
        LIMITS, pan_min_deg=-20.0, pan_max_deg=20.0, max_speed_dps=speed_dps, max_accel_dps2=accel_dps2
    )
    c = PanTiltController(lim)
    c.reset(50.0, 0.0)  # turned by hand while its torque was off
    assert (c.pan_deg, c.tilt_deg) == (50.0, 0.0)
    commands = _sweep(c, dt_s, 200)
    assert (np.abs(np.diff(commands, axis=0)) <= speed_dps * dt_s + 1e-9).all()
    assert (np.diff(commands[:, 0]) <= 1e-12).all()  # straight back in, never farther out
    assert c.target == (lim.home_pan_deg, lim.home_tilt_deg) == (0.0, 0.0)
    assert commands[-1] == pytest.approx([0.0, 0.0], abs=1e-6)  # on to its target, inside
    c.reset(math.nan, 5.0)  # a position the mount could not report: kept
    assert (c.pan_deg, c.tilt_deg) == pytest.approx((0.0, 0.0), abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(
    target=st.tuples(st.floats(-90, 90), st.floats(-30, 30)),
    moved_s=st.floats(0.0, 3.0),
    narrowed=st.tuples(st.floats(-90, 0), st.floats(0, 90), st.floats(-30, 0), st.floats(0, 30)),
    accel_dps2=st.floats(10.0, 1000.0) | st.just(math.inf),
)
def test_a_mount_outside_narrowed_limits_is_never_commanded_farther_out_nor_past_the_speed_cap(
    target, moved_s, narrowed, accel_dps2
):
    dt_s, speed_dps = 0.02, LIMITS.max_speed_dps
    lim = replace(LIMITS, max_accel_dps2=accel_dps2)
    c = PanTiltController(lim)
    c.set_target(*target)
    _sweep(c, dt_s, int(moved_s / dt_s))  # still moving, or at rest, when the limits change
    pan_min, pan_max, tilt_min, tilt_max = narrowed
    c.limits = replace(
        lim, pan_min_deg=pan_min, pan_max_deg=pan_max, tilt_min_deg=tilt_min, tilt_max_deg=tilt_max
    )
    commands = _sweep(c, dt_s, 400)
    assert (np.abs(np.diff(commands, axis=0)) <= speed_dps * dt_s + 1e-9).all()
    outside = np.column_stack(
        [
            np.maximum(0.0, np.maximum(pan_min - commands[:, 0], commands[:, 0] - pan_max)),
            np.maximum(0.0, np.maximum(tilt_min - commands[:, 1], commands[:, 1] - tilt_max)),
        ]
    )
    assert (np.diff(outside, axis=0) <= 1e-9).all()  # never farther beyond a limit than it already was
    inside = (outside <= 1e-9).all(axis=1)
    assert inside[-1] and inside[np.argmax(inside) :].all()  # back inside within 8 s, and stays there
