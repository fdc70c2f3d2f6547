"""The synthetic athlete's truth agrees with its geometry, and sessions are reproducible.

Every fault is checked against the geometry it produces (angles, centre of mass,
virtual-dowel gaps on the back surface), with tolerances.
"""

from dataclasses import replace

import numpy as np
import pytest

from hinge_coach_ros.athlete import (
    DEMO_SPEC,
    FAULT_IDS,
    PRESETS,
    RGBD_DEMO_SPEC,
    SEGMENT_MASS,
    AthleteSpec,
    CameraPlacement,
    Pose,
    body_at,
    body_for,
    generate,
    joint_angles,
    parse_fault,
    virtual_dowel,
)
from hinge_coach_ros.landmarks import INDEX
from hinge_coach_ros.session_io import embedded_session_path, read_session, read_truth, write_session


def _bottom(session, rep):
    mask = session.rep_index == rep
    return int(np.argmax(np.where(mask, session.hip_flexion_deg, -np.inf)))


def test_squat_rep_bends_the_knees_and_keeps_the_trunk_upright():
    s = generate(AthleteSpec(reps=2, faults={2: {"squat": 50.0}}, landmark_noise_m=0.0))
    clean, squat = _bottom(s, 1), _bottom(s, 2)
    assert s.knee_flexion_deg[squat] - s.knee_flexion_deg[clean] == pytest.approx(50.0, abs=0.5)
    assert s.trunk_inclination_deg[squat] < s.trunk_inclination_deg[clean] - 15.0
    # Hips travel back in a hinge, much less in a squat (world X is forward; optical -x here).
    hip_x = -s.landmarks[:, INDEX["left_hip"], 0]
    stand = 0
    assert hip_x[stand] - hip_x[clean] > 0.1
    assert (hip_x[stand] - hip_x[squat]) < 0.3 * (hip_x[stand] - hip_x[clean])


def test_truth_angles_match_the_landmarks_they_came_from():
    s = generate(AthleteSpec(reps=1, landmark_noise_m=0.0))
    i = _bottom(s, 1)
    lm = s.landmarks[i]
    up = s.up_optical

    def mid(part):
        return 0.5 * (lm[INDEX[f"left_{part}"], :3] + lm[INDEX[f"right_{part}"], :3])

    trunk = mid("shoulder") - mid("hip")
    inclination = np.degrees(np.arccos(trunk @ up / np.linalg.norm(trunk)))
    assert inclination == pytest.approx(s.trunk_inclination_deg[i], abs=0.01)
    thigh = mid("hip") - mid("knee")
    hip = np.degrees(np.arccos(thigh @ trunk / np.linalg.norm(thigh) / np.linalg.norm(trunk)))
    assert hip == pytest.approx(s.hip_flexion_deg[i], abs=0.01)


def test_rep_truth_lists_the_injected_faults():
    s = generate(AthleteSpec(reps=3, faults={2: {"squat": 30.0, "head_up": 10.0}}))
    assert [r["index"] for r in s.reps] == [1, 2, 3]
    assert s.reps[1]["faults"] == {"squat": 30.0, "head_up": 10.0}
    assert s.reps[0]["faults"] == {} and s.reps[2]["faults"] == {}
    assert set(s.phase) == {"setup", "descent", "bottom", "ascent", "lockout"}


def test_oblique_camera_sees_the_athlete_in_front_of_it():
    s = generate(AthleteSpec(reps=1, camera=CameraPlacement(view="oblique45", distance_m=2.5)))
    z = s.landmarks[:, :, 2]
    assert np.all((z > 1.5) & (z < 3.5))


