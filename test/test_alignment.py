"""The alignment engine against the synthetic athlete's truth."""

import math
from pathlib import Path

import numpy as np
import pytest

from hinge_coach_ros.accuracy import ANGLES, NOT_YET_RELIABLE, evaluate, format_result
from hinge_coach_ros.alignment import FAULT_PENALTY, HingeEngine
from hinge_coach_ros.athlete import PRESETS, AthleteSpec, CameraPlacement, generate


def run(session, params=None):
    engine = HingeEngine(params)
    reports = [engine.update(float(t), lm) for t, lm in zip(session.times_s, session.landmarks)]
    return engine, reports


def reps_of(reports):
    return [r.completed_rep for r in reports if r.completed_rep is not None]


@pytest.mark.parametrize("view", ["side", "oblique45"])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_angles_within_3_degrees_of_truth(preset, view):
    s = generate(AthleteSpec(preset=preset, reps=2, camera=CameraPlacement(view=view)))
    _, reports = run(s)
    for name in ("trunk_inclination_deg", "hip_flexion_deg", "knee_flexion_deg"):
        measured = np.array([getattr(r.angles, name) for r in reports])
        truth = getattr(s, name)
        error = np.abs(measured - truth)[30:]  # after the floor estimate has settled (1 s)
        assert error.mean() <= 3.0, (name, error.mean())


@pytest.mark.parametrize("view", ["side", "oblique45"])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_rep_count_and_squat_found_only_on_squat_reps(preset, view):
    faults = {2: {"squat": 45.0}, 4: {"squat": 35.0}}
    s = generate(AthleteSpec(preset=preset, reps=5, faults=faults, camera=CameraPlacement(view=view), seed=5))
    engine, reports = run(s, {"exercise": preset})
    reps = reps_of(reports)
    assert engine.rep_count == 5 and [r.index for r in reps] == [1, 2, 3, 4, 5]
    flagged = [("squat" in r.faults) for r in reps]
    assert flagged == [False, True, False, True, False]
    assert all(reps[i].score <= 100.0 - 0.25 * FAULT_PENALTY["squat"] for i in (1, 3))


def test_every_fault_found_on_its_reps_and_not_on_clean_reps():
    result = evaluate(seeds=(1, 2, 3))
    assert result.rep_count_exact == result.sessions
    for fault_id, tally in result.tallies.items():
        if fault_id in NOT_YET_RELIABLE:
            continue  # see accuracy.NOT_YET_RELIABLE and the README's accuracy section
        assert tally.faulty >= 6 and tally.clean >= 40
        # In each camera placement on its own, not only over both.
        for view, tallies in result.by_view.items():
            t = tallies[fault_id]
            assert t.faulty >= 3 and t.clean >= 20, (view, fault_id, t)
            assert t.detection_rate >= 0.95, (view, fault_id, t)
            assert t.false_alarm_rate <= 0.05, (view, fault_id, t)
    for name in ANGLES:
        assert result.angle_mae(name) <= 3.0, name
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert format_result(result) in readme, "README accuracy table is stale: paste `hinge-coach accuracy`"


@pytest.mark.parametrize("preset", ["box_lift", "deadlift", "dowel"])
def test_hips_rise_first_only_on_its_rep_and_only_in_pulls_from_the_floor(preset):
    # A stiff-legged rep (hips_high) keeps tipping the trunk after the hips stop sinking: that is
    # the end of the descent, not the hips rising first.
    faults = {2: {"hips_rise_first": 50.0}, 4: {"hips_high": 25.0}}
    s = generate(AthleteSpec(preset=preset, reps=5, faults=faults, seed=3))
    engine, reports = run(s, {"exercise": preset})
    assert engine.rep_count == 5
    flagged = ["hips_rise_first" in r.faults for r in reps_of(reports)]
    from_floor = PRESETS[preset].from_floor
    assert flagged == [False, from_floor, False, False, False]
    if from_floor:
        # The measured lead against the truth's 50 mm (the 0.2 s average takes a few mm off the peak);
        # nothing on the stiff-legged rep.
        lead = np.array([r.faults["hips_rise_first"].value for r in reports])
        assert s.reps[1]["hips_lead_mm"] == pytest.approx(50.0, abs=1.0)
        assert np.nanmax(lead[s.rep_index == 2]) == pytest.approx(50.0, abs=8.0)
        assert np.nanmax(lead[s.rep_index == 4]) < 10.0


def test_rep_times_match_truth():
    s = generate(AthleteSpec(reps=3))
    _, reports = run(s)
    phase = np.array(s.phase)
    for rep, truth in zip(reps_of(reports), s.reps):
        lockout_start = s.times_s[(s.rep_index == rep.index) & (phase == "lockout")][0]
        assert truth["start_s"] <= rep.start_s <= truth["start_s"] + 1.0
        # Lockout is called at 12 deg of hip flexion, a little before the athlete is fully tall.
        assert -0.5 < rep.end_s - lockout_start <= 0.05
        assert rep.peak_hip_flexion_deg > 70.0


