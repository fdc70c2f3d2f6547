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


def test_feedback_language_and_rates_are_applied_live_and_an_unknown_language_is_refused(rig):
    from hinge_coach_ros.cues import load_cue_table

    feedback = rig.nodes["feedback_node"]
    german = load_cue_table("de")
    assert german.text("good_rep") != load_cue_table("en").text("good_rep")
    assert feedback.set_parameters([Parameter("language", value="de")])[0].successful
    assert feedback.policy.table.language == "de" and feedback.table.voice == german.voice
    assert feedback.policy.table.text("good_rep") == german.text("good_rep")
    result = feedback.set_parameters([Parameter("language", value="xx")])[0]
    assert not result.successful and "'xx' is not in the cue file" in result.reason
    assert feedback.get_parameter("language").value == "de" and feedback.policy.table.language == "de"
    # Refused as a whole: the valid change beside the bad language is not applied either.
    cooldown_s = feedback.policy.cue_cooldown_s
    atomic = feedback.set_parameters_atomically(
        [Parameter("cue_cooldown_s", value=cooldown_s + 3.0), Parameter("language", value="xx")]
    )
    assert not atomic.successful and feedback.policy.cue_cooldown_s == cooldown_s
    assert feedback.params["cue_cooldown_s"] == cooldown_s
    assert feedback.set_parameters([Parameter("control_rate_hz", value=100.0)])[0].successful
    assert feedback._control_timer.timer_period_ns == 10_000_000
    assert feedback.set_parameters([Parameter("display_rate_hz", value=2.0)])[0].successful
    assert feedback._display_timer.timer_period_ns == 500_000_000
    feedback.set_parameters(
        [
            Parameter("language", value="en"),
            Parameter("control_rate_hz", value=20.0),
            Parameter("display_rate_hz", value=5.0),
        ]
    )


def test_start_up_parameters_are_read_only_instead_of_silently_ignored(rig):
    feedback, camera = rig.nodes["feedback_node"], rig.nodes["camera_node"]
    result = feedback.set_parameters([Parameter("led_backend", value="serial")])[0]
    assert not result.successful and "read-only" in result.reason
    assert feedback.get_parameter("led_backend").value == "sim" and type(feedback.led).__name__ == "SimLed"
    described = feedback.describe_parameter("led_backend")
    assert described.read_only and "takes effect on restart" in described.description
    assert not feedback.describe_parameter("language").read_only
    result = camera.set_parameters([Parameter("source", value="synthetic")])[0]
    assert not result.successful and "read-only" in result.reason
    assert camera.get_parameter("source").value == "session" and camera.params["source"] == "session"
    # images_rate_hz is read at each frame: applied.
    assert camera.set_parameters([Parameter("images_rate_hz", value=0.0)])[0].successful
    assert camera.params["images_rate_hz"] == 0.0


def test_a_session_files_vertical_reaches_the_alignment_node_as_the_floor(rig):
    """The embedded session's '# up:' line is published on floor/up while it plays, as
    `hinge-coach analyze` takes it in place of --up."""
    import numpy as np

    from hinge_coach_ros.session_io import embedded_session_path, read_session

    alignment = rig.nodes["alignment_node"]
    assert rig.spin_until(lambda: alignment._floor is not None, 30.0)
    stream = read_session(embedded_session_path())
    assert stream.up_given
    np.testing.assert_allclose(alignment._floor[1], stream.up_optical, atol=1e-6)


def test_a_cue_file_with_words_that_are_not_text_is_refused_with_the_key_named(rig, tmp_path):
    import yaml

    from hinge_coach_ros.cues import default_cue_file

    feedback = rig.nodes["feedback_node"]
    before = feedback.table
    data = yaml.safe_load(default_cue_file().read_text(encoding="utf-8"))
    data["languages"]["en"]["escalated"] = ["Brace now"]  # a list where the key -> text mapping belongs
    listed = tmp_path / "listed.yaml"
    listed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = feedback.set_parameters([Parameter("cue_file", value=str(listed))])[0]
    assert not result.successful
    assert result.reason == (
        f"cue file {listed}: language 'en': 'escalated' must be a mapping of cue key to text, not a list"
    )
    data["languages"]["en"]["escalated"] = {}
    data["languages"]["en"]["cues"]["neutral_spine"] = None  # "neutral_spine:" with the words left out
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = feedback.set_parameters([Parameter("cue_file", value=str(empty))])[0]
    assert not result.successful
    assert result.reason == f"cue file {empty}: language 'en' has no text for cues.neutral_spine (null)"
    assert feedback.table is before and feedback.get_parameter("cue_file").value == ""
