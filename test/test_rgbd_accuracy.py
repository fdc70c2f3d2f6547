"""Accuracy from rendered RGB-D: the embedded session (5 dowel reps, side-on) through
BlazePose, depth lifting, smoothing and the engine, against the athlete's truth.

The bounds are what the pipeline achieves with some margin (measured: see the
README's RGB-D accuracy table); ``hinge-coach accuracy --rgbd`` runs the full
sweep (both exercises, both camera placements, every fault).
"""

import pytest

from hinge_coach_ros.accuracy import MODES, capture_rgbd, score_rgbd
from hinge_coach_ros.athlete import RGBD_DEMO_SPEC
from hinge_coach_ros.rs_recording import embedded_rgbd_session


@pytest.fixture(scope="module")
def results():
    capture = capture_rgbd(embedded_rgbd_session(RGBD_DEMO_SPEC), "dowel", "embedded")
    return {mode: score_rgbd([capture], mode) for mode in MODES}


# mode -> angle -> bound (deg; COM offset in mm). Measured on this session (trunk, hip,
# knee, head-neck, COM): offline 0.81 / 0.96 / 0.64 / 2.40 / 10.9; live 0.81 / 1.12 /
# 1.01 / 2.47 / 11.9, with the live filter's lead (filter_lead 0.7; without it, on the same
# capture, live read 1.18 / 1.72 / 0.98 / 2.32 / 11.1, lag 37 ms instead of 8). Before the
# near shoulder went on the upper arm's axis: offline 0.94 / 0.99 / 0.64 / 2.40 / 10.6. One cut-off
# for the skeleton; the COM read 10.8 / 11.1 with the frames whose toes were both placed,
# which the report now leaves out. The knee read 3.54 / 3.62 with BlazePose's own knee
# and ankle, 1-2 cm in front of the joints, then 2.06 / 2.27 with them moved onto the
# limbs' axes (camera_pipeline.onto_limb_axes), and the hip 3.27 / 3.74 before the near
# hip moved onto the thigh's axis and the thigh became the near leg's own (geometry._leg).
BOUNDS = {
    "offline": {
        "trunk_inclination_deg": 1.5,
        "hip_flexion_deg": 1.6,
        "knee_flexion_deg": 1.2,
        "head_neck_deg": 4.0,
        "com_offset_mm": 20.0,
    },
    "live": {
        "trunk_inclination_deg": 1.4,
        "hip_flexion_deg": 1.7,
        "knee_flexion_deg": 1.5,
        "head_neck_deg": 4.5,
        "com_offset_mm": 20.0,
    },
}


@pytest.mark.parametrize("mode", MODES)
def test_angles_from_rendered_rgbd(results, mode):
    r = results[mode]
    for angle, bound in BOUNDS[mode].items():
        assert r.mae(angle) <= bound, (mode, angle, r.mae(angle))
    # Offline smoothing has no lag of its own (what is left is BlazePose's); live, the
    # one-euro filter's lead takes its own back (measured 10 / 8 ms).
    assert r.lag_ms[0] <= (30.0 if mode == "offline" else 35.0)


@pytest.mark.parametrize("mode", MODES)
def test_reps_and_faults_from_rendered_rgbd(results, mode):
    assert results[mode].reps_counted == [RGBD_DEMO_SPEC.reps]
    # Every frame from the first second on gives angles: none is taken for a lost skeleton.
    assert results[mode].measured == [1.0]
    r = results[mode].result
    assert r.rep_count_exact == 1
    for fault_id in ("squat", "banana_back"):
        assert r.tallies[fault_id].found == r.tallies[fault_id].faulty == 1, fault_id
    # The two clean reps raise nothing (heels, head_up and fast_descent did before).
    assert sum(t.false_alarms for t in r.tallies.values()) == 0
    assert r.tallies["heels"].clean == 2


def test_near_side_joints_are_lifted_to_their_centres(results):
    import numpy as np

    errors = results["offline"].landmark_errors
    for name in ("left_hip", "left_knee", "left_ankle", "left_shoulder"):
        e = np.concatenate(errors[name])
        assert np.mean(np.linalg.norm(e, axis=1)) < 0.05, name  # metres, mean 3D distance
        assert abs(np.mean(e[:, 2])) < 0.03, name  # no depth bias left (lateral, side-on)
