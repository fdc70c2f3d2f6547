"""The parameter schema: validation messages, the shipped config, the README table."""

import re
from pathlib import Path

import pytest

from hinge_coach_ros.params import (
    SCHEMA,
    ParameterError,
    defaults,
    defaults_yaml,
    load_params_file,
    load_patient_profile,
    markdown_table,
    spec,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_the_schema_defaults():
    assert (ROOT / "config" / "coach.yaml").read_text() == defaults_yaml()
    loaded = load_params_file(ROOT / "config" / "coach.yaml")
    for node in SCHEMA:
        assert loaded[node] == defaults(node)


def test_readme_parameter_table_is_current():
    assert markdown_table() in (ROOT / "README.md").read_text()


def test_the_live_parameters_are_the_nodes_own():
    from hinge_coach_ros.params import LIVE_PARAMS, is_live

    for node, live in LIVE_PARAMS.items():
        assert live is None or live <= {p.name for p in SCHEMA[node]}, node
    assert is_live("feedback_node", "language") and not is_live("feedback_node", "led_backend")
    assert is_live("alignment_node", "exercise") and not is_live("camera_node", "source")


@pytest.mark.parametrize(
    "node, values, message",
    [
        (
            "feedback_node",
            {"pan_max_deg": 400.0},
            r"feedback_node.pan_max_deg = 400.0 is invalid: expected double in \[0, 180\]",
        ),
        ("camera_node", {"source": "kinect"}, "expected one of 'session', 'synthetic'"),
        ("camera_node", {"synthetic_reps": 2.5}, r"int in \[1, 100\]"),
        ("camera_node", {"loop": "yes"}, "expected bool"),
        ("alignment_node", {"up_vector": [0.0, 1.0]}, r"3 numbers in \[-1, 1\]"),
        ("alignment_node", {"squat_knee_flexion": 40.0}, "no parameter 'squat_knee_flexion'"),
        (
            "alignment_node",
            {"min_rep_hip_flexion_deg": 20.0, "lockout_hip_flexion_deg": 30.0},
            "lockout_hip_flexion_deg < min_rep",
        ),
        ("feedback_node", {"home_pan_deg": 120.0}, "home_pan_deg must lie within"),
    ],
)
def test_bad_values_name_the_key_and_the_allowed_range(node, values, message):
    with pytest.raises(ParameterError, match=message):
        validate(node, values)


def test_ints_are_accepted_for_doubles_and_converted():
    assert validate("feedback_node", {"max_speed_dps": 30}) == {"max_speed_dps": 30.0}
    assert isinstance(validate("feedback_node", {"max_speed_dps": 30})["max_speed_dps"], float)


def test_params_file_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("/**/feedback_node:\n  ros__parameters:\n    tilt_max_deg: 95.0\n")
    with pytest.raises(ParameterError, match=r"feedback_node.tilt_max_deg = 95.0 is invalid"):
        load_params_file(bad)
    bad.write_text("/**/lidar_node:\n  ros__parameters: {}\n")
    with pytest.raises(ParameterError, match="unknown node"):
        load_params_file(bad)
    bad.write_text("a: [\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_params_file(bad)
    with pytest.raises(ParameterError, match="not found"):
        load_params_file(tmp_path / "missing.yaml")


def test_patient_profile_overrides_the_exercise_profile(tmp_path):
    from hinge_coach_ros.params import patient_thresholds, thresholds_for

    assert patient_thresholds("") == {}
    assert thresholds_for("dowel")["squat_knee_flexion_deg"] == 45.0
    assert thresholds_for("deadlift")["squat_knee_flexion_deg"] == 60.0
    profile = tmp_path / "patient.yaml"
    profile.write_text("squat_knee_flexion_deg: 70\nhead_up_deg: 8.5\n")
    th = thresholds_for("deadlift", patient_thresholds(str(profile)))
    assert th["squat_knee_flexion_deg"] == 70.0 and th["head_up_deg"] == 8.5
    assert th["squat_knee_hip_ratio"] == 0.7  # still the deadlift profile's
    shipped = thresholds_for("dowel", patient_thresholds(str(ROOT / "config" / "patient_example.yaml")))
    assert shipped["head_up_deg"] == 10.0


@pytest.mark.parametrize(
    "content, message",
    [
        ("squat_knee_flexion: 50\n", "unknown threshold 'squat_knee_flexion'"),
        ("head_up_deg: high\n", r"head_up_deg = 'high' is invalid: expected double in \[3, 60\]"),
        ("toes_com_offset_mm: 500\n", r"toes_com_offset_mm = 500 is invalid: expected double in \[10, 150\]"),
        ("- 1\n- 2\n", "must be a mapping"),
    ],
)
def test_patient_profile_errors_name_the_key_and_range(tmp_path, content, message):
    profile = tmp_path / "patient.yaml"
    profile.write_text(content)
    with pytest.raises(ParameterError, match=message):
        validate("alignment_node", {"patient_profile": str(profile)})


def test_readme_fault_table_is_current():
    from hinge_coach_ros.alignment import fault_table

    assert fault_table() in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", [p.name for p in SCHEMA["alignment_node"] if p.type_name == "double"])
def test_nan_is_refused_naming_the_key_and_the_range(name):
    allowed = re.escape(spec("alignment_node", name).allowed())
    with pytest.raises(ParameterError, match=rf"alignment_node.{name} = nan is invalid: expected {allowed}"):
        validate("alignment_node", {name: float("nan")})


def test_nan_in_a_patient_profile_is_refused(tmp_path):
    profile = tmp_path / "patient.yaml"
    profile.write_text("head_up_deg: .nan\n")
    with pytest.raises(ParameterError, match=r"head_up_deg = nan is invalid: expected double in \[3, 60\]"):
        validate("alignment_node", {"patient_profile": str(profile)})


def test_a_zero_up_vector_is_refused():
    with pytest.raises(ParameterError, match=r"alignment_node.up_vector = \[0.0, 0.0, 0.0\] is invalid"):
        validate("alignment_node", {"up_vector": [0.0, 0.0, 0.0]})
    assert validate("alignment_node", {"up_vector": [0, 0.5, 0]}) == {"up_vector": [0.0, 0.5, 0.0]}


# The two YAML files a clinic edits, each with its loader and the name its errors give it.
LOADERS = {
    "patient profile": (load_patient_profile, "patient.yaml"),
    "config file": (load_params_file, "coach.yaml"),
}
# A key given twice in each (the second would silently win).
TWICE = {
    "patient profile": (b"head_up_deg: 9\nhead_up_deg: 20\n", "duplicate key 'head_up_deg'"),
    "config file": (
        b"/**/camera_node:\n  ros__parameters:\n    fps: 15\n/**/camera_node: {}\n",
        r"duplicate key '/\*\*/camera_node'",
    ),
}


def _assert_refused(tmp_path, kind: str, content: bytes, message: str) -> None:
    load, name = LOADERS[kind]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParameterError, match=rf"(?s){kind} {re.escape(str(path))}.*{message}"):
        load(path)


@pytest.mark.parametrize("kind", sorted(LOADERS))
@pytest.mark.parametrize(
    "content, message",
    [
        (b"false\n", "must be a mapping"),
        (b"0\n", "must be a mapping"),
        (b"42\n", "must be a mapping"),
        (b"[]\n", "must be a mapping"),
        (b"- a\n- b\n", "must be a mapping"),
        (b'""\n', "must be a mapping"),
        ("head_up_deg: 9 # f\u00fcr Frau M.\n".encode("latin-1"), "is not valid YAML"),
    ],
)
def test_a_yaml_file_that_is_no_mapping_or_no_utf8_is_refused(tmp_path, kind, content, message):
    _assert_refused(tmp_path, kind, content, message)


@pytest.mark.parametrize("kind", sorted(LOADERS))
def test_a_yaml_file_that_repeats_a_key_is_refused(tmp_path, kind):
    _assert_refused(tmp_path, kind, *TWICE[kind])


def test_an_empty_patient_profile_overrides_nothing(tmp_path):
    profile = tmp_path / "patient.yaml"
    for content in ("", "# nothing changed for this patient yet\n"):
        profile.write_text(content)
        assert load_patient_profile(profile) == {}


def test_a_removed_patient_profile_refuses_only_its_own_change(tmp_path):
    from hinge_coach_ros.alignment import HingeEngine

    profile = tmp_path / "patient.yaml"
    profile.write_text("head_up_deg: 9.0\n")
    current = {**defaults("alignment_node"), **validate("alignment_node", {"patient_profile": str(profile)})}
    engine = HingeEngine(current)
    profile.unlink()
    # At run time the other values are checked with the node's current ones; the profile's
    # file is not read again.
    change = validate("alignment_node", {"exercise": "deadlift"}, current=current)
    assert change == {"exercise": "deadlift"}
    engine.set_params(change)
    assert engine.thresholds["head_up_deg"] == 9.0 and engine.thresholds["squat_knee_flexion_deg"] == 60.0
    with pytest.raises(ParameterError, match="lockout_hip_flexion_deg < min_rep"):
        validate("alignment_node", {"lockout_hip_flexion_deg": 44.0}, current=current)
    with pytest.raises(ParameterError, match="not found"):
        validate("alignment_node", {"patient_profile": str(profile)}, current=current)
