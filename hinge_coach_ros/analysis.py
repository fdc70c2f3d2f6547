"""Offline analysis: the alignment engine over a skeleton CSV, a RealSense recording or a video.

Recordings and videos go through the camera node's own pipeline (BlazePose,
depth lifting), frame by frame, none skipped. Live, the camera node filters
each frame as it comes (one-euro, causal, so a little lag); here the whole
session is at hand, so the landmarks are smoothed forward and backward
(``filters.zero_phase_lowpass``) instead: the same smoothing, no lag.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .alignment import FrameReport, HingeEngine, RepSummary
from .dowel import BackProfile
from .feedback import tally
from .filters import zero_phase_lowpass
from .geometry import unit_vector
from .landmarks import empty_skeleton
from .monocular import MAX_VIEW_YAW_DEG
from .params import ParameterError, validate
from .session_io import SkeletonStream, read_session
from .sources import RealSenseSource, VideoSource

RECORDING_SUFFIXES = (".db3", ".bag")
# Offline landmark smoothing cut-off: a hinge rep (1-2 s down, 1-2 s up) has its
# motion well under 2 Hz; landmark jitter is broadband. Biomechanics smooths
# whole-body marker data at 3-6 Hz (Winter, Biomechanics and Motor Control of
# Human Movement, ch. 2); the slow end fits a hinge.
OFFLINE_CUTOFF_HZ = 3.0
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")


class SkeletonSample(NamedTuple):
    time_s: float
    landmarks: np.ndarray  # (33, 4)
    back: BackProfile | None  # None without depth
    up: np.ndarray | None  # floor up vector; the image's up for a video; None for a CSV
    view_yaw_deg: float = math.nan  # video only: the camera's angle from side-on
    sagittal: bool = True  # False: a video too frontal to put the landmarks on the sagittal plane


def open_frame_source(path: Path, rotate_deg: int | None = None) -> RealSenseSource | VideoSource:
    """The camera node's source for a recording or a video file."""
    from .sources import RealSenseSource, VideoSource

    suffix = path.suffix.lower()
    if suffix not in RECORDING_SUFFIXES + VIDEO_SUFFIXES:
        raise ParameterError(
            f"cannot analyze {path.name}: give a skeleton .csv, a RealSense recording "
            f"({', '.join(RECORDING_SUFFIXES)}) or a video ({', '.join(VIDEO_SUFFIXES)})"
        )
    if suffix in RECORDING_SUFFIXES:
        return RealSenseSource(recording=str(path), align=False)
    return VideoSource(str(path), rotate_deg=rotate_deg)


def skeleton_frames(
    path: Path, source: RealSenseSource | VideoSource | None = None, live_filter: bool = True
) -> Iterator[SkeletonSample]:
    """Every frame's skeleton, through the camera node's pipeline (``source`` opened from
    ``path`` unless given; it is closed at the end). ``live_filter=False``: recordings and
    videos come unfiltered (for ``smooth_offline``)."""
    if path.suffix.lower() == ".csv":
        yield from _stream_samples(read_session(path))
        return
    from .camera_pipeline import CameraPipeline
    from .pose import PoseEstimator

    source = source or open_frame_source(path)
    pipeline = CameraPipeline(PoseEstimator(), live_filter=live_filter)
    empty = empty_skeleton()
    try:
        while (frame := source.read()) is not None:
            sk = pipeline.process(frame)
            if sk is None:
                yield SkeletonSample(frame.stamp_s, empty, None, None)
            else:
                yield SkeletonSample(
                    frame.stamp_s, sk.landmarks, sk.back, sk.up, sk.view_yaw_deg, sk.sagittal
                )
    finally:
        source.close()
        pipeline.estimator.close()


def _stream_samples(stream: SkeletonStream) -> Iterator[SkeletonSample]:
    for t, lm in zip(stream.times_s.tolist(), stream.landmarks):
        yield SkeletonSample(t, lm, None, None)


def _check_smoothing_rate(rate_hz: float, cutoff_hz: float = OFFLINE_CUTOFF_HZ) -> None:
    """ParameterError for a frame rate the offline smoothing cannot run at.

    The low-pass needs its cut-off below half the frame rate. Lowering the
    cut-off to fit would leave the hinge's own motion (up to 2 Hz) at the edge
    of what such a rate resolves, so a slower rate is refused, not smoothed less."""
    if not rate_hz > 2.0 * cutoff_hz:
        raise ParameterError(
            f"the frame rate is {rate_hz:.3g} fps: the offline smoothing ({cutoff_hz:g} Hz low-pass) "
            f"needs more than {2.0 * cutoff_hz:g} fps; film at 24 fps or more"
        )


def smooth_offline(
    samples: list[SkeletonSample], cutoff_hz: float = OFFLINE_CUTOFF_HZ
) -> list[SkeletonSample]:
    """The samples with their landmark positions low-passed forward and backward (no lag)."""
    if len(samples) < 2:
        return samples
    times = np.array([s.time_s for s in samples])
    rate_hz = 1.0 / float(np.median(np.diff(times)))
    _check_smoothing_rate(rate_hz, cutoff_hz)
    positions = zero_phase_lowpass(np.stack([s.landmarks[:, :3] for s in samples]), rate_hz, cutoff_hz)
    out = []
    for sample, xyz in zip(samples, positions):
        smoothed = sample.landmarks.copy()
        smoothed[:, :3] = xyz
        out.append(sample._replace(landmarks=smoothed))
    return out