def test_partial_dip_is_not_a_rep():
    s = generate(AthleteSpec(reps=2))
    engine, _ = run(s, {"min_rep_hip_flexion_deg": 100.0})
    assert engine.rep_count == 0


def test_person_leaving_mid_rep_drops_that_rep():
    s = generate(AthleteSpec(reps=3))
    lm = s.landmarks.copy()
    bottom_of_rep_2 = int(np.argmax(np.where(s.rep_index == 2, s.hip_flexion_deg, -np.inf)))
    gone = slice(bottom_of_rep_2, bottom_of_rep_2 + 60)  # 2 s without anybody
    lm[gone, :, :3] = np.nan
    lm[gone, :, 3] = 0.0
    engine = HingeEngine()
    reports = [engine.update(float(t), f) for t, f in zip(s.times_s, lm)]
    assert any(r.phase == "no_person" and not r.person for r in reports)
    assert engine.rep_count == 2  # reps 1 and 3; the interrupted one is not counted


def test_short_dropout_keeps_the_rep():
    s = generate(AthleteSpec(reps=2))
    lm = s.landmarks.copy()
    lm[100:105, :, 3] = 0.0  # 5 frames of lost tracking
    engine = HingeEngine()
    for t, f in zip(s.times_s, lm):
        engine.update(float(t), f)
    assert engine.rep_count == 2


def test_nan_landmarks_are_not_measured_never_guessed():
    engine = HingeEngine()
    lm = np.full((33, 4), np.nan)
    report = engine.update(0.0, lm)
    assert not report.person and report.angles is None
    assert report.faults["squat"].measurable is False and not report.faults["squat"].active
    with pytest.raises(ValueError, match="33, 4"):
        engine.update(0.1, np.zeros((17, 3)))


def test_pause_at_the_bottom_is_one_rep():
    s = generate(AthleteSpec(reps=1))
    i = int(np.argmax(s.hip_flexion_deg))
    # Hold the bottom for 3 s by repeating that frame.
    hold = np.repeat(s.landmarks[i : i + 1], 90, axis=0)
    lm = np.concatenate([s.landmarks[:i], hold, s.landmarks[i:]])
    engine = HingeEngine()
    phases = [engine.update(k / 30.0, f).phase for k, f in enumerate(lm)]
    assert engine.rep_count == 1
    assert "bottom" in phases


def test_fixed_up_vector_is_used_when_asked():
    s = generate(AthleteSpec(reps=1))
    wrong = {"up_source": "fixed", "up_vector": [1.0, 0.0, 0.0]}
    _, reports = run(s, wrong)
    trunk = np.array([r.angles.trunk_inclination_deg for r in reports])
    assert np.abs(trunk[:20]).min() > 45.0  # standing reads as leaning: the given vector was used
    assert math.isfinite(trunk[0])


def test_facing_ignores_a_hidden_foot_that_the_model_guessed():
    from hinge_coach_ros.geometry import facing_direction, frame_angles
    from hinge_coach_ros.landmarks import INDEX

    s = generate(AthleteSpec(preset="dowel", reps=1, landmark_noise_m=0.0))
    i = int(np.argmax(s.hip_flexion_deg))  # the deepest point
    lm = s.landmarks[i].copy()
    both = facing_direction(lm, s.up_optical)
    # Side-on, the far foot is hidden: a guessed toe 12 cm off toward the camera, seen less surely.
    lm[INDEX["right_foot_index"], :3] += np.array([0.0, 0.0, -0.12])
    lm[[INDEX["right_heel"], INDEX["right_foot_index"]], 3] = 0.4
    facing = facing_direction(lm, s.up_optical)
    near_foot = lm[INDEX["left_foot_index"], :3] - lm[INDEX["left_heel"], :3]
    near_foot -= (near_foot @ s.up_optical) * s.up_optical
    np.testing.assert_allclose(facing, near_foot / np.linalg.norm(near_foot), atol=1e-12)
    # One foot turns out a little (4 deg here): the sagittal angles barely notice.
    assert math.degrees(math.acos(np.clip(facing @ both, -1, 1))) < 5.0
    a = frame_angles(lm, s.up_optical)
    assert a.trunk_inclination_deg == pytest.approx(s.trunk_inclination_deg[i], abs=0.3)
    assert a.hip_flexion_deg == pytest.approx(s.hip_flexion_deg[i], abs=0.3)
    lm[[INDEX["right_heel"], INDEX["right_foot_index"]], 3] = 0.95  # trusted as much: it counts
    facing = facing_direction(lm, s.up_optical)
    assert math.degrees(math.acos(np.clip(facing @ both, -1, 1))) > 8.0


