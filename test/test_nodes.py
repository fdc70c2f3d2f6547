"""Run-time parameter changes on the live nodes: validated, applied, or refused with a reason."""

import pytest
from rclpy.parameter import Parameter

from hinge_coach_ros.graph import GraphArgs
from hinge_coach_ros.runner import Rig


@pytest.fixture(scope="module")
def rig():
    r = Rig(GraphArgs())
    yield r
    r.close()


def test_exercise_change_reloads_the_thresholds(rig):
    node = rig.nodes["alignment_node"]
    assert node.engine.thresholds["squat_knee_flexion_deg"] == 45.0
    results = node.set_parameters([Parameter("exercise", value="deadlift")])
    assert results[0].successful
    assert node.engine.thresholds["squat_knee_flexion_deg"] == 60.0


def test_bad_patient_profile_is_refused_and_nothing_changes(rig, tmp_path):
    node = rig.nodes["alignment_node"]
    before = dict(node.engine.thresholds)
    bad = tmp_path / "p.yaml"
    bad.write_text("head_up_deg: 500\n")
    result = node.set_parameters([Parameter("patient_profile", value=str(bad))])[0]
    assert not result.successful
    assert "head_up_deg" in result.reason and "[3, 60]" in result.reason
    assert node.engine.thresholds == before
    good = tmp_path / "q.yaml"
    good.write_text("head_up_deg: 9.0\n")
    assert node.set_parameters([Parameter("patient_profile", value=str(good))])[0].successful
    assert node.engine.thresholds["head_up_deg"] == 9.0


def test_out_of_range_and_inconsistent_changes_are_refused(rig):
    feedback = rig.nodes["feedback_node"]
    assert not feedback.set_parameters([Parameter("pan_max_deg", value=400.0)])[0].successful
    result = feedback.set_parameters([Parameter("home_pan_deg", value=95.0)])[0]
    assert not result.successful and "home_pan_deg must lie within" in result.reason
    assert feedback.set_parameters([Parameter("max_speed_dps", value=30.0)])[0].successful
    assert feedback.pan_tilt.limits.max_speed_dps == 30.0
