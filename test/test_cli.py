"""The hinge-coach command and the node executables: results, and one-line errors."""

import json
import subprocess
import sys

import numpy as np
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


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_stops_the_rig_cleanly_with_actuators_safe(signum):
    import signal
    import time

    proc = subprocess.Popen(CLI + ["run"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    time.sleep(4.0)
    proc.send_signal(getattr(signal, signum))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "session:" in err  # the summary, logged after the LED and mount went safe
    assert "Traceback" not in err and "Failed to publish" not in err


@pytest.fixture(scope="module")
def session_csv(tmp_path_factory):
    """A clean 3-rep dowel session as a skeleton CSV, and its athlete's session."""
    from hinge_coach_ros.athlete import AthleteSpec, generate
    from hinge_coach_ros.session_io import write_session

    session = generate(AthleteSpec(reps=3, seed=4))
    path = tmp_path_factory.mktemp("session") / "session.csv"
    write_session(session, path)
    return path, session


def test_analyze_takes_the_vertical_from_the_csv_up_line(session_csv, tmp_path):
    """Without --up and without feet, the file's '# up:' line is the vertical, exactly as --up."""
    from dataclasses import replace

    from hinge_coach_ros.analysis import analyze
    from hinge_coach_ros.landmarks import INDEX
    from hinge_coach_ros.session_io import write_session

    _, session = session_csv
    # The camera rolled 35 deg about its optical x: the up vector is far from (0, -1, 0).
    a = np.radians(35.0)
    rotation = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    landmarks = session.landmarks.copy()
    landmarks[:, :, :3] = landmarks[:, :, :3] @ rotation.T
    for name in ("left_heel", "right_heel", "left_foot_index", "right_foot_index"):
        landmarks[:, INDEX[name], :3] = np.nan  # no feet: no floor to find
    up = rotation @ session.up_optical
    path = tmp_path / "tilted.csv"
    write_session(replace(session, landmarks=landmarks, up_optical=up), path)
    from_file = analyze(path)
    given = analyze(path, up=",".join(f"{v:.6f}" for v in up))
    assert from_file["rep_count"] == given["rep_count"] == 3
    assert from_file["reps"] == given["reps"]


def test_analyze_reports_a_rep_whose_lockout_hold_the_clip_cuts_short(session_csv, tmp_path):
    """A clip that ends 0.07 s after the last rep stands tall still reports that rep."""
    from dataclasses import fields, replace

    from hinge_coach_ros.analysis import analyze
    from hinge_coach_ros.session_io import write_session

    full_path, session = session_csv
    phase = np.asarray(session.phase)
    end = int(np.nonzero((session.rep_index == 3) & (phase == "lockout"))[0][2])
    per_frame = {
        f.name: getattr(session, f.name)[:end]
        for f in fields(session)
        if isinstance(getattr(session, f.name), (list, np.ndarray))
        and len(getattr(session, f.name)) == len(session.times_s)
    }
    path = tmp_path / "cut.csv"
    write_session(replace(session, **per_frame), path)
    full, cut = analyze(full_path), analyze(path)
    assert full["rep_count"] == cut["rep_count"] == 3
    assert cut["reps"][2]["index"] == 3
    assert cut["reps"][2]["start_s"] == full["reps"][2]["start_s"]


def test_analyze_up_with_huge_components_keeps_its_direction(session_csv):
    from hinge_coach_ros.analysis import analyze

    path, session = session_csv
    unit = analyze(path, up=",".join(f"{v:.6f}" for v in session.up_optical))
    huge = analyze(path, up=",".join(f"{v:.6f}e308" for v in session.up_optical))
    assert huge["rep_count"] == unit["rep_count"] == 3
    assert huge["reps"] == unit["reps"]


@pytest.mark.parametrize("up", ["nan,1,0", "inf,0,0", "0,0,0", "1,2"])
def test_analyze_rejects_a_vector_with_no_direction(session_csv, up, capsys):
    from hinge_coach_ros.cli import main

    assert main(["analyze", str(session_csv[0]), f"--up={up}"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"hinge-coach: error: --up '{up}' must be a finite, non-zero vector X,Y,Z"


@pytest.mark.parametrize(
    "target, reason",
    [
        ("{tmp}/no/such/dir/report.json", "cannot write {tmp}/no/such/dir/report.json: no folder"),
        ("{tmp}", "cannot write {tmp}: it is a folder"),
        ("/proc/version", "cannot write /proc/version: "),  # refused by the system, at write time
    ],
)
def test_analyze_json_path_that_cannot_be_written(session_csv, tmp_path, target, reason):
    target, reason = (s.format(tmp=tmp_path) for s in (target, reason))
    result = run(CLI + ["analyze", str(session_csv[0]), "--json", target])
    assert_one_line_error(result, reason)
    assert result.returncode == 2


def test_analyze_report_with_a_nan_is_refused_not_written(session_csv, tmp_path, monkeypatch, capsys):
    import hinge_coach_ros.analysis as analysis
    from hinge_coach_ros.cli import main

    report = {"input": "x", "exercise": "dowel", "checks": [], "rep_count": 0, "reps": [], "x": float("nan")}
    monkeypatch.setattr(analysis, "analyze", lambda *args, **kwargs: report)
    out = tmp_path / "report.json"
    assert main(["analyze", str(session_csv[0]), "--json", str(out)]) == 2
    assert "Out of range float values are not JSON compliant" in capsys.readouterr().err
    assert not out.exists()


def test_synth_onto_a_file_gives_one_line(tmp_path):
    existing = tmp_path / "taken"
    existing.write_text("keep me")
    result = run(CLI + ["synth", str(existing), "--format", "skeleton", "--reps", "1"])
    assert_one_line_error(result, f"cannot write {existing}: it is a file; OUT_DIR must be a folder")
    assert result.returncode == 2 and existing.read_text() == "keep me"
    result = run(CLI + ["synth", str(existing / "sub"), "--format", "skeleton", "--reps", "1"])
    assert_one_line_error(result, f"cannot write {existing / 'sub'}: Not a directory")


@pytest.mark.parametrize("fps", ["0", "-5", "nan", "1e9", "0.5", "241"])
def test_synth_rejects_a_frame_rate_out_of_range(tmp_path, fps):
    result = run(CLI + ["synth", str(tmp_path / "out"), "--format", "skeleton", "--fps", fps])
    assert_one_line_error(result, f"fps must be within 1-240, not {float(fps)}")
    assert result.returncode == 2 and not (tmp_path / "out" / "session.csv").exists()


def test_analyze_refuses_a_video_too_slow_to_smooth_before_the_pose_pass(tmp_path, monkeypatch, capsys):
    from hinge_coach_ros import analysis
    from hinge_coach_ros.cli import main
    from hinge_coach_ros.video_file import write_video

    path = tmp_path / "slow.mp4"
    write_video(path, [np.full((48, 64, 3), 90, np.uint8)] * 6, 5.0)

    def no_pose_pass(*args, **kwargs):
        raise AssertionError("the pose pass ran")

    monkeypatch.setattr(analysis, "skeleton_frames", no_pose_pass)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "hinge-coach: error: the frame rate is 5 fps: the offline smoothing (3 Hz low-pass) "
        "needs more than 6 fps; film at 24 fps or more"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["bench-render", "--frames", "0"],
        ["bench-render", "--frames", "-5"],
        ["bench-render", "--workers", "0"],
        ["check-pose", "--stride", "0"],
        ["check-pose", "--stride", "-1"],
        ["bench", "--repeats", "0"],
        ["bench-camera", "--frames", "0"],
        ["synth", "--workers", "-1"],
    ],
)
def test_counts_below_one_are_refused(args):
    result = run(CLI + args, timeout=60)
    assert_one_line_error(result, f"argument {args[-2]}: must be at least 1, not {int(args[-1])}")
    assert result.returncode == 2


def test_count_that_is_not_a_whole_number():
    result = run(CLI + ["bench", "--repeats", "2.5"])
    assert_one_line_error(result, "argument --repeats: '2.5' is not a whole number")


def test_offline_smoothing_names_the_frame_rate_it_needs():
    """A recording's rate is known from its stamps only: the same clear error after the pose pass."""
    from hinge_coach_ros.analysis import SkeletonSample, smooth_offline
    from hinge_coach_ros.landmarks import empty_skeleton
    from hinge_coach_ros.params import ParameterError

    samples = [SkeletonSample(i / 5.0, empty_skeleton(), None, None) for i in range(10)]
    with pytest.raises(ParameterError, match=r"^the frame rate is 5 fps: .* needs more than 6 fps"):
        smooth_offline(samples)
    assert len(smooth_offline([s._replace(time_s=s.time_s / 6.0) for s in samples])) == 10  # 30 fps
