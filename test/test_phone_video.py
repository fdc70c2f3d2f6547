"""Phone videos of the synthetic athlete: portrait with rotation metadata, 24 and 60 fps, side-on
and 45 deg oblique, facing either way, through ``analysis`` (BlazePose, no depth).

Two short clips are rendered once per test session (about 480 frames at 360x480 in all):
- ``portrait``: 45 deg oblique, 24 fps, two reps, the athlete facing image left, rendered upright in portrait
  and stored as a phone stores it (landscape frames, display matrix "turn 90 deg clockwise");
- ``fast``: side-on, 60 fps, mirrored (the athlete facing image right),
  landscape without metadata, one rep descending twice as fast.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hinge_coach_ros.alignment import HingeEngine
from hinge_coach_ros.analysis import analyze
from hinge_coach_ros.athlete import AthleteSpec, CameraPlacement, Session, body_for, generate
from hinge_coach_ros.render import Renderer, rgbd_frame
from hinge_coach_ros.rs_recording import render_pool
from hinge_coach_ros.sources import Intrinsics, VideoSource
from hinge_coach_ros.video_file import set_display_rotation, write_video

ANGLES = ("trunk_inclination_deg", "hip_flexion_deg", "knee_flexion_deg")


@dataclass
class Clip:
    path: Path
    spec: AthleteSpec
    session: Session
    upright_first_frame: np.ndarray  # the rendered frame as it should be displayed
    frame_times_s: np.ndarray  # what the analysis read, per frame
    angles: np.ndarray  # (frames, 3) the engine's ANGLES, NaN where no angles
    dowel_seen: np.ndarray  # (frames,) the engine reported the dowel's gaps (the mask's contour)
    result: dict  # analyze()'s report


_renderer: Renderer | None = None


def _render(task):
    global _renderer
    spec, intrinsics, pose, index, mirror = task
    if _renderer is None or _renderer.intr != intrinsics:
        _renderer = Renderer(intrinsics)
    color = rgbd_frame(spec, body_for(spec, pose), index, _renderer).color
    return color[:, ::-1] if mirror else color


def _make_clip(out: Path, spec: AthleteSpec, intrinsics: Intrinsics, rotation_deg: int, mirror: bool) -> Clip:
    session = generate(spec)
    tasks = [(spec, intrinsics, pose, i, mirror) for i, pose in enumerate(session.poses)]
    with render_pool(2) as pool:  # forked safely (see there)
        frames = pool.map(_render, tasks, chunksize=8)
    write_video(out, frames, spec.fps, display_rotation_deg=rotation_deg)
    times, angles, dowel_seen = [], [], []

    def record(report):
        times.append(report.time_s)
        dowel_seen.append(bool(np.isfinite(report.dowel.gaps()).all()))
        a = report.angles
        angles.append([getattr(a, k) for k in ANGLES] if a is not None else [math.nan] * 3)

    result = analyze(out, on_frame=record)
    return Clip(
        out, spec, session, frames[0], np.array(times), np.array(angles), np.array(dowel_seen), result
    )


@pytest.fixture(scope="session")
def portrait(tmp_path_factory):
    """45 deg oblique, 24 fps, two clean reps, portrait with rotation metadata."""
    spec = AthleteSpec(preset="dowel", reps=2, fps=24.0, camera=CameraPlacement(view="oblique45"))
    intrinsics = Intrinsics(width=360, height=480, fx=480.0, fy=480.0, cx=180.0, cy=240.0)
    return _make_clip(tmp_path_factory.mktemp("video") / "portrait.mp4", spec, intrinsics, 90, False)


@pytest.fixture(scope="session")
def fast(tmp_path_factory):
    """Side-on, 60 fps, one rep dropped twice as fast, mirrored, landscape without metadata."""
    spec = AthleteSpec(preset="dowel", reps=1, fps=60.0, faults={1: {"fast_descent": 2.0}})
    intrinsics = Intrinsics(width=480, height=360, fx=461.5, fy=461.5, cx=240.0, cy=180.0)
    return _make_clip(tmp_path_factory.mktemp("video") / "fast.mp4", spec, intrinsics, 0, True)


def _skeleton_reps(session: Session) -> list:
    """The engine's reps on the athlete's true skeleton: what the video should give."""
    engine = HingeEngine({"up_source": "fixed", "up_vector": session.up_optical.tolist()})
    reps = [engine.update(t, lm).completed_rep for t, lm in zip(session.times_s, session.landmarks)]
    return [r for r in reps if r is not None]


def _mae(clip: Clip) -> dict[str, float]:
    truth = np.stack([getattr(clip.session, k) for k in ANGLES], axis=1)
    err = np.abs(clip.angles - truth[: len(clip.angles)])
    return {k: float(np.nanmean(err[:, i])) for i, k in enumerate(ANGLES)}


def test_portrait_metadata_turns_the_frames_upright(portrait, tmp_path):
    source = VideoSource(str(portrait.path))
    try:
        assert source.metadata_rotation_deg == 90
        first = source.read()
    finally:
        source.close()
    stored_h, stored_w = portrait.upright_first_frame.shape[1], portrait.upright_first_frame.shape[0]
    assert (stored_h, stored_w) == (360, 480)  # stored landscape
    assert first.color_rgb.shape == portrait.upright_first_frame.shape  # read portrait
    # Same picture up to the codec: a wrong turn would compare the person with the background.
    diff = np.abs(first.color_rgb.astype(int) - portrait.upright_first_frame.astype(int)).mean()
    assert diff < 4.0

    # The same file with its metadata removed is read as stored; rotate_deg turns it by hand.
    bare = tmp_path / "bare.mp4"
    bare.write_bytes(portrait.path.read_bytes())
    set_display_rotation(bare, 0)
    for rotate, shape in ((None, (360, 480, 3)), (90, (480, 360, 3))):
        source = VideoSource(str(bare), rotate_deg=rotate)
        try:
            assert source.metadata_rotation_deg == 0
            assert source.read().color_rgb.shape == shape
        finally:
            source.close()


@pytest.mark.parametrize("fps", [24.0, 60.0])
def test_frame_times_come_from_the_container(fps, tmp_path):
    path = tmp_path / "clip.mp4"
    frames = [np.full((64, 96, 3), 10 * i, np.uint8) for i in range(12)]
    write_video(path, frames, fps)
    source = VideoSource(str(path))
    try:
        assert source.fps == pytest.approx(fps)
        stamps = [f.stamp_s for f in iter(source.read, None)]
    finally:
        source.close()
    np.testing.assert_allclose(stamps, np.arange(12) / fps, atol=1e-3)


def _assert_reps_match_the_skeleton(clip: Clip) -> list[list[str]]:
    """Rep count exact, start and end within 0.25 s of the engine on the true skeleton: the
    container's time stamps, not frames at an assumed 30 fps (which would make a 24 fps rep a
    quarter longer and a 60 fps rep half as long)."""
    truth = _skeleton_reps(clip.session)
    assert clip.result["rep_count"] == len(truth) == clip.spec.reps
    for rep, true in zip(clip.result["reps"], truth):
        assert rep["start_s"] == pytest.approx(true.start_s, abs=0.25)
        assert rep["end_s"] == pytest.approx(true.end_s, abs=0.25)
        # The mask's back contour is not judged for a rounded back (unvalidated without depth).
        assert "rounded_back" in rep["not_measurable"]
    return [[f["id"] for f in rep["faults"]] for rep in clip.result["reps"]]


def test_portrait_24fps_oblique_video_is_measured_in_the_sagittal_plane(portrait):
    video = portrait.result["video"]
    assert video["rotation_deg"] == 90
    assert video["fps"] == 24.0
    assert 30.0 < abs(video["view_yaw_deg"]) < 60.0  # the camera is 45 deg from side-on
    assert video["sagittal_fraction"] == 1.0
    # The mask's outline seen obliquely is not the back's midline: no dowel, not a guess.
    assert len(portrait.dowel_seen) > 100 and not portrait.dowel_seen.any()
    faults = _assert_reps_match_the_skeleton(portrait)
    assert all("fast_descent" not in f for f in faults)  # clean tempo stays clean at 24 fps
    mae = _mae(portrait)
    print("oblique 45 deg, 24 fps, portrait: angle MAE deg", {k: round(v, 2) for k, v in mae.items()})
    assert mae["trunk_inclination_deg"] < 6.0
    assert mae["hip_flexion_deg"] < 9.0
    assert mae["knee_flexion_deg"] < 6.0
    # Uncorrected, the 45 deg view foreshortens the forward lean: the deepest trunk angle
    # would read atan(tan(60.5 deg) cos 45 deg) = 51 deg.
    for rep in portrait.result["reps"]:
        assert rep["peak"]["trunk_inclination_deg"] == pytest.approx(60.5, abs=5.0)
        assert rep["peak"]["hip_flexion_deg"] == pytest.approx(82.0, abs=7.0)


def test_60fps_side_on_video_facing_right_times_the_descent(fast):
    video = fast.result["video"]
    assert video["rotation_deg"] == 0
    assert video["fps"] == 60.0
    assert abs(video["view_yaw_deg"]) < 15.0
    assert fast.dowel_seen.mean() > 0.8  # side-on, the mask's contour gives the dowel
    faults = _assert_reps_match_the_skeleton(fast)
    assert "fast_descent" in faults[0]
    mae = _mae(fast)
    print("side-on, 60 fps, facing right: angle MAE deg", {k: round(v, 2) for k, v in mae.items()})
    assert mae["trunk_inclination_deg"] < 6.0
    assert mae["hip_flexion_deg"] < 9.0
    assert mae["knee_flexion_deg"] < 6.0


def test_analyze_command_turns_a_video_by_hand(tmp_path, capsys):
    from hinge_coach_ros.cli import main

    path = tmp_path / "empty_room.mp4"
    write_video(path, [np.full((48, 64, 3), 90, np.uint8)] * 6, 30.0)
    assert main(["analyze", str(path), "--rotate", "90"]) == 0
    out = capsys.readouterr().out
    assert "0 reps" in out
    assert "video: 6 frames at 30 fps, turned 90 deg; no person found" in out


def test_camera_node_video_source_follows_or_overrides_the_metadata(portrait):
    from hinge_coach_ros.nodes.camera_node import open_frame_source
    from hinge_coach_ros.params import defaults, validate

    for rotation, turned in (("auto", 90), ("0", 0), ("270", 270)):
        chosen = {"source": "video", "video_file": str(portrait.path), "video_rotation": rotation}
        params = {**defaults("camera_node"), **validate("camera_node", chosen)}
        source, pace_fps, _ = open_frame_source(params)
        try:
            assert source.rotation_deg == turned
            assert pace_fps == pytest.approx(24.0)  # played at its own frame rate
        finally:
            source.close()
