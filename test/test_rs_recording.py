"""RealSense recordings of the synthetic athlete: pyrealsense2 round trip, align, determinism, CLI."""

import json
import subprocess
import sys

import numpy as np
import pytest

from hinge_coach_ros import rs_recording
from hinge_coach_ros.athlete import AthleteSpec, body_for, generate
from hinge_coach_ros.render import Intrinsics, Renderer, rgbd_frame
from hinge_coach_ros.rs_recording import (
    RealSenseWriter,
    RecordingError,
    embedded_rgbd_session,
    read_recording,
    write_rgbd_session,
)

rs = pytest.importorskip("pyrealsense2", reason="pyrealsense2 is in requirements.txt")

CLI = [sys.executable, "-m", "hinge_coach_ros.cli"]


@pytest.fixture(scope="module")
def five_frames():
    spec = AthleteSpec(reps=1)
    s = generate(spec)
    renderer = Renderer()
    frames = []
    for i in (0, 40, 60, 80, 100):
        f = rgbd_frame(spec, body_for(spec, s.poses[i]), i, renderer)
        frames.append((f.color, f.depth))
    return frames


@pytest.fixture(scope="module")
def recording(tmp_path_factory, five_frames):
    path = tmp_path_factory.mktemp("rec") / "r.db3"
    with RealSenseWriter(path, Intrinsics()) as writer:
        for n, (color, depth) in enumerate(five_frames):
            writer.write(n, color, depth)
    return path


def test_round_trip_keeps_frames_units_and_intrinsics(recording, five_frames):
    info, frames = read_recording(recording)
    intr = Intrinsics()
    assert (info.width, info.height, info.fps) == (640, 480, 30)
    assert info.depth_scale_m == pytest.approx(0.001)
    assert info.color_intrinsics == pytest.approx((intr.fx, intr.fy, intr.cx, intr.cy), abs=1e-4)
    assert info.depth_intrinsics == info.color_intrinsics  # depth is aligned to colour
    assert info.depth_to_color_translation_m == pytest.approx((0.0, 0.0, 0.0))
    frames = list(frames)
    assert [f.frame_number for f in frames] == [0, 1, 2, 3, 4]
    for f, (color, depth) in zip(frames, five_frames):
        assert np.array_equal(f.color, color) and np.array_equal(f.depth, depth)
    assert frames[1].timestamp_ms == pytest.approx(1000.0 / 30.0)


def test_pipeline_playback_and_why_not_to_align(recording, five_frames):
    """The way a RealSense user opens a file: pipeline, no real time. The depth is aligned already.

    rs.align(color) on it maps every depth pixel onto itself, but its pixel-corner
    rounding leaves whole rows and columns empty (zeros every ~10 rows): the
    "align gives zeros" effect. So the recording is used without an align step.
    """
    pipe, cfg = rs.pipeline(), rs.config()
    cfg.enable_device_from_file(str(recording), repeat_playback=False)
    profile = pipe.start(cfg)
    profile.get_device().as_playback().set_real_time(False)
    assert profile.get_device().first_depth_sensor().get_depth_scale() == pytest.approx(0.001)
    align = rs.align(rs.stream.color)
    seen = {}
    try:
        while True:
            ok, frameset = pipe.try_wait_for_frames(2000)
            if not ok:
                break
            depth = frameset.get_depth_frame()
            aligned = align.process(frameset).get_depth_frame()
            seen[depth.get_frame_number()] = (
                np.asanyarray(depth.get_data()).copy(),
                np.asanyarray(aligned.get_data()).copy(),
                depth.get_distance(320, 240),
            )
    finally:
        pipe.stop()
    assert len(seen) >= 3  # the pipeline's syncer may drop a frame; read_recording reads all
    for n, (depth, aligned, _) in seen.items():
        assert np.array_equal(depth, five_frames[n][1])
        both = (aligned > 0) & (depth > 0)
        assert (aligned[both] == depth[both]).mean() > 0.95  # mostly the same pixel; some shift by one
        empty_rows = np.where((aligned == 0).all(axis=1) & (depth > 0).any(axis=1))[0]
        assert len(empty_rows) >= 3  # the stripes align adds
    n, (depth, _, distance) = next(iter(seen.items()))
    assert distance == pytest.approx(depth[240, 320] * 0.001, abs=1e-6)


def test_bad_recordings_give_one_clear_error(tmp_path):
    with pytest.raises(RecordingError, match="not found"):
        read_recording(tmp_path / "missing.db3")
    junk = tmp_path / "junk.db3"
    junk.write_bytes(b"not a recording" * 100)
    with pytest.raises(RecordingError, match="not a readable RealSense recording"):
        read_recording(junk)
    with pytest.raises(RecordingError, match=r"\.db3"):
        RealSenseWriter(tmp_path / "x.bag", Intrinsics())


