"""The alignment engine against the synthetic athlete's truth."""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hinge_coach_ros.accuracy import ANGLES, NOT_YET_RELIABLE, evaluate, format_result
from hinge_coach_ros.alignment import FAULT_PENALTY, FLOOR_PULL_CHECKS, CameraView, HingeEngine, checks_for
from hinge_coach_ros.athlete import FAULT_IDS, PRESETS, AthleteSpec, CameraPlacement, generate
from hinge_coach_ros.geometry import frame_angles
from hinge_coach_ros.landmarks import INDEX, LANDMARK_NAMES


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
        if fault_id == "no_brace":
            # Judged on the back surface from depth, which the skeleton has not: not measurable
            # on every rep it could be counted on (its own and the clean ones), never guessed.
            assert tally.faulty == tally.clean == 0 and tally.not_measurable >= 200, tally
            continue
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


def test_a_hips_first_lead_just_over_the_threshold_is_found_though_brief():
    # 30 mm of lead against the 25 mm threshold: on the 0.2 s averaged heights it reads 26 mm,
    # over the threshold for 3 frames (0.07 s), as the rendered box lift at 45 deg's 50 mm did.
    spec = AthleteSpec(preset="box_lift", reps=1, faults={1: {"hips_rise_first": 30.0}}, landmark_noise_m=0.0)
    s = generate(spec)
    engine, reports = run(s, {"exercise": "box_lift"})
    lead = np.array([r.faults["hips_rise_first"].value for r in reports])
    over = np.flatnonzero(lead > 25.0)
    assert 2 <= len(over) <= 4 and np.all(np.diff(over) == 1)
    assert [r.faults for r in reps_of(reports)] == [{"hips_rise_first": pytest.approx(0.27, abs=0.05)}]
    clean = generate(replace(spec, faults={1: {"hips_rise_first": 20.0}}))
    assert reps_of(run(clean, {"exercise": "box_lift"})[1])[0].faults == {}


def _frames_of(s, rep: int, phase: str) -> np.ndarray:
    return np.flatnonzero((s.rep_index == rep) & (np.array(s.phase) == phase))


def _frame_past(s, rep: int, phase: str, fraction: float) -> int:
    """The first frame of ``rep``'s descent or ascent whose hip flexion has passed ``fraction``
    of the phase's deepest: going down in the descent, coming up in the ascent."""
    frames = _frames_of(s, rep, phase)
    hip = s.hip_flexion_deg[frames]
    passed = hip >= fraction * hip.max() if phase == "descent" else hip <= fraction * hip.max()
    return int(frames[np.argmax(passed)])


def _paused_on_the_way_down(s, fraction: float, pause_s: float):
    """The session's frames with every rep's descent held still for ``pause_s`` once the hip
    flexion reaches ``fraction`` of that rep's deepest: (times, landmarks)."""
    parts, start = [], 0
    for rep in range(1, len(s.reps) + 1):
        at = _frame_past(s, rep, "descent", fraction)
        held = np.repeat(s.landmarks[at : at + 1], round(pause_s * s.fps), axis=0)
        parts += [s.landmarks[start : at + 1], held]
        start = at + 1
    landmarks = np.concatenate([*parts, s.landmarks[start:]])
    return s.times_s[0] + np.arange(len(landmarks)) / s.fps, landmarks


def _thrown(s, phase: str, fraction: float, to: str) -> np.ndarray:
    """The session's landmarks with 3 frames of every rep, once past ``fraction`` of its
    descent or ascent, thrown to standing (just before the descent) or to the bottom posture:
    what BlazePose does now and then."""
    landmarks = s.landmarks.copy()
    for rep in range(1, len(s.reps) + 1):
        at = _frame_past(s, rep, phase, fraction)
        source = _frames_of(s, rep, "descent")[0] - 5 if to == "standing" else _frames_of(s, rep, "bottom")[0]
        landmarks[at : at + 3] = s.landmarks[source]
    return landmarks


@pytest.mark.parametrize("fraction", [0.5, 0.7])
@pytest.mark.parametrize("preset", ["box_lift", "deadlift"])
def test_a_pause_on_the_way_down_is_not_the_bottom_of_a_pull(preset, fraction):
    # A patient stops for a moment on the way down, and the engine reads a bottom there before
    # the descent goes on. The knees of that moment are no stiff-legged bottom (hips_high was
    # raised on the clean rep), and its most upright trunk is no reference for the hips rising
    # first (raised too, from the real bottom): both are taken from the real bottom.
    faults = {2: {"hips_high": 25.0}, 3: {"hips_rise_first": 50.0}}
    s = generate(AthleteSpec(preset=preset, reps=3, faults=faults, seed=1))
    times, landmarks = _paused_on_the_way_down(s, fraction, 0.6)
    engine = HingeEngine({"exercise": preset})
    reps, bottoms, phase = [], 0, engine.phase
    for t, lm in zip(times, landmarks):
        report = engine.update(float(t), lm)
        bottoms += engine.phase == "bottom" != phase
        phase = engine.phase
        reps += [report.completed_rep] if report.completed_rep else []
    assert bottoms >= 6  # the pause read as a bottom in each rep, then the real one
    assert [sorted(r.faults) for r in reps] == [[], ["hips_high"], ["hips_rise_first"]]


@pytest.mark.parametrize("tempo", [1.0, 0.35])
@pytest.mark.parametrize("fraction", [0.4, 0.6])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_pose_model_throwing_the_hips_up_mid_descent_leaves_the_rep_clean(preset, fraction, tempo):
    # BlazePose now and then throws the hips up for a few frames: standing, mid-descent. That
    # reads as a dip, and the rep goes on when the hips come back (DIP_GRACE_S): started afresh
    # from there, its descent was timed from half-way (a fast one). Its falling speed is its
    # own: taken on slopes reaching back into the dip it was negative, the rep turned into an
    # ascent on its next frame, and its knees at that "bottom" were a stiff-legged pull's.
    s = generate(AthleteSpec(preset=preset, reps=3, tempo=tempo, seed=1))
    landmarks = _thrown(s, "descent", fraction, "standing")
    engine = HingeEngine({"exercise": preset})
    reports = [engine.update(float(t), lm) for t, lm in zip(s.times_s, landmarks)]
    assert [r.faults for r in reps_of(reports)] == [{}, {}, {}]


@pytest.mark.parametrize("tempo", [1.0, 0.35])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_pose_model_throwing_the_hips_up_short_of_a_dip_does_not_end_the_rep(preset, tempo):
    # BlazePose throws the hips up for 5 frames past half the descent, to 16 deg: over the
    # lockout angle (raised to 20 for a patient who cannot stand taller) but short of a dip.
    # The 0.3 s slope, reaching back into those frames, read falling while the hips went back
    # down: a turn into the ascent, and the thrown frames' median under the lockout angle
    # closed the rep there, an incomplete lockout, and its second half was a rep of its own.
    s = generate(AthleteSpec(preset=preset, reps=3, tempo=tempo, seed=1))
    landmarks = s.landmarks.copy()
    for rep in range(1, 4):
        descent = _frames_of(s, rep, "descent")
        at = _frame_past(s, rep, "descent", 0.55)
        thrown_to = descent[np.argmin(np.abs(s.hip_flexion_deg[descent] - 16.0))]
        landmarks[at : at + 5] = s.landmarks[thrown_to]
    engine = HingeEngine({"exercise": preset, "lockout_hip_flexion_deg": 20.0})
    reps = reps_of([engine.update(float(t), lm) for t, lm in zip(s.times_s, landmarks)])
    # And the descent is timed from where it passed a fifth of its depth before the throw:
    # from the last crossing after it, at the usual pace it read as a fast one.
    assert [r.faults for r in reps] == [{}, {}, {}]


@pytest.mark.parametrize(
    ("placed", "counted"),
    [("all of it", False), ("nothing", True), ("the bottom", True)],
)
def test_a_rep_on_legs_the_pose_model_lost_for_a_moment_is_not_counted(placed, counted):
    # Holding a box still at an incomplete top (rendered at 45 deg, a third of the pace),
    # BlazePose lost the legs for a second, and its placed joints read a 1.2-1.5 s rep: here
    # rep 1's frames at 3 times their pace (1 s), inserted into rep 2's hold at its incomplete top.
    # Legs seen, that is a rep; its bottom alone hidden (someone passing), a rep too (as the
    # legs placed beyond 0.7 of the depth, test_a_peak_set_on_placed_joints_is_not_reported).
    s = generate(AthleteSpec(preset="box_lift", reps=3, faults={2: {"incomplete_lockout": 20.0}}, seed=1))
    rep_1 = np.concatenate([_frames_of(s, 1, phase) for phase in ("descent", "bottom", "ascent")])
    rep_1 = rep_1[s.hip_flexion_deg[rep_1] > 30.0][::3]  # from the incomplete top (26 deg) and back
    made_up = s.landmarks[rep_1].copy()
    legs = [INDEX[f"{side}_{part}"] for side in ("left", "right") for part in ("hip", "knee", "ankle")]
    if placed != "nothing":
        bottom = np.array(s.phase)[rep_1] == "bottom"
        hidden = bottom if placed == "the bottom" else np.ones(len(made_up), bool)
        made_up[np.ix_(hidden, legs, [3])] = 0.45  # placed, not seen
    at = int(_frames_of(s, 2, "lockout")[5])
    landmarks = np.concatenate([s.landmarks[: at + 1], made_up, s.landmarks[at + 1 :]])
    times = s.times_s[0] + np.arange(len(landmarks)) / s.fps
    engine = HingeEngine({"exercise": "box_lift"})
    reps = reps_of([engine.update(float(t), lm) for t, lm in zip(times, landmarks)])
    assert len(reps) == (4 if counted else 3)
    assert [sorted(r.faults) for r in reps][:2] == [[], ["incomplete_lockout"]]