def test_landmark_jitter_does_not_make_a_controlled_descent_fast():
    # 1.5 cm of jitter per landmark and frame: far more than the depth camera leaves after lifting.
    s = generate(AthleteSpec(preset="dowel", reps=3, landmark_noise_m=0.015, seed=3))
    engine, reports = run(s, {"exercise": "dowel"})
    reps = reps_of(reports)
    assert len(reps) == 3
    assert not any("fast_descent" in r.faults for r in reps)
    fast = generate(AthleteSpec(preset="dowel", reps=1, faults={1: {"fast_descent": 2.0}}, seed=3))
    assert "fast_descent" in reps_of(run(fast, {"exercise": "dowel"})[1])[0].faults


def test_a_rep_without_lockout_that_goes_straight_back_down_is_its_own_rep():
    """Box lift, seed 4, every fault in turn: the incomplete-lockout rep stops 20 deg short of
    standing and the next rep starts without a pause. Going back down from high up ends the rep
    there (an incomplete lockout), not 'same rep, deeper', which merged the two."""
    from hinge_coach_ros.accuracy import FAULT_CASES, _session_faults

    faults = _session_faults(list(FAULT_CASES))
    spec = AthleteSpec(preset="box_lift", reps=2 * len(FAULT_CASES) + 1, faults=faults, seed=4)
    session = generate(spec)
    engine = HingeEngine({"exercise": "box_lift"})
    reps = []
    for t, lm in zip(session.times_s, session.landmarks):
        report = engine.update(float(t), lm)
        if report.completed_rep is not None:
            reps.append(report.completed_rep)
    assert len(reps) == spec.reps
    for rep, truth in zip(reps, session.reps):
        assert truth["start_s"] - 0.1 <= rep.start_s and rep.end_s <= truth["end_s"] + 0.1
        assert ("incomplete_lockout" in rep.faults) == ("incomplete_lockout" in truth["faults"])


def _truth_backs(spec, session):
    """Each frame's back surface as the camera's back scan gives it, from the athlete's truth
    (optical frame, fractions along hip -> shoulder -> ear from the image)."""
    from hinge_coach_ros.athlete import body_for
    from hinge_coach_ros.dowel import BackProfile, station_fractions
    from hinge_coach_ros.sources import Intrinsics

    rotation, translation = spec.camera.world_to_optical()
    intr = Intrinsics()
    backs = []
    for pose in session.poses:
        body = body_for(spec, pose)
        j = body.joints
        axis = np.stack(
            [0.5 * (j["left_hip"] + j["right_hip"]), 0.5 * (j["left_shoulder"] + j["right_shoulder"])]
        )
        axis = np.vstack([axis, body.head_centre]) @ rotation.T + translation
        points = body.back_profile @ rotation.T + translation
        fractions = station_fractions(intr.project(points), intr.project(axis))
        backs.append(BackProfile(points, np.ones(len(points), bool), fractions))
    return backs


@pytest.mark.parametrize("preset", ["box_lift", "deadlift"])
def test_rounded_back_is_judged_on_the_back_profile_side_on_not_read_as_a_dropped_head(preset):
    faults = {2: {"rounded_back": 25.0}, 4: {"head_down": 30.0}}
    spec = AthleteSpec(preset=preset, reps=5, faults=faults, seed=3)
    s = generate(spec)
    engine = HingeEngine({"exercise": preset})
    reps = reps_of(
        engine.update(float(t), lm, back)
        for t, lm, back in zip(s.times_s, s.landmarks, _truth_backs(spec, s))
    )
    assert len(reps) == 5
    assert [sorted(r.faults) for r in reps] == [[], ["rounded_back"], [], ["head_down"], []]
    assert all("rounded_back" not in r.not_measurable for r in reps)
    # Without the back profile the same skeleton reads the rounded back as a dropped head,
    # and says the back was not measured.
    reps = reps_of(run(s, {"exercise": preset})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["head_down"], [], ["head_down"], []]
    assert all("rounded_back" in r.not_measurable for r in reps)


def test_rounded_back_is_not_judged_on_an_oblique_view():
    # At 45 deg the back's rim seen by the camera is not its midline: not measurable.
    spec = AthleteSpec(
        preset="box_lift",
        reps=3,
        faults={2: {"rounded_back": 25.0}},
        camera=CameraPlacement(view="oblique45"),
    )
    s = generate(spec)
    engine = HingeEngine({"exercise": "box_lift"})
    reps = reps_of(
        engine.update(float(t), lm, back)
        for t, lm, back in zip(s.times_s, s.landmarks, _truth_backs(spec, s))
    )
    assert len(reps) == 3 and all("rounded_back" in r.not_measurable for r in reps)