def _rep_record(rep: RepSummary) -> dict:
    """One rep of the ``--json`` report."""
    return {
        "index": rep.index,
        "start_s": round(float(rep.start_s), 3),
        "end_s": round(float(rep.end_s), 3),
        # null: the frame that set the peak had that angle's joints placed, not seen
        "peak": {
            "hip_flexion_deg": _rounded(rep.peak_hip_flexion_deg),
            "trunk_inclination_deg": _rounded(rep.peak_trunk_inclination_deg),
            "knee_flexion_deg": _rounded(rep.peak_knee_flexion_deg),
        },
        "faults": [{"id": f, "severity": round(sev, 2)} for f, sev in sorted(rep.faults.items())],
        "score": rep.score,
        "score_breakdown": rep.score_breakdown,
        "not_measurable": rep.not_measurable,
    }


def analyze(
    path: Path,
    up: str | None = None,
    exercise: str = "dowel",
    patient_profile: str = "",
    rotate_deg: int | None = None,
    on_frame: Callable[[FrameReport], None] | None = None,
) -> dict:
    """Per-rep report of a recording, video or skeleton CSV, as plain data (the ``--json`` layout).

    ``rotate_deg`` turns a video's frames clockwise instead of its rotation metadata;
    ``on_frame`` sees every frame's report."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"input {path} not found")
    params: dict = validate("alignment_node", {"exercise": exercise, "patient_profile": patient_profile})
    vertical = None  # gravity-up, fixed for the whole input
    if up:
        try:
            vector = [float(v) for v in up.split(",")]
        except ValueError:
            raise ParameterError(f"--up {up!r} must be three numbers X,Y,Z") from None
        vertical = unit_vector(vector)
        if vertical is None:
            raise ParameterError(f"--up {up!r} must be a finite, non-zero vector X,Y,Z")
    stream = read_session(path) if path.suffix.lower() == ".csv" else None
    if vertical is None and stream is not None and stream.up_given:
        vertical = stream.up_optical  # the file states its vertical: taken as --up would be
    if vertical is not None:
        params.update(validate("alignment_node", {"up_source": "fixed", "up_vector": vertical.tolist()}))
    engine = HingeEngine(params)
    source = None if stream is not None else open_frame_source(path, rotate_deg)
    video = None
    if isinstance(source, VideoSource):
        try:
            _check_smoothing_rate(source.fps)  # before the pose pass, not after it
        except ParameterError:
            source.close()
            raise
        video = {"fps": round(source.fps, 3), "rotation_deg": source.rotation_deg, "frames": 0}
        yaws, sagittal = [], 0
    reps = []
    samples: Iterable[SkeletonSample]
    if stream is not None:
        samples = _stream_samples(stream)
    else:
        samples = smooth_offline(list(skeleton_frames(path, source, live_filter=False)))
    for sample in samples:
        report = engine.update(float(sample.time_s), sample.landmarks, sample.back, sample.up)
        if on_frame is not None:
            on_frame(report)
        if video is not None:
            video["frames"] += 1
            if math.isfinite(sample.view_yaw_deg):
                yaws.append(sample.view_yaw_deg)
                sagittal += sample.sagittal
        if report.completed_rep is not None:
            reps.append(_rep_record(report.completed_rep))
    last = engine.finish()  # a clip may end in the last rep's lockout hold
    if last is not None:
        reps.append(_rep_record(last))
    result = {
        "input": str(path),
        "exercise": exercise,
        "checks": list(engine.exercise_checks),  # what each rep was judged on
        "rep_count": len(reps),
        "reps": reps,
    }
    if video is not None:
        video["view_yaw_deg"] = round(yaws[-1], 1) if yaws else None
        # Frames too frontal for the sagittal plane give the model's own, unreliable angles.
        video["sagittal_fraction"] = round(sagittal / len(yaws), 3) if yaws else None
        result["video"] = video
    return result


def _rounded(value: float) -> float | None:
    """One decimal; None (JSON null) for a value not measured."""
    return round(value, 1) if math.isfinite(value) else None


def _cell(value: float | None, width: int = 5) -> str:
    return f"{value:>{width}.0f}" if value is not None else f"{'-':>{width}}"


def format_table(result: dict) -> str:
    lines = [
        f"{'rep':>3} {'start s':>8} {'end s':>7} {'hip':>5} {'trunk':>5} {'knee':>5} {'score':>5}  faults"
    ]
    for r in result["reps"]:
        p = r["peak"]
        faults = ", ".join(f"{f['id']}({f['severity']:.2f})" for f in r["faults"]) or "-"
        lines.append(
            f"{r['index']:>3} {r['start_s']:>8.2f} {r['end_s']:>7.2f} {_cell(p['hip_flexion_deg'])} "
            f"{_cell(p['trunk_inclination_deg'])} {_cell(p['knee_flexion_deg'])} {r['score']:>5.0f}  {faults}"
        )
    lines.append(f"{result['rep_count']} reps")
    unjudged = tally(r["not_measurable"] for r in result["reps"])
    if unjudged:
        reps = len(result["reps"])
        lines.append("not measurable: " + ", ".join(f"{f} ({n} of {reps})" for f, n in unjudged.items()))
    video = result.get("video")
    if video is not None:
        yaw = video["view_yaw_deg"]
        lines.append(
            f"video: {video['frames']} frames at {video['fps']:g} fps, turned {video['rotation_deg']} deg; "
            + ("no person found" if yaw is None else f"camera {abs(yaw):.0f} deg from side-on")
        )
        if yaw is not None and video["sagittal_fraction"] < 0.5:
            lines.append(
                f"warning: the camera is more than {MAX_VIEW_YAW_DEG:.0f} deg from side-on: hinge angles "
                "cannot be measured from this view; film from the side (up to 45 deg off)"
            )
    return "\n".join(lines)
