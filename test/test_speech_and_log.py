"""Speech never overlaps and is rate-limited; the session log survives a kill."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hinge_coach_ros.feedback import RepView
from hinge_coach_ros.session_log import SessionLog, read_log
from hinge_coach_ros.speech import Speaker

# A tiny speech program: logs when it starts and ends speaking, takes 0.3 s.
FAKE_TTS = """#!{python}
import sys, time
log = {log!r}
with open(log, "a") as f:
    f.write(f"start {{time.monotonic():.6f}} {{sys.argv[-1]}}\\n")
time.sleep(0.3)
with open(log, "a") as f:
    f.write(f"end {{time.monotonic():.6f}}\\n")
"""


def fake_tts(tmp_path):
    log = tmp_path / "spoken.log"
    script = tmp_path / "fake-tts"
    script.write_text(FAKE_TTS.format(python=sys.executable, log=str(log)))
    script.chmod(0o755)
    return script, log


def test_speaker_never_overlaps_and_keeps_only_the_newest_cue(tmp_path):
    script, log = fake_tts(tmp_path)
    s = Speaker(command=[str(script)], min_interval_s=1.0)
    assert s.available and "speech on" in s.status
    s.say("Hips back", now_s=0.0)
    s.say("Ribs down, brace", now_s=0.1)  # busy and within the interval: waits as the pending cue
    s.say("Push through the whole foot", now_s=0.2)  # replaces it
    assert s.spoken == ["Hips back"]
    assert not s.poll(0.5)  # interval not over
    while s.speaking:
        time.sleep(0.02)
    assert s.poll(1.1)
    s.close()
    assert s.spoken == ["Hips back", "Push through the whole foot"]
    events = [line.split(" ", 2) for line in log.read_text().splitlines()]
    assert [e[0] for e in events] == ["start", "end", "start", "end"]  # strictly one at a time
    assert float(events[1][1]) <= float(events[2][1])
    assert events[0][2] == "Hips back" and events[2][2] == "Push through the whole foot"


def test_speaker_is_silently_off_without_the_program():
    s = Speaker(command=["no-such-speech-program-xyz"])
    assert not s.available and s.status == "speech off: no-such-speech-program-xyz is not installed"
    s.say("Hips back", 0.0)
    assert s.spoken == [] and not s.speaking


def test_speaker_status_names_the_voice_it_speaks_with_now():
    s = Speaker(command=["true"], voice="en")
    assert s.status == "speech on (true, voice en)"
    s.voice = "de"  # the feedback node's live language change
    assert s.status == "speech on (true, voice de)"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_ng_writes_the_cue_to_a_wav(tmp_path):
    wav = tmp_path / "cue.wav"
    s = Speaker(command=["espeak-ng"], extra_args=["-w", str(wav)])
    s.say("Ribs down, brace", 0.0)
    s.close(timeout_s=20.0)
    assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 10000


def test_session_log_rows_and_summary(tmp_path):
    log = SessionLog(tmp_path / "logs", "box_lift", "/station1", "en")
    log.log_rep(RepView(1, 100.0, 83.0, 62.0, 24.0, 2.1, {}), "good_rep", "good")
    squat = RepView(2, 60.0, 78.0, 40.0, 73.0, 2.0, {"squat": 1.0}, ("rounded_back",))
    log.log_rep(squat, "hips_back", "cue")
    rows = read_log(log.path)  # readable before the session ends: flushed per rep
    assert [r["type"] for r in rows] == ["session_start", "rep", "rep"]
    summary = log.close()
    rows = read_log(log.path)
    assert rows[1]["exercise"] == "box_lift" and rows[1]["score"] == 100.0
    assert rows[2]["faults"] == {"squat": 1.0} and rows[2]["peak_knee_flexion_deg"] == 73.0
    assert rows[1]["not_measurable"] == [] and rows[2]["not_measurable"] == ["rounded_back"]
    assert rows[-1] == summary
    assert summary["reps"] == 2 and summary["clean_reps"] == 1 and summary["mean_score"] == 80.0
    assert summary["faults"] == {"squat": 1} and summary["not_measurable"] == {"rounded_back": 1}


def test_a_rep_with_infinite_values_is_logged_with_nulls_and_the_summary_stays_json(tmp_path):
    log = SessionLog(tmp_path, "hip_hinge")
    log.log_rep(RepView(1, 80.0, 70.0, 40.0, 10.0, 2.0, {"lumbar_flexion": math.nan}), "", "good")
    inf = RepView(2, math.inf, -math.inf, 40.0, math.inf, 2.0, {"lumbar_flexion": math.inf}, ())
    log.log_rep(inf, "neutral_spine", "warning")
    summary = log.close()
    rows = read_log(log.path)
    assert [r["type"] for r in rows] == ["session_start", "rep", "rep", "summary"]
    assert rows[1]["faults"] == {"lumbar_flexion": None} and rows[1]["score"] == 80.0
    assert rows[2]["rep"] == 2 and rows[2]["faults"] == {"lumbar_flexion": None}
    assert rows[2]["score"] is None and rows[2]["peak_hip_flexion_deg"] is None
    assert rows[2]["peak_knee_flexion_deg"] is None and rows[2]["peak_trunk_inclination_deg"] == 40.0
    assert rows[2]["cue"] == "neutral_spine"
    assert summary["reps"] == 2 and summary["mean_score"] == 80.0  # only the finite scores
    assert rows[-1] == summary


def test_a_cue_language_changed_while_running_is_logged_before_the_reps_it_cued(tmp_path):
    log = SessionLog(tmp_path, "hip_hinge", language="en")
    log.log_rep(RepView(1, 100.0, 80.0, 60.0, 20.0, 2.0, {}), "good_rep", "good")
    log.log_settings(language="de", cue_file="")
    log.log_rep(RepView(2, 100.0, 80.0, 60.0, 20.0, 2.0, {}), "good_rep", "good")
    log.close()
    rows = read_log(log.path)
    assert [r["type"] for r in rows] == ["session_start", "rep", "settings", "rep", "summary"]
    assert rows[0]["language"] == "en" and rows[2]["language"] == "de" and rows[2]["cue_file"] == ""


def test_a_full_disk_at_the_end_loses_the_summary_but_closes_the_file(tmp_path):
    log = SessionLog(tmp_path, "hip_hinge")
    log._file.close()
    log._file = open("/dev/full", "a", encoding="utf-8")  # noqa: SIM115 - the disk is full
    with pytest.raises(OSError):
        log.close()
    assert log._file.closed
    assert log.close()["reps"] == 0  # a second close neither writes nor raises


def test_killing_the_rig_loses_at_most_the_current_rep(tmp_path):
    logs = tmp_path / "logs"
    env = {**os.environ, "ROS_DOMAIN_ID": str(150 + os.getpid() % 50)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hinge_coach_ros.cli", "run", "--log-dir", str(logs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90.0
        reps = 0
        while time.monotonic() < deadline and reps < 2 and proc.poll() is None:
            time.sleep(0.2)
            files = list(logs.glob("session-*.jsonl"))
            reps = sum(r["type"] == "rep" for r in read_log(files[0])) if files else 0
        assert reps >= 2, proc.stderr.read().decode() if proc.poll() is not None else "no reps logged"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (path,) = logs.glob("session-*.jsonl")
    lines = path.read_text().splitlines()
    rows = [json.loads(line) for line in lines]  # every line complete: nothing half written
    assert rows[0]["type"] == "session_start"
    rep_rows = [r for r in rows if r["type"] == "rep"]
    assert [r["rep"] for r in rep_rows] == list(range(1, len(rep_rows) + 1))
    assert len(rep_rows) >= 2 and rep_rows[0]["faults"] == {} and "squat" in rep_rows[1]["faults"]
    assert not any(r["type"] == "summary" for r in rows)  # killed: no summary, but every finished rep


def test_rig_writes_a_summary_on_a_normal_end(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hinge_coach_ros.cli", "run", "--log-dir", str(tmp_path), "--language", "de"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "ROS_DOMAIN_ID": str(200 + os.getpid() % 30)},
    )
    assert result.returncode == 0, result.stderr
    (path,) = Path(tmp_path).glob("session-*.jsonl")
    rows = read_log(path)
    assert rows[0]["language"] == "de"
    assert rows[-1]["type"] == "summary" and rows[-1]["reps"] == 5 and rows[-1]["clean_reps"] == 3


def test_the_feedback_node_logs_a_live_language_change(tmp_path):
    from rclpy.parameter import Parameter

    from hinge_coach_ros.graph import GraphArgs
    from hinge_coach_ros.runner import Rig

    config = tmp_path / "c.yaml"
    config.write_text(f"/**/feedback_node:\n  ros__parameters:\n    log_dir: '{tmp_path}'\n")
    rig = Rig(GraphArgs(config_file=str(config)))
    try:
        assert rig.nodes["feedback_node"].set_parameters([Parameter("language", value="es")])[0].successful
    finally:
        rig.close()
    (path,) = tmp_path.glob("session-*.jsonl")
    rows = read_log(path)
    assert rows[0]["type"] == "session_start" and rows[0]["language"] == "en"
    assert rows[1]["type"] == "settings" and rows[1]["language"] == "es"
