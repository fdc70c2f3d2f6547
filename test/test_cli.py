"""The hinge-coach command and the node executables: results, and one-line errors."""

import json
import subprocess
import sys

import pytest

CLI = [sys.executable, "-m", "hinge_coach_ros.cli"]


def run(args, timeout=120):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_run_with_missing_session_file():
    result = run(CLI + ["run", "--session-file", "/nonexistent/session.csv"])
    assert_one_line_error(result, "session file /nonexistent/session.csv not found")
    assert result.returncode == 2


def test_run_with_unknown_source():
    result = run(CLI + ["run", "--source", "kinect"])
    assert_one_line_error(result, "camera_node.source = 'kinect' is invalid", "'session', 'synthetic'")


def test_run_with_out_of_range_config(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("/**/feedback_node:\n  ros__parameters:\n    max_speed_dps: 9000.0\n")
    result = run(CLI + ["run", "--config-file", str(config)])
    assert_one_line_error(result, "feedback_node.max_speed_dps = 9000.0 is invalid", "[1, 360]")


@pytest.mark.parametrize("node", ["camera_node", "alignment_node", "feedback_node"])
def test_node_executable_rejects_out_of_range_parameter(node):
    param = {
        "camera_node": "start_delay_s:=-5.0",
        "alignment_node": "bottom_speed_dps:=0.0",
        "feedback_node": "tilt_max_deg:=120.0",
    }[node]
    code = f"import sys; from hinge_coach_ros.nodes.{node} import main; sys.exit(main())"
    result = run([sys.executable, "-c", code, "--ros-args", "-p", param])
    assert_one_line_error(result, f"{node}.{param.split(':=')[0]}")
    assert result.returncode == 2


def test_synth_then_analyze_finds_the_injected_fault(tmp_path):
    synth = run(
        CLI
        + [
            "synth",
            str(tmp_path),
            "--format",
            "skeleton",
            "--preset",
            "dowel",
            "--reps",
            "3",
            "--fault",
            "2:head_up:25",
            "--view",
            "oblique45",
            "--seed",
            "3",
        ]
    )
    assert synth.returncode == 0, synth.stderr
    truth = json.loads((tmp_path / "session.truth.json").read_text())
    assert truth["rep_count"] == 3 and truth["reps"][1]["faults"] == {"head_up": 25.0}
    out = tmp_path / "report.json"
    analyze = run(CLI + ["analyze", str(tmp_path / "session.csv"), "--json", str(out)])
    assert analyze.returncode == 0, analyze.stderr
    report = json.loads(out.read_text())
    assert [r["index"] for r in report["reps"]] == [1, 2, 3]
    assert [[f["id"] for f in r["faults"]] for r in report["reps"]] == [[], ["head_up"], []]
    assert report["reps"][1]["score"] < report["reps"][0]["score"] == 100.0
    assert "3 reps" in analyze.stdout
    # A skeleton has no back surface: the table says which checks it could not judge.
    assert "not measurable: no_brace (3 of 3), rounded_back (3 of 3)" in analyze.stdout
    assert all(set(r["not_measurable"]) == {"no_brace", "rounded_back"} for r in report["reps"])
    # The dowel drill's checks: no pull from the floor to judge.
    assert report["exercise"] == "dowel" and not {"hips_high", "hips_rise_first"} & set(report["checks"])
    assert {"squat", "no_brace", "toes"} <= set(report["checks"])


def test_analyze_gives_no_peak_that_was_set_on_placed_joints(tmp_path):
    from dataclasses import replace

    from hinge_coach_ros.athlete import AthleteSpec, generate
    from hinge_coach_ros.landmarks import INDEX
    from hinge_coach_ros.session_io import write_session

    s = generate(AthleteSpec(preset="box_lift", reps=3, seed=2))
    landmarks = s.landmarks.copy()
    second = (s.times_s >= s.reps[1]["start_s"]) & (s.times_s <= s.reps[1]["end_s"])
    deep = second & (s.hip_flexion_deg > 0.7 * s.hip_flexion_deg[second].max())
    for side in ("left", "right"):
        landmarks[deep, INDEX[f"{side}_knee"], 3] = 0.4  # placed by a model, not seen
    write_session(replace(s, landmarks=landmarks), tmp_path / "session.csv")
    out = tmp_path / "report.json"
    args = ["analyze", str(tmp_path / "session.csv"), "--exercise", "box_lift", "--json", str(out)]
    analyze = run(CLI + args)
    assert analyze.returncode == 0, analyze.stderr

    def no_nan(name):
        raise AssertionError(f"{name} in the JSON report")

    report = json.loads(out.read_text(), parse_constant=no_nan)  # strict JSON: null, not NaN
    peaks = [r["peak"] for r in report["reps"]]
    assert len(peaks) == 3
    assert peaks[1]["hip_flexion_deg"] is None and peaks[1]["knee_flexion_deg"] is None
    assert peaks[1]["trunk_inclination_deg"] > 30.0
    assert all(p["hip_flexion_deg"] > 60.0 for p in (peaks[0], peaks[2]))
    rows = [line.split() for line in analyze.stdout.splitlines() if line.split()[:1] == ["2"]]
    # Columns: rep, start, end, hip, trunk, knee. The trunk's peak was seen.
    assert len(rows) == 1 and rows[0][3] == "-" and rows[0][4] != "-" and rows[0][5] == "-"


def test_synth_rejects_unknown_fault(tmp_path):
    result = run(CLI + ["synth", str(tmp_path), "--fault", "1:slouch:5"])
    assert_one_line_error(result, "unknown fault 'slouch'")


def test_run_synthetic_source_for_a_few_seconds():
    result = run(CLI + ["run", "--source", "synthetic", "--duration-s", "4"])
    assert result.returncode == 0, result.stderr
    assert "source 'synthetic'" in result.stderr
    assert "session:" in result.stderr  # the summary is printed on the way out


def test_ctrl_c_stops_the_rig_cleanly_with_actuators_safe():
    import signal
    import time

    proc = subprocess.Popen(CLI + ["run"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "session:" in err  # the summary, logged after the LED and mount went safe
    assert "Traceback" not in err and "Failed to publish" not in err
