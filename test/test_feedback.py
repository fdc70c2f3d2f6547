"""Cue policy and pan-tilt aiming: one cue at a time, and never past the limits."""

import math
from dataclasses import replace

import numpy as np
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