@pytest.mark.parametrize("to", ["bottom", "standing"])
@pytest.mark.parametrize("tempo", [1.0, 0.35])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_the_pose_model_throwing_the_hips_half_way_up_leaves_the_rep_whole(preset, tempo, to):
    # Three frames of the bottom posture half-way up read as a turn down (same rep, deeper);
    # then the hips are back at the top while the rep is in a descent. That is the rep's top,
    # not a dip at the start of one: dropped as a dip, every rep was lost. Its descent is the
    # one before the turn: with the thrown frames in it, it read as a fast one.
    # Three frames of the standing posture: read frame by frame, that was the top (the hip
    # under the lockout angle), and every rep closed there as an incomplete lockout.
    s = generate(AthleteSpec(preset=preset, reps=3, tempo=tempo, seed=2))
    landmarks = _thrown(s, "ascent", 0.5, to)
    engine = HingeEngine({"exercise": preset})
    reps = reps_of([engine.update(float(t), lm) for t, lm in zip(s.times_s, landmarks)])
    assert engine.rep_count == 3
    assert [r.faults for r in reps] == [{}, {}, {}]
    # Each rep ends near its real top (thrown to standing, up to 0.23 s early: the hips coming
    # back read as two frames going down, a turn near the top).
    unthrown = reps_of(run(s, {"exercise": preset})[1])
    assert [r.end_s for r in reps] == pytest.approx([r.end_s for r in unthrown], abs=0.25)


def test_an_exercise_reports_only_its_own_checks():
    # The dowel drill has no load to pull from the floor: a report that listed hips_high as
    # judged and fine would tell a clinician it was assessed.
    s = generate(AthleteSpec(preset="dowel", reps=2, seed=3))
    engine, reports = run(s, {"exercise": "dowel"})
    dowel_checks = set(checks_for("dowel"))
    assert dowel_checks == set(FAULT_IDS) - FLOOR_PULL_CHECKS == set(engine.exercise_checks)
    assert all(set(r.faults) == dowel_checks for r in reports)
    gone = engine.update(float(s.times_s[-1]) + 5.0, np.full((33, 4), np.nan))
    assert not gone.person and set(gone.faults) == dowel_checks
    assert all(not FLOOR_PULL_CHECKS & set(r.not_measurable) for r in reps_of(reports))
    engine.set_params({"exercise": "box_lift"})
    assert set(engine.update(float(s.times_s[0]) + 60.0, s.landmarks[0]).faults) == set(FAULT_IDS)


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