def test_same_seed_gives_identical_truth_and_frames(tmp_path):
    spec = AthleteSpec(reps=1, fps=10.0, faults={1: {"rounded_back": 20.0}}, seed=3)
    a_path, a_truth = write_rgbd_session(spec, tmp_path / "a", workers=2)
    b_path, b_truth = write_rgbd_session(spec, tmp_path / "b", workers=1)
    assert a_truth.read_bytes() == b_truth.read_bytes()
    _, a_frames = read_recording(a_path)
    _, b_frames = read_recording(b_path)
    count = 0
    for fa, fb in zip(a_frames, b_frames, strict=True):
        assert fa.frame_number == fb.frame_number
        assert np.array_equal(fa.color, fb.color) and np.array_equal(fa.depth, fb.depth)
        count += 1
    truth = json.loads(a_truth.read_text())
    assert count == truth["frame_count"] == len(truth["frames"]["time_s"])


def test_truth_file_fields(tmp_path):
    spec = AthleteSpec(reps=2, fps=10.0, faults={2: {"toes": 30.0}})
    _, truth_path = write_rgbd_session(spec, tmp_path, workers=1)
    truth = json.loads(truth_path.read_text())
    frames = truth["frames"]
    n = truth["frame_count"]
    for key in (
        "landmarks_optical_m",
        "landmarks_px",
        "trunk_inclination_deg",
        "hip_flexion_deg",
        "knee_flexion_deg",
        "dowel_lumbar_gap_mm",
        "dowel_head_gap_mm",
        "com_ahead_of_midfoot_mm",
        "phase",
        "rep_index",
        "active_faults",
    ):
        assert len(frames[key]) == n, key
    assert np.array(frames["landmarks_optical_m"]).shape == (n, 33, 3)
    assert np.array(frames["joints_optical_m"]["sacral_base"]).shape == (n, 3)
    bottom = [i for i in range(n) if frames["rep_index"][i] == 2 and frames["phase"][i] == "bottom"][0]
    assert frames["com_ahead_of_midfoot_mm"][bottom] == pytest.approx(30.0, abs=1.0)
    assert frames["active_faults"][bottom] == {"toes": 30.0}
    # Pixel landmarks are the projection of the 3D ones.
    xyz = np.array(frames["landmarks_optical_m"][bottom])
    intr = Intrinsics()
    np.testing.assert_allclose(np.array(frames["landmarks_px"][bottom]), intr.project(xyz), atol=0.05)
    assert truth["image"]["depth_aligned_to_color"] is True and truth["image"]["fx"] == intr.fx


def test_embedded_session_is_rendered_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = AthleteSpec(reps=1, fps=5.0)
    path = embedded_rgbd_session(spec, workers=1)
    assert path.is_file() and path.parent.parent == tmp_path / "hinge_coach_ros"
    stamp = path.stat().st_mtime_ns
    assert embedded_rgbd_session(spec, workers=1) == path
    assert path.stat().st_mtime_ns == stamp  # reused, not rendered again
    assert rs_recording.RGBD_DEMO_SPEC.reps == 5


def test_cli_synth_rgbd(tmp_path):
    result = subprocess.run(
        CLI
        + [
            "synth",
            str(tmp_path),
            "--format",
            "rgbd",
            "--reps",
            "1",
            "--fps",
            "5",
            "--fault",
            "1:banana_back:10",
            "--view",
            "oblique45",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rgbd.db3").is_file() and not (tmp_path / "session.csv").exists()
    truth = json.loads((tmp_path / "rgbd.truth.json").read_text())
    assert truth["reps"][0]["faults"] == {"banana_back": 10.0} and truth["camera"]["view"] == "oblique45"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--fault", "1:rounded_back:900"], "outside"),
        (["--distance-m", "9"], "2-4 m"),
        ([], "needs OUT_DIR"),
    ],
)
def test_cli_synth_bad_options(tmp_path, args, message):
    out = [] if message == "needs OUT_DIR" else [str(tmp_path)]
    result = subprocess.run(CLI + ["synth"] + out + args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_render_workers_never_free_a_realsense_object_the_parent_dropped():
    """A forked worker whose collector freed a dropped RealSense playback hung for good in its
    destructor (a test run that played a recording, then rendered one)."""
    import gc

    from hinge_coach_ros.analysis import open_frame_source

    source = open_frame_source(rs_recording.embedded_rgbd_session())
    assert source.read() is not None
    source.cycle = source  # garbage that only the collector frees
    del source
    gc.disable()  # keep it until the workers are forked
    try:
        pool = rs_recording.render_pool(2)
    finally:
        gc.enable()
    try:
        assert pool.apply_async(gc.collect).get(timeout=30) == 0  # nothing inherited to free
    finally:
        pool.terminate()