def test_same_seed_gives_identical_files(tmp_path):
    spec = AthleteSpec(reps=2, faults={1: {"squat": 40.0}}, seed=11)
    write_session(generate(spec), tmp_path / "a.csv")
    write_session(generate(spec), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.truth.json").read_bytes() == (tmp_path / "b.truth.json").read_bytes()


def test_embedded_session_is_the_demo_spec_regenerated(tmp_path):
    write_session(generate(DEMO_SPEC), tmp_path / "demo.csv")
    shipped = embedded_session_path()
    assert (tmp_path / "demo.csv").read_bytes() == shipped.read_bytes()
    assert read_truth(shipped)["rep_count"] == DEMO_SPEC.reps
    stream = read_session(shipped)
    assert stream.fps == 30.0
    assert stream.landmarks.shape == (len(stream.times_s), 33, 4)


@pytest.mark.parametrize(
    "text, message",
    [("2:squat", "REP:ID:MAGNITUDE"), ("2:slouch:10", "unknown fault"), ("x:squat:10", "integer")],
)
def test_parse_fault_rejects_bad_text(text, message):
    with pytest.raises(ValueError, match=message):
        parse_fault(text)


def test_spec_rejects_fault_on_missing_rep_and_bad_camera():
    with pytest.raises(ValueError, match="reps 1-2"):
        AthleteSpec(reps=2, faults={3: {"squat": 10.0}})
    with pytest.raises(ValueError, match="2-4 m"):
        CameraPlacement(distance_m=6.0)


# --- the body model and the truth of every fault ------------------------------------------------


def _rep_frames(s, rep, phase):
    return np.where((s.rep_index == rep) & (np.array(s.phase) == phase))[0]


def _truth_at(s, i, spec):
    body = body_for(spec, s.poses[i])
    return body, joint_angles(body), virtual_dowel(body)


def test_fault_ids_include_the_later_checks():
    assert FAULT_IDS[-2:] == ("hips_rise_first", "hips_high")
    assert len(set(FAULT_IDS)) == len(FAULT_IDS) == 12


def test_segment_masses_add_up_to_the_whole_body():
    paired = {"foot", "shank", "thigh", "upper_arm", "forearm", "hand"}
    total = sum((2 if k in paired else 1) * m for k, (m, _) in SEGMENT_MASS.items())
    assert total == pytest.approx(1.0, abs=0.002)


def test_segments_keep_their_length_through_a_rep():
    s = generate(AthleteSpec(preset="deadlift", reps=1, landmark_noise_m=0.0))
    lm = s.landmarks
    for a, b in (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_shoulder", "left_elbow")):
        length = np.linalg.norm(lm[:, INDEX[a], :3] - lm[:, INDEX[b], :3], axis=1)
        assert np.ptp(length) < 1e-6, (a, b)
    assert np.linalg.norm(lm[0, INDEX["left_hip"], :3] - lm[0, INDEX["left_knee"], :3]) == pytest.approx(
        0.245 * 1.75, abs=1e-6
    )


def test_clean_reps_keep_the_centre_of_mass_over_mid_foot():
    for preset in PRESETS:
        spec = AthleteSpec(preset=preset, reps=1)
        s = generate(spec)
        for i in range(0, len(s.times_s), 7):
            body = body_for(spec, s.poses[i])
            assert abs(body.com[0] - body.mid_foot[0]) < 0.001, (preset, i)


@pytest.mark.parametrize("preset", ["dowel", "deadlift"])
@pytest.mark.parametrize("fault, sign", [("toes", 1.0), ("heels", -1.0)])
def test_toes_and_heels_shift_the_centre_of_mass_by_the_injected_amount(fault, sign, preset):
    spec = AthleteSpec(preset=preset, reps=2, faults={2: {fault: 40.0}})
    s = generate(spec)
    bottom = _rep_frames(s, 2, "bottom")[0]
    body, _, _ = _truth_at(s, bottom, spec)
    assert 1000 * (body.com[0] - body.mid_foot[0]) == pytest.approx(sign * 40.0, abs=1.0)
    # Mid-foot is between heel and toe, and the toes are forward (world +X).
    heel, toe = body.joints["left_heel"][0], body.joints["left_toe"][0]
    assert body.mid_foot[0] == pytest.approx(0.5 * (heel + toe)) and toe > heel
    clean_body, _, _ = _truth_at(s, _rep_frames(s, 1, "bottom")[0], spec)
    assert abs(clean_body.com[0] - clean_body.mid_foot[0]) < 0.001


def test_neutral_spine_touches_the_dowel_at_three_points_with_a_lumbar_hollow():
    for pose in (Pose(), PRESETS["dowel"].bottom, PRESETS["deadlift"].bottom):
        d = virtual_dowel(body_at(pose, 1.75))
        assert d.tailbone_m == 0.0  # held against the sacrum
        assert -1e-12 < d.head_m < 0.003 and -1e-12 < d.mid_back_m < 0.003
        # About a hand's thickness at the low back (the article: "very little space").
        assert 0.025 < d.lumbar_m < 0.055


def test_no_point_of_the_back_lies_behind_the_dowel():
    spec = AthleteSpec(
        reps=4, faults={2: {"rounded_back": 30.0}, 3: {"banana_back": 20.0}, 4: {"no_brace": 15.0}}
    )
    s = generate(spec)
    for i in range(0, len(s.times_s), 5):
        body = body_for(spec, s.poses[i])
        d = virtual_dowel(body)
        p = body.back_profile
        gaps = (d.line_point - p) @ d.back_dir
        assert gaps.min() > -1e-9, i
        # The dowel rests on the sacrum and on one more point of the back.
        assert gaps[0] == pytest.approx(0.0, abs=1e-12) and np.sum(gaps[1:] < 1e-9) >= 1
        assert min(d.head_m, d.mid_back_m, d.tailbone_m, d.lumbar_m) > -1e-12


def _lever_arm_gaps(body, lumbar_deg: float, thoracic_deg: float) -> dict[str, float]:
    """Gaps predicted for extra spinal flexion of a body, from its neutral geometry alone.

    Small-angle lever arms: flexing a region by phi (uniformly along it) moves
    a back point above the region forward of the dowel by phi times its
    distance along the dowel from the middle of the region (from the start of
    the region, quadratically, for a point inside it). The dowel then pivots
    on the sacrum and rests on the point of least slope (gap / distance).
    """
    d = virtual_dowel(body)
    origin, along, behind = d.line_point[:2], d.line_dir[:2], d.back_dir[:2]
    p = body.back_profile[:, :2]
    x = (p - origin) @ along
    y = (origin - p) @ behind  # the neutral gaps
    j = body.joints

    def at(name):
        return float((j[name][:2] - origin) @ along)

    shift = np.zeros(len(p))
    for phi_deg, a, b in (
        (lumbar_deg, at("sacral_base"), at("thoracolumbar")),
        (thoracic_deg, at("thoracolumbar"), at("t1")),
    ):
        phi = np.radians(phi_deg)
        inside = np.clip(x - a, 0.0, b - a)
        shift += np.where(x >= b, phi * (x - 0.5 * (a + b)), phi * inside**2 / (2.0 * (b - a)))
    moved = y + shift
    up = x > 1e-6
    slope = np.min(moved[up] / x[up])
    gaps = moved - slope * x
    labels = body.back_labels
    return {
        "head": float(gaps[labels == 4].min()),
        "mid_back": float(gaps[labels == 2].min()),
        "lumbar": float(gaps[labels == 1].max()),
    }


@pytest.mark.parametrize("preset", ["dowel", "deadlift"])
@pytest.mark.parametrize("magnitude", [10.0, 20.0, 30.0])
def test_rounded_back_opens_the_head_gap_by_the_lever_arm_of_the_injected_flexion(preset, magnitude):
    import hinge_coach_ros.athlete as athlete

    spec = AthleteSpec(preset=preset)
    clean_body = body_at(PRESETS[preset].bottom, 1.75)
    clean = virtual_dowel(clean_body)
    pose = athlete._bottom_pose(spec, {"rounded_back": magnitude})
    body = body_at(pose, 1.75)
    rounded = virtual_dowel(body)
    angles = joint_angles(body)
    # The injected flexion is where the truth says it is: 30 % lumbar, 70 % thoracic.
    assert angles["lumbar_flexion_deg"] == pytest.approx(0.3 * magnitude, abs=0.01)
    assert angles["thoracic_flexion_deg"] == pytest.approx(0.7 * magnitude, abs=0.01)
    predicted = _lever_arm_gaps(clean_body, 0.3 * magnitude, 0.7 * magnitude)
    # The rounded upper back holds the dowel up: the mid back stays on it, the
    # head leaves it (about 3.8 mm per degree) and the flexed lumbar spine
    # loses lordosis (its hollow shrinks, about 0.4 mm per degree).
    assert rounded.contact == "mid_back" and rounded.mid_back_m == pytest.approx(0.0, abs=1e-9)
    tolerance = 0.002 + 0.05 * (predicted["head"] - clean.head_m)
    assert rounded.head_m == pytest.approx(predicted["head"], abs=tolerance)
    assert rounded.lumbar_m == pytest.approx(predicted["lumbar"], abs=0.002)
    assert rounded.head_m - clean.head_m > 0.003 * magnitude
    assert clean.lumbar_m - rounded.lumbar_m > 0.0003 * magnitude


def test_rounded_back_rep_in_a_session():
    spec = AthleteSpec(reps=2, faults={2: {"rounded_back": 25.0}})
    s = generate(spec)
    _, _, clean = _truth_at(s, _rep_frames(s, 1, "bottom")[0], spec)
    body, _, rounded = _truth_at(s, _rep_frames(s, 2, "bottom")[0], spec)
    predicted = _lever_arm_gaps(body_for(spec, PRESETS["dowel"].bottom), 0.3 * 25.0, 0.7 * 25.0)
    assert rounded.head_m == pytest.approx(predicted["head"], abs=0.006)
    assert rounded.head_m > clean.head_m + 0.08
    assert rounded.lumbar_m < clean.lumbar_m - 0.008
    assert rounded.mid_back_m == pytest.approx(0.0, abs=1e-9) and rounded.tailbone_m == 0.0


def test_banana_back_lumbar_gap_grows_at_lockout():
    spec = AthleteSpec(reps=2, faults={2: {"banana_back": 15.0}})
    s = generate(spec)
    clean_body, _, clean = _truth_at(s, _rep_frames(s, 1, "lockout")[-1], spec)
    _, angles, banana = _truth_at(s, _rep_frames(s, 2, "lockout")[-1], spec)
    _, _, bottom = _truth_at(s, _rep_frames(s, 2, "bottom")[0], spec)
    assert angles["lumbar_flexion_deg"] == pytest.approx(-15.0, abs=0.01)
    # Extension deepens the lumbar hollow (about 1.5 mm per degree) and tips the
    # thorax back: the head holds the dowel up, the mid back leaves it.
    predicted = _lever_arm_gaps(clean_body, -15.0, 0.0)
    assert banana.lumbar_m == pytest.approx(predicted["lumbar"], abs=0.003)
    assert banana.mid_back_m == pytest.approx(predicted["mid_back"], abs=0.003)
    assert banana.contact == "head" and banana.lumbar_m - clean.lumbar_m > 0.015
    assert banana.lumbar_m > bottom.lumbar_m + 0.01
    # The chest ends behind the hips: the trunk leans back at lockout.
    assert (
        angles["trunk_inclination_deg"]
        < joint_angles(_truth_at(s, _rep_frames(s, 1, "lockout")[-1], spec)[0])["trunk_inclination_deg"] - 5.0
    )


def test_squat_rep_knees_do_the_work():
    for preset in PRESETS:
        spec = AthleteSpec(preset=preset, reps=2, faults={2: {"squat": 45.0}}, landmark_noise_m=0.0)
        s = generate(spec)
        clean, squat = _bottom(s, 1), _bottom(s, 2)
        assert s.knee_flexion_deg[squat] >= 60.0
        assert s.knee_flexion_deg[squat] / s.hip_flexion_deg[squat] > 1.0
        hip_x = -s.landmarks[:, INDEX["left_hip"], 0]  # world forward is optical -x for the side camera
        assert hip_x[0] - hip_x[squat] < 0.55 * (hip_x[0] - hip_x[clean]), preset


def test_no_brace_is_an_anterior_pelvic_tilt_at_setup():
    spec = AthleteSpec(reps=2, faults={2: {"no_brace": 12.0}})
    s = generate(spec)
    setup_end = _rep_frames(s, 2, "descent")[0]
    clean_start = _rep_frames(s, 1, "descent")[0]
    _, a_fault, d_fault = _truth_at(s, setup_end, spec)
    _, a_clean, d_clean = _truth_at(s, clean_start, spec)
    assert a_fault["pelvis_inclination_deg"] - a_clean["pelvis_inclination_deg"] == pytest.approx(
        12.0, abs=1.5
    )
    assert d_fault.lumbar_m > d_clean.lumbar_m + 0.008  # the low back arches to keep the chest up
    assert s.active_faults[setup_end - 3] == {"no_brace": 12.0}


@pytest.mark.parametrize("fault, sign", [("head_up", -1.0), ("head_down", 1.0)])
def test_head_faults_bend_the_neck(fault, sign):
    spec = AthleteSpec(reps=1, faults={1: {fault: 20.0}})
    s = generate(spec)
    _, angles, _ = _truth_at(s, _rep_frames(s, 1, "bottom")[0], spec)
    assert angles["cervical_flexion_deg"] == pytest.approx(sign * 20.0, abs=0.01)


def test_lockout_tempo_and_pull_faults():
    preset = PRESETS["deadlift"]
    spec = AthleteSpec(
        preset="deadlift",
        reps=4,
        faults={1: {"incomplete_lockout": 15.0}, 2: {"fast_descent": 2.0}, 3: {"hips_high": 25.0}},
    )
    s = generate(spec)
    lock = _rep_frames(s, 1, "lockout")[-1]
    assert s.hip_flexion_deg[lock] > 15.0 and s.hip_flexion_deg[_rep_frames(s, 4, "lockout")[-1]] < 1.0
    assert len(_rep_frames(s, 2, "descent")) == pytest.approx(preset.descent_s / 2.0 * spec.fps, abs=1)
    assert len(_rep_frames(s, 4, "descent")) == pytest.approx(preset.descent_s * spec.fps, abs=1)
    knee_high = s.knee_flexion_deg[_rep_frames(s, 3, "bottom")[0]]
    assert knee_high == pytest.approx(preset.bottom.knee_flexion_deg - 25.0, abs=0.01)


def test_hips_rise_first_lifts_the_hips_before_the_shoulders():
    spec = AthleteSpec(preset="deadlift", reps=2, faults={2: {"hips_rise_first": 50.0}}, landmark_noise_m=0.0)
    s = generate(spec)

    def heights(rep, names):
        ascent = _rep_frames(s, rep, "ascent")
        points = s.landmarks[ascent][:, [INDEX[f"left_{names}"], INDEX[f"right_{names}"]], :3].mean(axis=1)
        return 1000.0 * points @ s.up_optical  # mm along gravity-up

    def lead_mm(rep):
        hip, shoulder = heights(rep, "hip"), heights(rep, "shoulder")
        return (hip - hip[0]) - (shoulder - shoulder[0]), hip - hip[0]

    clean, _ = lead_mm(1)
    faulty, hip_rise = lead_mm(2)
    # The magnitude is the peak lead of hip rise over shoulder rise, and the truth records it.
    assert faulty.max() == pytest.approx(50.0, abs=1.5)
    assert s.reps[1]["hips_lead_mm"] == pytest.approx(50.0, abs=1.0)
    assert clean.max() < 1.0 and s.reps[0]["hips_lead_mm"] < 1.0
    # The hips really rise (the knees open) in the first part of the ascent, not only the chest drops.
    peak = int(np.argmax(faulty))
    assert peak < 0.5 * len(faulty) and hip_rise[peak] > 20.0
    assert s.active_faults[_rep_frames(s, 2, "ascent")[5]] == {"hips_rise_first": 50.0}


def test_stance_tempo_depth_and_knee_bend_parameters():
    spec = AthleteSpec(
        reps=1, stance_width_m=0.45, tempo=2.0, depth=0.5, knee_bend_deg=30.0, landmark_noise_m=0.0
    )
    s = generate(spec)
    base = generate(AthleteSpec(reps=1, landmark_noise_m=0.0))
    body = body_at(s.poses[0], 1.75, 0.45)
    assert body.joints["right_ankle"][2] - body.joints["left_ankle"][2] == pytest.approx(0.45)
    assert len(_rep_frames(s, 1, "descent")) == pytest.approx(len(_rep_frames(base, 1, "descent")) / 2, abs=1)
    assert s.knee_flexion_deg.max() == pytest.approx(30.0, abs=0.01)
    assert s.hip_flexion_deg.max() < 0.7 * base.hip_flexion_deg.max()


def test_fault_magnitudes_are_checked():
    with pytest.raises(ValueError, match="outside"):
        AthleteSpec(reps=1, faults={1: {"rounded_back": 500.0}})
    with pytest.raises(ValueError, match="outside"):
        AthleteSpec(reps=1, faults={1: {"fast_descent": 0.5}})


def test_rgbd_demo_spec_is_clean_rounded_squat_banana_clean():
    faults = [RGBD_DEMO_SPEC.faults.get(rep, {}) for rep in range(1, 6)]
    assert [sorted(f) for f in faults] == [[], ["rounded_back"], ["squat"], ["banana_back"], []]
    s = generate(replace(RGBD_DEMO_SPEC))
    assert [r["faults"] for r in s.reps] == faults
