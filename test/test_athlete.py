"""The synthetic athlete's truth agrees with its geometry, and sessions are reproducible."""

import numpy as np
import pytest

from hinge_coach_ros.athlete import DEMO_SPEC, AthleteSpec, CameraPlacement, generate, parse_fault
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