def test_a_person_who_walks_in_mid_descent_is_not_judged_on_half_a_rep():
    s = generate(AthleteSpec(reps=3))
    lm = s.landmarks.copy()
    descent = np.flatnonzero((s.rep_index == 1) & (np.asarray(s.phase) == "descent"))
    lm[: descent[len(descent) // 2], :, :3] = np.nan  # nobody there until half-way down rep 1
    lm[: descent[len(descent) // 2], :, 3] = 0.0
    engine, reports = run(replace(s, landmarks=lm))
    reps = reps_of(reports)
    reference = reps_of(run(s)[1])
    # Rep 1 is not counted (its descent read as fast when it was); reps 2 and 3 are as before.
    assert engine.rep_count == 2 and all(not r.faults for r in reps)
    assert [r.start_s for r in reps] == [r.start_s for r in reference[1:]]


def _turned(lm, up, angle_deg):
    """The skeleton turned about the vertical through its hips' midpoint."""
    centre = 0.5 * (lm[INDEX["left_hip"], :3] + lm[INDEX["right_hip"], :3])
    k = up / np.linalg.norm(up)
    a = math.radians(angle_deg)
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    rotation = np.eye(3) + math.sin(a) * cross + (1 - math.cos(a)) * cross @ cross
    out = lm.copy()
    out[:, :3] = (lm[:, :3] - centre) @ rotation.T + centre
    return out


@pytest.mark.parametrize("turn_deg", [90.0, 180.0])
def test_turning_away_mid_rep_does_not_split_it_or_read_as_fast(turn_deg):
    s = generate(AthleteSpec(reps=3))
    descent = np.flatnonzero((s.rep_index == 2) & (np.asarray(s.phase) == "descent"))
    start = descent[len(descent) // 2]
    lm = s.landmarks.copy()
    for i in range(start, len(lm)):  # turns over half a second, then stays turned
        lm[i] = _turned(s.landmarks[i], s.up_optical, turn_deg * min(1.0, (i - start) / 15))
    engine, reports = run(replace(s, landmarks=lm))
    reps = reps_of(reports)
    # Turning read the hips as standing tall in the old plane: rep 2 closed half-way and its
    # rest counted as a fast third rep (90 deg). The frames turned away are not measured now.
    assert engine.rep_count == 3 and all(not r.faults for r in reps)
    assert any(r.person and r.angles is None for r in reports[start : start + 30])
    if turn_deg == 180.0:
        # Measured again only at the bottom (the new facing is taken there), the descent's
        # samples stop half-way: its time is not measured (the time to four fifths of that
        # half read 0.31-0.32 s, against a fast descent's 0.32).
        assert "fast_descent" in reps[1].not_measurable and "fast_descent" not in reps[0].not_measurable


def test_short_dropout_keeps_the_rep():
    s = generate(AthleteSpec(reps=2))
    lm = s.landmarks.copy()
    lm[100:105, :, 3] = 0.0  # 5 frames of lost tracking
    engine = HingeEngine()
    for t, f in zip(s.times_s, lm):
        engine.update(float(t), f)
    assert engine.rep_count == 2


def test_a_skeleton_the_pose_model_lost_gives_no_angles_and_moves_no_reference():
    from hinge_coach_ros.geometry import HIP_FLEXION_RANGE_DEG

    s = generate(AthleteSpec(reps=2, landmark_noise_m=0.0))
    lm = s.landmarks.copy()
    # Side-on to a deadlift the plate hides the hips as the bar passes them, and BlazePose
    # throws them. Here, for 4 frames while the person stands, the hips 45 cm forward (the hip
    # reads about -90 deg); for 4 frames on the way down, the thighs pointing up from the
    # knees (hip and knee read 180 deg).
    standing = int(np.argmax(s.times_s > 0.8))
    descending = int(np.argmax((s.rep_index == 1) & (s.hip_flexion_deg > 40.0)))
    lost = np.r_[standing : standing + 4, descending : descending + 4]
    up = s.up_optical
    forward = frame_angles(s.landmarks[standing], up).facing
    for side in ("left", "right"):
        hip, knee = INDEX[f"{side}_hip"], INDEX[f"{side}_knee"]
        lm[standing : standing + 4, hip, :3] += 0.45 * forward
        down = slice(descending, descending + 4)
        lm[down, hip, :3] = 2.0 * lm[down, knee, :3] - lm[down, hip, :3]
    assert frame_angles(s.landmarks[standing], up) is not None
    assert frame_angles(lm[standing], up) is None  # no posture, not a 90 deg hyperextension
    assert all(frame_angles(lm[i], up) is None for i in lost)
    engine = HingeEngine()
    reports = [engine.update(float(t), f) for t, f in zip(s.times_s, lm)]
    for i in lost:  # held, not judged: the person is there, the phase goes on
        assert reports[i].person and reports[i].angles is None
        assert reports[i].phase == reports[i - 1].phase
        assert not any(f.measurable for f in reports[i].faults.values())
    # The standing reference stays the person's own standing, so the standing after the
    # lost frames does not read as 90 deg of flexion, a rep under way.
    assert reports[standing + 10].phase == "setup"
    assert engine._standing_hip_deg > HIP_FLEXION_RANGE_DEG[0]
    reps = reps_of(reports)
    assert len(reps) == 2
    assert reps[0].start_s == pytest.approx(reps_of(run(s)[1])[0].start_s, abs=0.05)
    assert not any("fast_descent" in r.faults for r in reps)


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


def test_a_minute_held_at_the_bottom_keeps_a_bounded_rep_history():
    from hinge_coach_ros.alignment import REP_HIPS_S

    s = generate(AthleteSpec(reps=1))
    i = int(np.argmax(s.hip_flexion_deg))
    hold = np.repeat(s.landmarks[i : i + 1], 60 * 30, axis=0)  # 60 s at 30 fps
    lm = np.concatenate([s.landmarks[:i], hold, s.landmarks[i:]])
    engine = HingeEngine()
    longest, reps = 0, []
    for k, f in enumerate(lm):
        report = engine.update(k / 30.0, f)
        if engine._rep is not None:
            longest = max(longest, len(engine._rep["hips"]))
        if report.completed_rep is not None:
            reps.append(report.completed_rep)
    assert longest <= REP_HIPS_S * 30 + 2
    # The descent's start has gone from the kept samples: its time is not measurable, and
    # a 60 s rep is no fast descent.
    assert len(reps) == 1 and "fast_descent" not in reps[0].faults


def test_fixed_up_vector_is_used_when_asked():
    s = generate(AthleteSpec(reps=1))
    wrong = {"up_source": "fixed", "up_vector": [1.0, 0.0, 0.0]}
    _, reports = run(s, wrong)
    # (Frames whose feet, seen against that vertical, turn the facing by over 60 deg give none.)
    trunk = np.array([r.angles.trunk_inclination_deg for r in reports[:20] if r.angles is not None])
    assert len(trunk) >= 3 and math.isfinite(reports[0].angles.trunk_inclination_deg)
    assert np.abs(trunk).min() > 45.0  # standing reads as leaning: the given vector was used


def test_an_up_vector_without_a_direction_is_refused_by_the_engine_too():
    # The engine is a library as well as the node's: unvalidated, a zero vector made every angle NaN.
    from hinge_coach_ros.params import ParameterError

    with pytest.raises(ParameterError, match=r"up_vector = \[0.0, 0.0, 0.0\] is invalid"):
        HingeEngine({"up_vector": [0.0, 0.0, 0.0]})
    engine = HingeEngine()
    with pytest.raises(ParameterError, match="up_vector"):
        engine.set_params({"up_vector": [float("nan"), 1.0, 0.0], "exercise": "deadlift"})
    assert engine.p["exercise"] == "dowel" and engine.p["up_vector"] == HingeEngine().p["up_vector"]
    huge = HingeEngine({"up_vector": [0.0, -1e300, 0.0], "up_source": "fixed"})
    assert huge.fixed_up.tolist() == [0.0, -1.0, 0.0]


def test_facing_ignores_a_hidden_foot_that_the_model_guessed():
    from hinge_coach_ros.geometry import facing_direction
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


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_slow_reps_are_judged_at_their_own_pace(preset):
    """A quarter of the usual tempo (a 5 s ascent, as a rehab patient may move): the top of a
    clean ascent is not a stop short of lockout, a slow descent has no bottom half-way (from
    which the hips "rose first" and sat high), and the standing reference is not taken on an
    incomplete top held for seconds (the next clean lockout read as a banana back). The
    incomplete lockout itself is still found."""
    faults = {2: {"incomplete_lockout": 20.0}}
    s = generate(AthleteSpec(preset=preset, reps=4, tempo=0.25, faults=faults, seed=1))
    reps = reps_of(run(s, {"exercise": preset})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["incomplete_lockout"], [], []]
    shallow = generate(AthleteSpec(preset=preset, reps=3, tempo=0.25, depth=0.5, seed=2))
    reps = reps_of(run(shallow, {"exercise": preset})[1])
    assert [sorted(r.faults) for r in reps] == [[], [], []]


def test_a_slow_reps_speed_is_not_its_jitter():
    # 1 cm of raw jitter (the camera node filters far more away): the rep's speed is the 75th
    # percentile of its slopes, not the fastest, which took jitter's largest and read clean reps'
    # tops as stopped short of lockout.
    faults = {2: {"incomplete_lockout": 25.0}}
    s = generate(AthleteSpec(reps=4, tempo=0.25, faults=faults, seed=4, landmark_noise_m=0.01))
    reps = reps_of(run(s, {"exercise": "dowel"})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["incomplete_lockout"], [], []]


def test_a_slow_reps_stop_speed_follows_its_own_pace():
    engine = HingeEngine()
    rep = {"fall_speed_dps": 20.0, "rise_speed_dps": 200.0}
    engine._rep, engine.phase = rep, "bottom"
    _, fall_stop, rise_stop = engine._rep_speed_dps(math.nan)
    assert fall_stop == pytest.approx(0.3 * 20.0)  # STALL_FRACTION of its own speed
    assert rise_stop == engine.p["bottom_speed_dps"]  # a usual pace: the parameter
    rep["fall_speed_dps"] = 1.0
    assert engine._rep_speed_dps(math.nan)[1] == 5.0  # never under the slope's noise


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


def _reps_on_truth_backs(spec, session, params):
    """The engine's reps on the session's skeleton with the athlete's true back surface."""
    engine = HingeEngine(params)
    backs = _truth_backs(spec, session)
    return reps_of(
        engine.update(float(t), lm, b) for t, lm, b in zip(session.times_s, session.landmarks, backs)
    )


@pytest.mark.parametrize("preset", ["box_lift", "deadlift"])
def test_rounded_back_is_judged_on_the_back_profile_side_on_not_read_as_a_dropped_head(preset):
    faults = {2: {"rounded_back": 25.0}, 4: {"head_down": 30.0}}
    spec = AthleteSpec(preset=preset, reps=5, faults=faults, seed=3)
    s = generate(spec)
    reps = _reps_on_truth_backs(spec, s, {"exercise": preset})
    assert len(reps) == 5
    assert [sorted(r.faults) for r in reps] == [[], ["rounded_back"], [], ["head_down"], []]
    assert all("rounded_back" not in r.not_measurable for r in reps)
    # Without the back profile the same skeleton reads the rounded back as a dropped head,
    # and says the back was not measured.
    reps = reps_of(run(s, {"exercise": preset})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["head_down"], [], ["head_down"], []]
    assert all("rounded_back" in r.not_measurable for r in reps)


def test_standing_references_are_taken_on_seen_hips_only():
    # Side-on to a deadlift the plates hide the hips too whenever the person stands: the
    # back profile cut at a placed hip reads 20-27 deg bent on the rendered sessions, and
    # taken as the standing reference it made every hinge a rounded back. The checks judged
    # against a standing reference (back, head, lean at lockout) are then not measured.
    spec = AthleteSpec(preset="deadlift", reps=3, faults={2: {"rounded_back": 25.0}}, seed=3)
    s = generate(spec)
    landmarks = s.landmarks.copy()
    standing = s.hip_flexion_deg < 20.0
    for side in ("left", "right"):
        landmarks[standing, INDEX[f"{side}_hip"], 3] = 0.45
    engine = HingeEngine({"exercise": "deadlift"})
    backs = _truth_backs(spec, s)
    reps = reps_of(engine.update(float(t), lm, b) for t, lm, b in zip(s.times_s, landmarks, backs))
    assert len(reps) == 3 and all(not r.faults for r in reps)
    referenced = {"rounded_back", "head_up", "head_down", "banana_back"}
    assert all(referenced <= set(r.not_measurable) for r in reps)
    assert "no_brace" not in reps[0].not_measurable  # no reference: judged on the seen hips
    # The virtual dowel too rests on the profile between shoulders and hips: with the hips
    # placed it is not measured, with them seen it is.
    for confidence, measured in ((0.45, False), (0.95, True)):
        landmarks[:, [INDEX["left_hip"], INDEX["right_hip"]], 3] = confidence
        engine = HingeEngine({"exercise": "deadlift"})
        reports = [engine.update(float(t), lm, b) for t, lm, b in zip(s.times_s, landmarks, backs)]
        assert any(math.isfinite(r.dowel.lumbar_gap_m) for r in reports) is measured


def test_a_standing_reference_needs_its_parts_seen_for_half_a_second_on_end():
    # The hips hidden while the person stands (a plate), but "seen" for 8 frames of the first
    # setup as BlazePose finds them beside it, with the ears read 5 cm forward there. Taken
    # as the head's standing reference, those frames made every rep read as head up.
    s = generate(AthleteSpec(preset="deadlift", reps=4, seed=3, landmark_noise_m=0.0))
    forward = frame_angles(s.landmarks[0], s.up_optical).facing
    landmarks = s.landmarks.copy()
    standing = s.hip_flexion_deg < 20.0
    glimpse = np.arange(22, 30)  # 0.7-1.0 s: standing still, before the first descent
    for side in ("left", "right"):
        landmarks[standing, INDEX[f"{side}_hip"], 3] = 0.45
        landmarks[glimpse, INDEX[f"{side}_hip"], 3] = 0.95
        landmarks[glimpse, INDEX[f"{side}_ear"], :3] += 0.05 * forward
    reps = reps_of(run(replace(s, landmarks=landmarks), {"exercise": "deadlift"})[1])
    assert len(reps) == 4 and all(not r.faults for r in reps)
    assert all("head_up" in r.not_measurable for r in reps)


def test_the_lockout_lean_is_measured_on_a_rep_only_at_its_lockout():
    # The hips placed at the top of each pull (a plate in front of them), seen standing in
    # the setup: the lean is measurable on the way down but the banana back is judged only
    # at lockout, so the reps cannot say whether it was there.
    s = generate(AthleteSpec(preset="box_lift", reps=3, faults={2: {"banana_back": 15.0}}, seed=2))
    assert [sorted(r.faults) for r in reps_of(run(s, {"exercise": "box_lift"})[1])] == [
        [],
        ["banana_back"],
        [],
    ]
    landmarks = s.landmarks.copy()
    top = np.array([p in ("ascent", "lockout") for p in s.phase]) & (s.hip_flexion_deg < 30.0)
    for side in ("left", "right"):
        landmarks[top, INDEX[f"{side}_hip"], 3] = 0.45
    reps = reps_of(run(replace(s, landmarks=landmarks), {"exercise": "box_lift"})[1])
    assert len(reps) == 3 and all(not r.faults for r in reps)
    assert all("banana_back" in r.not_measurable for r in reps)


_ABOVE_THE_HIPS = [
    i
    for i, name in enumerate(LANDMARK_NAMES)
    if not any(p in name for p in ("hip", "knee", "ankle", "heel", "foot"))
]


def _leaned_back(lm: np.ndarray, deg: float) -> np.ndarray:
    """The skeleton with everything above the hips turned back by ``deg`` about the hips' axis."""
    out = lm.copy()
    hips = 0.5 * (lm[INDEX["left_hip"], :3] + lm[INDEX["right_hip"], :3])
    axis = lm[INDEX["left_hip"], :3] - lm[INDEX["right_hip"], :3]
    axis /= np.linalg.norm(axis)
    cross = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    a = math.radians(-deg)
    turn = np.eye(3) + math.sin(a) * cross + (1.0 - math.cos(a)) * cross @ cross
    out[_ABOVE_THE_HIPS, :3] = (lm[_ABOVE_THE_HIPS, :3] - hips) @ turn.T + hips
    return out


@pytest.mark.parametrize("preset", ["dowel", "box_lift", "deadlift"])
def test_two_frames_leaning_far_back_at_the_top_do_not_start_a_descent(preset):
    # A filter that leads its input (the camera node's) overshoots where a fast ascent stops:
    # two frames at the top read 20 deg further back. Taken as the standing hip, that frame
    # put the next rep's start 20 deg too low, the standing hip read as a descent, and the
    # banana back, judged at lockout, was missed (the rendered dowel drill, live). The
    # standing hip is the hip's median over HIP_STEADY_S.
    s = generate(AthleteSpec(preset=preset, reps=3, faults={2: {"banana_back": 15.0}}, seed=2))
    landmarks = s.landmarks.copy()
    for rep in range(1, 4):
        top = int(_frames_of(s, rep, "lockout")[0])
        landmarks[top : top + 2] = [_leaned_back(lm, 20.0) for lm in landmarks[top : top + 2]]
    up = np.array([0.0, -1.0, 0.0])  # the camera's optical frame: y points down
    leaned_by = (
        frame_angles(s.landmarks[top], up).hip_flexion_deg - frame_angles(landmarks[top], up).hip_flexion_deg
    )
    assert leaned_by == pytest.approx(20.0, abs=0.5)
    reps = reps_of(run(replace(s, landmarks=landmarks), {"exercise": preset})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["banana_back"], []]


def test_the_lockout_lean_is_judged_on_the_near_side():
    # At 45 deg the far shoulder's depth window takes the near side's surface too: through the
    # lockout hold it reads 8 cm toward the camera. The midpoint of the two shoulders leaned
    # back less and the banana back was missed; the near side's line is seen, as standing.
    spec = AthleteSpec(
        preset="box_lift",
        reps=2,
        faults={2: {"banana_back": 15.0}},
        camera=CameraPlacement(view="oblique45"),
        landmark_noise_m=0.0,
    )
    s = generate(spec)
    clean = reps_of(run(s, {"exercise": "box_lift"})[1])
    landmarks = s.landmarks.copy()
    for i in np.flatnonzero(np.array(s.phase) == "lockout"):
        left, right = INDEX["left_shoulder"], INDEX["right_shoulder"]
        far = (
            left
            if np.linalg.norm(landmarks[i, left, :3]) > np.linalg.norm(landmarks[i, right, :3])
            else right
        )
        ray = landmarks[i, far, :3] / np.linalg.norm(landmarks[i, far, :3])
        landmarks[i, far, :3] -= 0.08 * ray
    reps = reps_of(run(replace(s, landmarks=landmarks), {"exercise": "box_lift"})[1])
    assert (
        [r.faults for r in reps]
        == [r.faults for r in clean]
        == [{}, {"banana_back": pytest.approx(0.39, abs=0.02)}]
    )


def test_a_far_shoulder_narrower_than_the_hips_is_left_out_of_the_trunk():
    # At 45 deg to the dowel drill the far arm is raised behind the head and the far shoulder's
    # depth comes off a nearer surface: on the rendered drill it read 10 cm forward standing,
    # the pair narrower than the hips, and the trunk 5 deg forward.
    spec = AthleteSpec(preset="dowel", reps=1, landmark_noise_m=0.0, camera=CameraPlacement(view="oblique45"))
    s = generate(spec)
    i = 30  # standing
    lm = s.landmarks[i].copy()
    clean = frame_angles(lm, s.up_optical)
    assert clean.trunk_inclination_deg == pytest.approx(s.trunk_inclination_deg[i], abs=0.01)
    left, right = INDEX["left_shoulder"], INDEX["right_shoulder"]
    far, near = (
        (left, right) if np.linalg.norm(lm[left, :3]) > np.linalg.norm(lm[right, :3]) else (right, left)
    )

    def trunk_deg(landmarks):
        return frame_angles(landmarks, s.up_optical, clean.facing).trunk_inclination_deg

    # The far shoulder on its ray at the near one's distance: the pair reads 0.9 of the hips.
    lm[far, :3] *= np.linalg.norm(lm[near, :3]) / np.linalg.norm(lm[far, :3])
    assert trunk_deg(lm) == pytest.approx(clean.trunk_inclination_deg, abs=0.01)
    # Taken as placed by the model (side-on it is, and lies behind the near one) it stays in the
    # midpoint, which here turns the trunk by 12 deg.
    lm[far, 3] = 0.45
    assert trunk_deg(lm) > clean.trunk_inclination_deg + 10.0
    # Seen and 3 cm short, the pair still wider than the hips by more than BlazePose's own model
    # would have it at the least: it counts in full.
    lm[far, :3] = s.landmarks[i, far, :3] * (1.0 - 0.03 / np.linalg.norm(s.landmarks[i, far, :3]))
    as_placed = trunk_deg(lm)
    lm[far, 3] = 0.95
    assert trunk_deg(lm) == pytest.approx(as_placed, abs=1e-9)
    assert trunk_deg(lm) > clean.trunk_inclination_deg + 0.5
    # An RGB-only skeleton lies on the sagittal plane (monocular): its pairs have no span across
    # it, and the trunk's top stays the shoulders' midpoint, the point it places undistorted.
    across = np.cross(s.up_optical, clean.facing)
    hips = 0.5 * (lm[INDEX["left_hip"], :3] + lm[INDEX["right_hip"], :3])
    flat = s.landmarks[i].copy()
    rays = flat[:, :3] / np.linalg.norm(flat[:, :3], axis=1, keepdims=True)
    flat[:, :3] = rays * ((hips @ across) / (rays @ across))[:, None]  # each on its pixel's ray
    flat[far, :3] = flat[near, :3] + 0.02 * s.up_optical  # a pair far narrower than the hips
    mid = 0.5 * (flat[left, :3] + flat[right, :3]) - 0.5 * (
        flat[INDEX["left_hip"], :3] + flat[INDEX["right_hip"], :3]
    )
    expected = math.degrees(math.atan2(mid @ clean.facing, mid @ s.up_optical))
    assert trunk_deg(flat) == pytest.approx(expected, abs=1e-9)


# The dowel drill's limit allows for the pipe and hands on the back, which this perfect
# profile has not: the drill is tested on rendered depth (test_dowel_depth.py).
@pytest.mark.parametrize("preset", ["box_lift", "deadlift"])
def test_no_brace_is_judged_on_the_lumbar_hollow_side_on_not_on_a_head_tipped_back(preset, tmp_path):
    # A 15 deg anterior pelvic tilt from setup through the descent arches the low back (its
    # hollow 39 -> 55 mm); a head tipped back opens the dowel's lumbar gap, not the hollow.
    faults = {2: {"no_brace": 15.0}, 4: {"head_up": 25.0}}
    spec = AthleteSpec(preset=preset, reps=5, faults=faults, seed=3)
    s = generate(spec)
    reps = _reps_on_truth_backs(spec, s, {"exercise": preset})
    assert [sorted(r.faults) for r in reps] == [[], ["no_brace"], [], ["head_up"], []]
    assert all("no_brace" not in r.not_measurable for r in reps)
    # A clinician's looser limit for a patient with a deep lordosis: not raised.
    profile = tmp_path / "patient.yaml"
    profile.write_text("no_brace_lumbar_hollow_mm: 60\n")
    reps = _reps_on_truth_backs(spec, s, {"exercise": preset, "patient_profile": str(profile)})
    assert [sorted(r.faults) for r in reps] == [[], [], [], ["head_up"], []]
    # The skeleton alone has no back surface: not measurable, never guessed.
    reps = reps_of(run(s, {"exercise": preset})[1])
    assert all("no_brace" in r.not_measurable and "no_brace" not in r.faults for r in reps)


@pytest.mark.parametrize("fault", ["rounded_back", "no_brace"])
def test_back_surface_checks_are_not_judged_on_an_oblique_view(fault):
    # At 45 deg the back's rim seen by the camera is not its midline: not measurable.
    magnitude = {"rounded_back": 25.0, "no_brace": 15.0}[fault]
    spec = AthleteSpec(
        preset="box_lift", reps=3, faults={2: {fault: magnitude}}, camera=CameraPlacement(view="oblique45")
    )
    reps = _reps_on_truth_backs(spec, generate(spec), {"exercise": "box_lift"})
    assert len(reps) == 3 and all(fault in r.not_measurable for r in reps)


@pytest.mark.parametrize(("view", "expected_deg"), [("side", 0.0), ("oblique45", 45.0)])
def test_the_report_says_how_far_the_camera_is_from_side_on(view, expected_deg):
    # What an installer aims the camera by: the back-surface checks need under 28 deg.
    spec = AthleteSpec(preset="box_lift", reps=1, camera=CameraPlacement(view=view))
    s = generate(spec)
    engine = HingeEngine({"exercise": "box_lift"})
    backs = _truth_backs(spec, s)
    views = [
        engine.update(float(t), lm, b).view_from_side_deg for t, lm, b in zip(s.times_s, s.landmarks, backs)
    ]
    assert np.nanmax(np.abs(np.array(views) - expected_deg)) < 3.0
    # The skeleton alone (RGB or no depth) gives no view.
    assert all(math.isnan(r.view_from_side_deg) for r in run(s, {"exercise": "box_lift"})[1])


@pytest.mark.parametrize("view", ["side", "oblique45"])
def test_the_dowel_is_reported_side_on_only(view):
    # Obliquely the back's rim is not its midline (rendered at 45 deg the gaps read 30-200 mm
    # off): a camera set at 45 deg gets no gaps, no spine bend and no hollow, never a guess.
    spec = AthleteSpec(preset="box_lift", reps=2, camera=CameraPlacement(view=view))
    s = generate(spec)
    engine = HingeEngine({"exercise": "box_lift"})
    dowels = [
        engine.update(float(t), lm, b).dowel
        for t, lm, b in zip(s.times_s, s.landmarks, _truth_backs(spec, s))
    ]
    reported = np.array([np.isfinite(d.gaps()).all() for d in dowels])
    if view == "side":
        assert reported.mean() > 0.95
        assert np.isfinite([d.lumbar_hollow_m for d in dowels]).mean() > 0.95
    else:
        # The view is judged over the last seconds: not even on the first frames.
        assert not reported.any()
        assert not np.isfinite([[d.spine_bend_deg, d.lumbar_hollow_m] for d in dowels]).any()


def _placed(session, parts, confidence=0.45):
    """The session with ``parts`` placed by a model on both sides (as the camera node gives
    joints hidden behind an object), not seen."""
    landmarks = session.landmarks.copy()
    for part in parts:
        for side in ("left", "right"):
            landmarks[:, INDEX[f"{side}_{part}"], 3] = confidence
    return replace(session, landmarks=landmarks)


def test_checks_are_not_judged_on_joints_placed_rather_than_seen():
    s = generate(AthleteSpec(preset="box_lift", reps=3, faults={2: {"toes": 70.0}}, seed=2))
    reps = reps_of(run(s, {"exercise": "box_lift"})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["toes"], []]
    # Feet hidden (a box, a plate): the centre of mass over mid-foot is a guess; the rest holds.
    reps = reps_of(run(_placed(s, ("heel", "foot_index")), {"exercise": "box_lift"})[1])
    assert [sorted(r.faults) for r in reps] == [[], [], []]
    assert all({"toes", "heels", "hips_rise_first"} <= set(r.not_measurable) for r in reps)
    assert all(not {"squat", "banana_back", "incomplete_lockout"} & set(r.not_measurable) for r in reps)
    # Knees hidden (side-on to a deadlift, the near plate): the leg checks are not measured,
    # and the reps are still counted on the guessed hip angle.
    reps = reps_of(run(_placed(s, ("knee",)), {"exercise": "box_lift"})[1])
    assert len(reps) == 3 and all(not r.faults for r in reps)
    unjudged = {"squat", "hips_high", "toes", "heels", "incomplete_lockout", "fast_descent"}
    assert all(unjudged <= set(r.not_measurable) for r in reps)
    # At exactly 0.5 a joint counts as placed, above it as seen (BlazePose's visibility).
    reps = reps_of(run(_placed(s, ("heel", "foot_index"), 0.51), {"exercise": "box_lift"})[1])
    assert [sorted(r.faults) for r in reps] == [[], ["toes"], []]


def test_knees_hidden_while_standing_do_not_read_as_the_person_gone():
    # Side-on to a deadlift the near plate hides the knees and ankles whenever the person
    # stands: BlazePose places them with a visibility of 0.05-0.4 (confidence under 0.3).
    s = generate(AthleteSpec(preset="deadlift", reps=3, faults={2: {"head_up": 25.0}}, seed=4))
    landmarks = s.landmarks.copy()
    standing = s.hip_flexion_deg < 20.0
    for part in ("knee", "ankle"):
        for side in ("left", "right"):
            landmarks[standing, INDEX[f"{side}_{part}"], 3] = 0.1
    engine, reports = run(replace(s, landmarks=landmarks), {"exercise": "deadlift"})
    assert all(r.person for r in reports)
    assert all("knee" not in r.angles.seen for r, up in zip(reports, standing) if up)
    # The reps are counted, and the head's standing baseline is kept between them.
    reps = reps_of(reports)
    assert [sorted(r.faults) for r in reps] == [[], ["head_up"], []]
    assert all("head_up" not in r.not_measurable for r in reps)
    # Standing, the phases read the hip angle on the placed knees (the rendered athlete's are
    # within a few degrees); the report does not carry it (a guess), the knee-free trunk it
    # does; the checks that read the knees wait for them to be seen.
    hips = np.array([r.angles.hip_flexion_deg for r in reports])
    assert np.isnan(hips[standing]).all()
    assert np.max(np.abs(hips - s.hip_flexion_deg)[~standing]) < 3.0
    guessed = [
        frame_angles(lm, s.up_optical, r.angles.facing).hip_flexion_deg  # the engine's facing
        for lm, r, up in zip(landmarks, reports, standing)
        if up
    ]
    assert np.max(np.abs(np.array(guessed) - s.hip_flexion_deg[standing])) < 3.0
    trunk = np.array([r.angles.trunk_inclination_deg for r in reports])
    assert np.isfinite(trunk).all()
    assert all("squat" not in r.not_measurable for r in reps)  # the knees seen in the pull
    # The lockout is judged on the hip angle at the top, where the knees were placed on every
    # frame: not measured (before, a measured descent had made the rep's lockout "measured").
    assert all("incomplete_lockout" in r.not_measurable for r in reps)


def test_a_peak_set_on_placed_joints_is_not_reported():
    # The knees hidden (placed) around the bottom of the middle rep only: its peak hip and knee
    # angles were set on a guess, its trunk's on seen shoulders and hips.
    s = generate(AthleteSpec(preset="box_lift", reps=3, seed=2, landmark_noise_m=0.0))
    landmarks = s.landmarks.copy()
    second = (s.times_s >= s.reps[1]["start_s"]) & (s.times_s <= s.reps[1]["end_s"])
    deep = second & (s.hip_flexion_deg > 0.7 * s.hip_flexion_deg[second].max())
    for side in ("left", "right"):
        landmarks[deep, INDEX[f"{side}_knee"], :3] += np.array([0.0, 0.0, 0.3])  # a wrong guess
        landmarks[deep, INDEX[f"{side}_knee"], 3] = 0.4
    engine, reports = run(replace(s, landmarks=landmarks), {"exercise": "box_lift"})
    reps = reps_of(reports)
    assert len(reps) == 3
    for rep in (reps[0], reps[2]):
        k = (s.times_s >= rep.start_s) & (s.times_s <= rep.end_s)
        assert rep.peak_hip_flexion_deg == pytest.approx(s.hip_flexion_deg[k].max(), abs=3.0)
        assert rep.peak_knee_flexion_deg == pytest.approx(s.knee_flexion_deg[k].max(), abs=3.0)
    assert math.isnan(reps[1].peak_hip_flexion_deg) and math.isnan(reps[1].peak_knee_flexion_deg)
    assert reps[1].peak_trunk_inclination_deg == pytest.approx(s.trunk_inclination_deg[second].max(), abs=3.0)
    # Not judged shallow on a depth it did not see (the guessed knees read the hip shallower).
    assert "depth" not in reps[1].score_breakdown and reps[1].score == 100.0
    # Frame by frame the report carries neither angle there, the phases go on through them.
    assert all(math.isnan(r.angles.hip_flexion_deg) for r, d in zip(reports, deep) if d)
    assert all(math.isfinite(r.angles.trunk_inclination_deg) for r, d in zip(reports, deep) if d)
    assert {r.phase for r, d in zip(reports, deep) if d} <= {"descent", "bottom", "ascent"}


def test_a_seen_leg_joint_is_not_averaged_with_its_guessed_twin():
    s = generate(AthleteSpec(preset="dowel", reps=1, landmark_noise_m=0.0))
    i = int(np.argmax(s.hip_flexion_deg))
    lm = s.landmarks[i].copy()
    clean = frame_angles(lm, s.up_optical)
    assert clean.com_offset_mm == pytest.approx(1000.0 * s.poses[i].com_offset_m, abs=15.0)  # balanced

    def com_offset_mm(landmarks):  # the facing held steady, as the engine holds it
        return frame_angles(landmarks, s.up_optical, clean.facing).com_offset_mm

    # The far toe guessed 8 cm forward (behind a plate, a box): the mid-foot is the near foot's.
    lm[INDEX["right_foot_index"], :3] += 0.08 * clean.facing
    lm[INDEX["right_foot_index"], 3] = 0.4
    assert com_offset_mm(lm) == pytest.approx(clean.com_offset_mm, abs=0.5)
    # Seen, it counts: the toes' mean moves 4 cm, the mid-foot 2 cm.
    lm[INDEX["right_foot_index"], 3] = 0.9
    assert com_offset_mm(lm) == pytest.approx(clean.com_offset_mm - 20.0, abs=1.0)
    # The same for the knee: its guess does not bend the leg, a seen one counts.
    lm[INDEX["right_knee"], :3] += 0.08 * clean.facing
    lm[INDEX["right_knee"], 3] = 0.4
    knee = frame_angles(lm, s.up_optical, clean.facing).knee_flexion_deg
    assert knee == pytest.approx(clean.knee_flexion_deg, abs=0.01)
    lm[INDEX["right_knee"], 3] = 0.9
    assert frame_angles(lm, s.up_optical, clean.facing).knee_flexion_deg > knee + 5.0


@pytest.mark.parametrize("view", ["side", "oblique45"])
def test_side_on_the_thigh_is_the_near_legs_own_hip_to_knee(view):
    spec = AthleteSpec(preset="dowel", reps=1, landmark_noise_m=0.0, camera=CameraPlacement(view=view))
    s = generate(spec)
    i = int(np.argmax(s.hip_flexion_deg))
    lm = s.landmarks[i].copy()
    clean = frame_angles(lm, s.up_optical)

    def thigh_deg(landmarks):  # trunk minus hip flexion
        a = frame_angles(landmarks, s.up_optical, clean.facing)
        return a.trunk_inclination_deg - a.hip_flexion_deg

    # The far leg's hip and knee placed (hidden behind the near leg), the hip guessed 4 cm
    # forward, as BlazePose's far hip reads bent.
    lm[INDEX["right_hip"], :3] += 0.04 * clean.facing
    lm[[INDEX["right_hip"], INDEX["right_knee"]], 3] = 0.45
    if view == "side":
        # Side-on the thigh runs from the near leg's own hip: the guess does not turn it.
        assert thigh_deg(lm) == pytest.approx(clean.trunk_inclination_deg - clean.hip_flexion_deg, abs=1e-9)
        assert frame_angles(lm, s.up_optical, clean.facing).knee_flexion_deg == pytest.approx(
            clean.knee_flexion_deg, abs=1e-9
        )
    else:
        # Obliquely both legs count, through the hips' midpoint (2 cm forward here).
        assert thigh_deg(lm) > clean.trunk_inclination_deg - clean.hip_flexion_deg + 1.0
    # The far hip seen: the hips' midpoint, also side-on.
    lm[INDEX["right_hip"], 3] = 0.9
    assert thigh_deg(lm) > clean.trunk_inclination_deg - clean.hip_flexion_deg + 1.0
    # A near hip said to be seen but without a position (a CSV's empty cells) is not used.
    lm[INDEX["right_hip"], 3] = 0.45
    lm[INDEX["left_hip"], :3] = np.nan
    assert frame_angles(lm, s.up_optical, clean.facing) is not None


@pytest.mark.parametrize(("view", "begins"), [("side", "side-on"), ("oblique45", "camera 45 deg")])
def test_placement_tells_the_installer_what_the_camera_sees(view, begins):
    spec = AthleteSpec(preset="box_lift", reps=2, camera=CameraPlacement(view=view))
    s = generate(spec)
    engine = HingeEngine({"exercise": "box_lift"})
    assert engine.placement().message == "no person in view yet"
    for t, lm, b in zip(s.times_s, s.landmarks, _truth_backs(spec, s)):
        engine.update(float(t), lm, b)
    placement = engine.placement()
    assert placement.level == "ok" and placement.message.startswith(begins)
    assert placement.legs_seen_fraction == 1.0
    # The knees hidden (side-on to a deadlift, the plates): a warning that says what to do.
    engine, _ = run(_placed(s, ("knee",)), {"exercise": "box_lift"})
    placement = engine.placement()
    assert placement.level == "warn" and placement.legs_seen_fraction == 0.0
    assert "legs hidden" in placement.message and "45 deg" in placement.message
    # Without depth there is no view angle; the back-surface checks are said to be off.
    engine, _ = run(s, {"exercise": "box_lift"})
    assert engine.placement().message.startswith("no depth") and math.isnan(
        engine.placement().view_from_side_deg
    )
    # The person gone: the window is dropped.
    engine.update(float(s.times_s[-1]) + 10.0, np.full((33, 4), np.nan))
    assert engine.placement().message == "no person in view yet"


def test_camera_view_keeps_the_last_seconds_only():
    view = CameraView()
    for t in np.arange(0.0, 10.0, 0.1):
        view.update(float(t), 40.0, legs_seen=False)
    view.update(10.0, 5.0, legs_seen=True)
    assert view.placement().legs_seen_fraction == pytest.approx(1 / 31)  # 3 s at 10 Hz, and the new one
    # A recording played again (its clock back at the start): only the new frames count.
    view.update(0.0, 5.0, legs_seen=True)
    assert view.placement().legs_seen_fraction == 1.0 and view.placement().view_from_side_deg == 5.0


def _min_jerk(fraction: np.ndarray) -> np.ndarray:
    return 10 * fraction**3 - 15 * fraction**4 + 6 * fraction**5


def _descent(seconds: float, depth_deg: float = 85.0, fps: float = 30.0, standing_s: float = 1.0):
    """Hip flexion standing at 2 deg, then a smooth (minimum-jerk) descent to 2 + depth."""
    t = np.arange(0.0, standing_s + seconds, 1.0 / fps)
    fraction = np.clip((t - standing_s) / seconds, 0.0, 1.0)
    return t, 2.0 + depth_deg * _min_jerk(fraction)


def test_descent_time_is_taken_between_a_fifth_and_four_fifths_of_the_depth():
    from hinge_coach_ros.alignment import descent_time_s

    # A minimum-jerk path crosses 20% and 80% of its depth at 0.327 and 0.673 of its duration.
    t, hip = _descent(1.4)
    assert descent_time_s(t, hip, 2.0) == pytest.approx(0.346 * 1.4, abs=0.01)
    fast_t, fast_hip = _descent(0.7)
    assert descent_time_s(fast_t, fast_hip, 2.0) == pytest.approx(0.346 * 0.7, abs=0.01)
    # Time does not scale with the angle: a camera that reads the hinge 30% deeper (or
    # BlazePose catching up faster than the truth moved) gives the same time.
    assert descent_time_s(t, 2.0 + 1.3 * (hip - 2.0), 2.0) == pytest.approx(0.346 * 1.4, abs=0.01)
    # One frame's glitch halfway down (the hips dropped by 20 deg) is not the crossing.
    glitch = hip.copy()
    middle = int(np.argmin(np.abs(hip - 30.0)))
    glitch[middle] -= 20.0
    assert descent_time_s(t, glitch, 2.0) == pytest.approx(0.346 * 1.4, abs=0.01)
    # Nor are 4 frames thrown back to standing (the last crossing of a fifth of the depth
    # after them read 0.2 s less), or 4 frames thrown 35 deg too deep, past four fifths.
    thrown_up = hip.copy()
    thrown_up[middle : middle + 4] = 2.0
    assert descent_time_s(t, thrown_up, 2.0) == pytest.approx(0.346 * 1.4, abs=0.01)
    thrown_deep = hip.copy()
    at = int(np.argmin(np.abs(hip - 40.0)))
    thrown_deep[at : at + 4] += 35.0
    assert descent_time_s(t, thrown_deep, 2.0) == pytest.approx(0.346 * 1.4, abs=0.01)
    # A pause of 0.5 s at 45 deg on the way down adds its length.
    pause = int(np.argmin(np.abs(hip - 45.0)))
    paused_hip = np.concatenate([hip[:pause], np.full(15, hip[pause]), hip[pause:]])
    paused_t = np.arange(len(paused_hip)) / 30.0
    assert descent_time_s(paused_t, paused_hip, 2.0) == pytest.approx(0.346 * 1.4 + 0.5, abs=0.02)
    # Not measurable without the standing part below a fifth of the depth, or with too few frames.
    assert math.isnan(descent_time_s(t[hip > 30.0], hip[hip > 30.0], 2.0))
    assert math.isnan(descent_time_s(t[:2], hip[:2], 2.0))


def _flick_head(session, start_s: float, seconds: float, degrees: float):
    """The ears turned up and back about the shoulders (head extension) for ``seconds``."""
    lm = session.landmarks.copy()
    up = session.up_optical
    engine = HingeEngine({"exercise": "dowel"})
    for i, t in enumerate(session.times_s):
        facing = engine.update(float(t), lm[i]).angles.facing
        if not start_s <= t < start_s + seconds:
            continue
        axis = np.cross(facing, up)  # left-right: turning about it tips the head back
        angle = math.radians(degrees)
        for side in ("left", "right"):
            ear, pivot = INDEX[f"{side}_ear"], INDEX[f"{side}_shoulder"]
            v = lm[i, ear, :3] - lm[i, pivot, :3]
            rotated = (
                v * math.cos(angle)
                + np.cross(axis, v) * math.sin(angle)
                + axis * (axis @ v) * (1 - math.cos(angle))
            )
            lm[i, ear, :3] = lm[i, pivot, :3] + rotated
    return lm


def test_a_quarter_second_flick_of_the_head_is_not_a_head_fault_a_held_one_is():
    # BlazePose flicks the ears by about 10 deg for a quarter of a second when the arms and
    # the dowel pass the head (side-on dowel drill, mid-ascent); a head cranked up is held.
    s = generate(AthleteSpec(preset="dowel", reps=1, seed=3, landmark_noise_m=0.0))
    ascent = [t for t, phase in zip(s.times_s, s.phase) if phase == "ascent"]
    middle = float(ascent[len(ascent) // 2])
    for seconds, expected in ((0.25, False), (0.6, True)):
        lm = _flick_head(s, middle - seconds / 2, seconds, 20.0)
        engine = HingeEngine({"exercise": "dowel"})
        reports = [engine.update(float(t), frame) for t, frame in zip(s.times_s, lm)]
        head_up = [r.faults["head_up"].value for r in reports if r.faults.get("head_up")]
        assert max(v for v in head_up if math.isfinite(v)) > 15.0  # the flick is well past 8 deg
        (rep,) = reps_of(reports)
        assert ("head_up" in rep.faults) is expected, (seconds, rep.faults)


def test_an_incomplete_lockout_held_with_jittery_landmarks_ends_the_rep_there():
    # Live landmarks jitter the hip angle by a few degrees a frame: the stall at the top of
    # an incomplete lockout is taken on the hip's slope over 0.3 s, not on frame-to-frame speed.
    faults = {2: {"incomplete_lockout": 20.0}}
    s = generate(AthleteSpec(preset="deadlift", reps=3, faults=faults, landmark_noise_m=0.015, seed=4))
    reps = reps_of(run(s, {"exercise": "deadlift"})[1])
    assert len(reps) == 3
    assert ["incomplete_lockout" in r.faults for r in reps] == [False, True, False]


def test_a_one_frame_glitch_near_the_top_does_not_end_the_rep_early():
    # BlazePose now and then throws the hips 20 deg for one frame. In a slow ascent, near the
    # top, such a frame read as going back down would end the rep there, before the lockout,
    # and the lockout's hold would then be judged incomplete.
    s = generate(AthleteSpec(preset="deadlift", reps=3, tempo=0.5))
    lm = s.landmarks.copy()
    hips = [INDEX["left_hip"], INDEX["right_hip"]]
    toes, heels = (
        [INDEX["left_foot_index"], INDEX["right_foot_index"]],
        [INDEX["left_heel"], INDEX["right_heel"]],
    )
    phase = np.asarray(s.phase)
    glitches = []
    for rep in (1, 2, 3):
        ascent = np.where((s.rep_index == rep) & (phase == "ascent"))[0]
        k = ascent[np.argmin(np.abs(s.hip_flexion_deg[ascent] - 25.0))]  # near the top, still rising
        forward = lm[k, toes, :3].mean(axis=0) - lm[k, heels, :3].mean(axis=0)
        lm[k, hips, :3] -= 0.15 * forward / np.linalg.norm(forward)  # the hips thrown back 15 cm
        glitches.append(k)
    engine = HingeEngine({"exercise": "deadlift"})
    reports = [engine.update(float(t), f) for t, f in zip(s.times_s, lm)]
    for k in glitches:
        assert reports[k].angles.hip_flexion_deg - s.hip_flexion_deg[k] > 15.0  # the glitch is there
    reps = reps_of(reports)
    assert len(reps) == 3
    assert all("incomplete_lockout" not in r.faults for r in reps), [r.faults for r in reps]
    # Each rep ends where it does without the glitches (at 12 deg on the way up), not at the
    # glitch 0.2 s earlier.
    clean_ends = [r.end_s for r in reps_of(run(s, {"exercise": "deadlift"})[1])]
    np.testing.assert_allclose([r.end_s for r in reps], clean_ends, atol=1.5 / 30)


def test_a_glitch_of_a_few_frames_at_the_top_does_not_make_an_incomplete_lockout_complete():
    # Holding a box at 45 deg, BlazePose throws the near hip forward for a few frames while
    # the person stands still: the hip angle reads 15-20 deg less there. The top is what the
    # person held, not the least of those frames.
    s = generate(AthleteSpec(preset="box_lift", reps=3, faults={2: {"incomplete_lockout": 20.0}}, seed=4))
    lm = s.landmarks.copy()
    hips = [INDEX["left_hip"], INDEX["right_hip"]]
    toes, heels = (
        [INDEX["left_foot_index"], INDEX["right_foot_index"]],
        [INDEX["left_heel"], INDEX["right_heel"]],
    )
    lockout = np.where((s.rep_index == 2) & (np.asarray(s.phase) == "lockout"))[0]
    glitch = lockout[4:7]  # three frames (0.1 s) of the hold
    for k in glitch:
        forward = lm[k, toes, :3].mean(axis=0) - lm[k, heels, :3].mean(axis=0)
        lm[k, hips, :3] += 0.12 * forward / np.linalg.norm(forward)  # the hips thrown forward 12 cm
    engine = HingeEngine({"exercise": "box_lift"})
    reports = [engine.update(float(t), f) for t, f in zip(s.times_s, lm)]
    assert s.hip_flexion_deg[glitch].min() > 15.0  # held well short of a lockout
    assert max(reports[k].angles.hip_flexion_deg for k in glitch) < 10.0  # the glitch reads locked out
    reps = reps_of(reports)
    assert [("incomplete_lockout" in r.faults) for r in reps] == [False, True, False]


def test_going_back_down_from_a_start_of_the_ascent_takes_the_hips_first_lead_from_the_new_bottom():
    # The athlete starts up from the bottom, sinks back and then lifts: one rep, deeper. The
    # false start's most upright moment is no reference for the real ascent, which starts from
    # below it: taken from there, a clean lift read as the hips rising first.
    s = generate(AthleteSpec(preset="box_lift", reps=1))
    phase = np.asarray(s.phase)
    bottom = np.where(phase == "bottom")[0][0]
    false_start = s.landmarks[np.where(phase == "ascent")[0][:18]]
    lm = np.concatenate([s.landmarks[:bottom], false_start, false_start[::-1], s.landmarks[bottom:]])
    engine = HingeEngine({"exercise": "box_lift"})
    reports = [engine.update(k / 30.0, f) for k, f in enumerate(lm)]
    phases = [r.phase for r in reports]
    went_back_down = any(a == "ascent" and b == "descent" for a, b in zip(phases, phases[1:]))
    assert went_back_down
    reps = reps_of(reports)
    assert len(reps) == 1 and reps[0].faults == {}


def test_posture_baselines_taken_before_the_facing_settled_are_dropped():
    # The first frames' feet point backwards (BlazePose guessed a hidden foot): the facing is
    # replaced a second later, and the head's standing baseline taken with the wrong facing
    # (its sign flipped) must not be the reference for the reps.
    s = generate(AthleteSpec(preset="dowel", reps=2, seed=3, landmark_noise_m=0.0))
    lm = s.landmarks.copy()
    # BlazePose's ears sit a few cm ahead of the true ones: a standing head-neck angle of
    # about 14 deg, which the baseline cancels when it is taken with the right facing.
    forward = lm[0, INDEX["left_foot_index"], :3] - lm[0, INDEX["left_heel"], :3]
    forward -= (forward @ s.up_optical) * s.up_optical
    for side in ("left", "right"):
        lm[:, INDEX[f"{side}_ear"], :3] += 0.05 * forward / np.linalg.norm(forward)
    first = s.times_s < 1.0
    for side in ("left", "right"):
        heel, toe = INDEX[f"{side}_heel"], INDEX[f"{side}_foot_index"]
        lm[first, heel, :3], lm[first, toe, :3] = lm[first, toe, :3].copy(), lm[first, heel, :3].copy()
    engine = HingeEngine({"exercise": "dowel"})
    reports = [engine.update(float(t), frame) for t, frame in zip(s.times_s, lm)]
    # The right feet, 180 deg off the held facing, are not measured until, a second on, the
    # facing is replaced by theirs (and the baselines taken in the old one dropped).
    assert all(r.angles is None for r, t in zip(reports, s.times_s) if 1.05 < t < 1.9)
    assert engine.facing.turns == 1
    reps = reps_of(reports)
    assert len(reps) == 2
    assert not any(f in r.faults for r in reps for f in ("head_up", "head_down", "banana_back"))


def test_a_nan_confidence_is_a_missing_landmark():
    from hinge_coach_ros.geometry import facing_direction

    s = generate(AthleteSpec(preset="dowel", reps=1, landmark_noise_m=0.0))
    lm, missing = s.landmarks[40].copy(), s.landmarks[40].copy()
    lm[INDEX["left_heel"], 3] = np.nan
    missing[INDEX["left_heel"], 3] = 0.0
    up = s.up_optical
    np.testing.assert_array_equal(facing_direction(lm, up), facing_direction(missing, up))
    reports = []
    for frame in (lm, missing):
        engine = HingeEngine()
        for t, f in zip(s.times_s[:40], s.landmarks[:40]):
            engine.update(float(t), f)
        reports.append(engine.update(float(s.times_s[40]), frame))
    assert reports[0].person and reports[0].angles.hip_flexion_deg == reports[1].angles.hip_flexion_deg


def test_a_failed_floor_fit_is_skipped_not_kept():
    s = generate(AthleteSpec(preset="dowel", reps=3))
    floor = [s.up_optical.copy() for _ in s.times_s]
    floor[0] = np.zeros(3)  # the depth floor fit's first message: no plane found
    engine = HingeEngine()
    reports = [engine.update(float(t), f, floor_up=u) for t, f, u in zip(s.times_s, s.landmarks, floor)]
    assert all(r.person for r in reports) and engine.rep_count == 3
    np.testing.assert_allclose(engine._floor_up, s.up_optical, atol=1e-12)


def test_the_floor_up_vector_is_normalised_in_a_copy_of_any_numeric_array():
    s = generate(AthleteSpec(preset="dowel", reps=1))
    given = np.array([0.0, -2.0, 0.0])
    engine = HingeEngine()
    engine.update(0.0, s.landmarks[0], floor_up=given)
    engine.update(1 / 30, s.landmarks[1], floor_up=np.array([0.0, -1.0, 0.0]))
    np.testing.assert_array_equal(given, [0.0, -2.0, 0.0])  # the caller's array is left as it was
    np.testing.assert_array_equal(engine._floor_up, [0.0, -1.0, 0.0])
    engine = HingeEngine()
    engine.update(0.0, s.landmarks[0], floor_up=np.array([0, -1, 0]))  # integers
    np.testing.assert_array_equal(engine._floor_up, [0.0, -1.0, 0.0])
    # Each fit has the same weight in the average, whatever its length.
    engine.update(1 / 30, s.landmarks[1], floor_up=np.array([1000.0, 0.0, 0.0]))
    np.testing.assert_allclose(engine._floor_up, np.array([0.1, -0.9, 0.0]) / math.hypot(0.1, 0.9))


def test_a_clock_stepping_back_mid_rep_starts_afresh():
    s = generate(AthleteSpec(preset="dowel", reps=3))
    reference = reps_of(run(s)[1])
    mid = int(np.searchsorted(s.times_s, 2.5))  # rep 1, near its bottom
    back = s.times_s.copy()
    back[mid:] -= 5.0  # a recording started again, or the clock was stepped
    engine, reports = run(replace(s, times_s=back))
    reps = reps_of(reports)
    # Rep 1 is dropped (not closed with a negative duration and an incomplete lockout); the
    # others are as they were, 5 s earlier.
    assert engine.rep_count == 2 and all(r.duration_s > 0 and not r.faults for r in reps)
    assert [r.start_s for r in reps] == pytest.approx([r.start_s - 5.0 for r in reference[1:]], abs=1e-9)
    same = s.times_s.copy()
    same[mid : mid + 5] = same[mid]  # a stamp repeated is no step back
    assert [r.start_s for r in reps_of(run(replace(s, times_s=same))[1])] == [r.start_s for r in reference]
    # A frame delivered late (after the next one: out of order) is not used; the rep goes on.
    late = np.arange(len(s.times_s))
    late[mid], late[mid + 1] = mid + 1, mid
    engine, reports = run(replace(s, times_s=s.times_s[late], landmarks=s.landmarks[late]))
    assert reports[mid].angles is not None and reports[mid + 1].angles is None
    assert reports[mid + 1].phase == reports[mid].phase != "setup"
    assert [(r.start_s, r.faults) for r in reps_of(reports)] == [(r.start_s, r.faults) for r in reference]


def test_a_gap_without_frames_longer_than_the_person_timeout_drops_the_rep():
    s = generate(AthleteSpec(preset="dowel", reps=3))
    reference = reps_of(run(s)[1])
    mid = int(np.searchsorted(s.times_s, 2.5))  # rep 1, near its bottom

    def after_gap(gap_s):  # the camera stalled: no frame at all, not frames without a person
        times = s.times_s.copy()
        times[mid:] += gap_s
        engine, reports = run(replace(s, times_s=times))
        return engine.rep_count, [(r.start_s, r.end_s) for r in reps_of(reports)]

    count, reps = after_gap(10.0)
    assert count == 2  # rep 1 dropped, not closed 10 s later
    assert reps == pytest.approx([(r.start_s + 10.0, r.end_s + 10.0) for r in reference[1:]])
    count, reps = after_gap(0.7)  # within person_timeout_s: rep 1 kept
    assert count == 3 and reps[0] == pytest.approx((reference[0].start_s, reference[0].end_s + 0.7))


def test_an_all_zero_skeleton_is_nobody_not_a_person_standing_tall():
    s = generate(AthleteSpec(preset="dowel", reps=3))
    reference = reps_of(run(s)[1])
    empty = np.zeros((33, 4))  # a driver's empty frame: every landmark at the origin, confidence 0
    assert frame_angles(empty, s.up_optical) is None
    lm = s.landmarks.copy()
    mid = int(np.searchsorted(s.times_s, 2.5))
    lm[mid : mid + 3] = empty
    engine, reports = run(replace(s, landmarks=lm))
    assert all(r.person and r.angles is None for r in reports[mid : mid + 3])  # within the timeout
    reps = reps_of(reports)
    assert engine.rep_count == 3  # not rep 1 split in two at the empty frames
    assert [(r.start_s, r.end_s) for r in reps] == [(r.start_s, r.end_s) for r in reference]


def test_finish_closes_a_rep_in_its_lockout_hold_when_the_stream_ends():
    s = generate(AthleteSpec(preset="dowel", reps=3))
    full = reps_of(run(s)[1])
    lockout_3 = np.nonzero((s.rep_index == 3) & (np.array(s.phase) == "lockout"))[0]
    cut = lockout_3[2]  # the clip ends 0.07 s after rep 3 stood tall, before its hold is over
    engine = HingeEngine()
    reps = reps_of([engine.update(float(t), f) for t, f in zip(s.times_s[:cut], s.landmarks[:cut])])
    assert len(reps) == 2
    last = engine.finish()
    assert last is not None and engine.rep_count == 3
    assert (last.index, last.start_s, last.end_s, last.score) == (3, full[2].start_s, full[2].end_s, 100.0)
    assert engine.finish() is None  # nothing left open
    engine = HingeEngine()
    mid = int(np.searchsorted(s.times_s, 2.5))
    for t, f in zip(s.times_s[:mid], s.landmarks[:mid]):
        engine.update(float(t), f)
    assert engine.finish() is None and engine.rep_count == 0  # a rep in progress is dropped
