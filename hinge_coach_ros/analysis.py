"""Offline analysis: the alignment engine over a skeleton CSV, a RealSense recording or a video.

Recordings and videos go through the camera node's own pipeline (BlazePose,
depth lifting), frame by frame, none skipped. Live, the camera node filters
each frame as it comes (one-euro, causal, so a little lag); here the whole
session is at hand, so the landmarks are smoothed forward and backward
(``filters.zero_phase_lowpass``) instead: the same smoothing, no lag.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from .alignment import HingeEngine
from .dowel import BackProfile
from .filters import zero_phase_lowpass
from .landmarks import empty_skeleton
from .params import ParameterError, validate
from .session_io import read_session

RECORDING_SUFFIXES = (".db3", ".bag")
# Offline landmark smoothing cut-off: a hinge rep (1-2 s down, 1-2 s up) has its
# motion well under 2 Hz; landmark jitter is broadband. Biomechanics smooths
# whole-body marker data at 3-6 Hz (Winter, Biomechanics and Motor Control of
# Human Movement, ch. 2); the slow end fits a hinge.
OFFLINE_CUTOFF_HZ = 3.0
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")


Frame = tuple[float, np.ndarray, BackProfile | None, np.ndarray | None]


def skeleton_frames(path: Path, live_filter: bool = True) -> Iterator[Frame]:
    """(time s, (33, 4) landmarks, back profile, floor up vector) for every frame; None without depth.

    ``live_filter=False``: recordings and videos come unfiltered (for ``smooth_offline``).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        stream = read_session(path)
        for t, lm in zip(stream.times_s.tolist(), stream.landmarks):
            yield t, lm, None, None
        return
    if suffix not in RECORDING_SUFFIXES + VIDEO_SUFFIXES:
        raise ParameterError(
            f"cannot analyze {path.name}: give a skeleton .csv, a RealSense recording "
            f"({', '.join(RECORDING_SUFFIXES)}) or a video ({', '.join(VIDEO_SUFFIXES)})"
        )
    from .camera_pipeline import CameraPipeline
    from .pose import PoseEstimator
    from .sources import RealSenseSource, VideoSource

    source = (
        RealSenseSource(recording=str(path), align=False)
        if suffix in RECORDING_SUFFIXES
        else VideoSource(str(path))
    )
    pipeline = CameraPipeline(PoseEstimator(), live_filter=live_filter)
    empty = empty_skeleton()
    try:
        while (frame := source.read()) is not None:
            skeleton = pipeline.process(frame)
            if skeleton is None:
                yield frame.stamp_s, empty, None, None
            else:
                yield frame.stamp_s, skeleton.landmarks, skeleton.back, skeleton.up
    finally:
        source.close()
        pipeline.estimator.close()


def smooth_offline(frames: list[Frame], cutoff_hz: float = OFFLINE_CUTOFF_HZ) -> list[Frame]:
    """The frames with their landmark positions low-passed forward and backward (no lag)."""
    if len(frames) < 2:
        return frames
    times = np.array([f[0] for f in frames])
    rate_hz = 1.0 / float(np.median(np.diff(times)))
    positions = zero_phase_lowpass(np.stack([f[1][:, :3] for f in frames]), rate_hz, cutoff_hz)
    out = []
    for (t, lm, back, up), xyz in zip(frames, positions):
        smoothed = lm.copy()
        smoothed[:, :3] = xyz
        out.append((t, smoothed, back, up))
    return out


def analyze(path: Path, up: str | None = None, exercise: str = "dowel", patient_profile: str = "") -> dict:
    """Per-rep report of a recording, video or skeleton CSV, as plain data (the ``--json`` layout)."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"input {path} not found")
    params: dict = validate("alignment_node", {"exercise": exercise, "patient_profile": patient_profile})
    if up:
        try:
            vector = [float(v) for v in up.split(",")]
        except ValueError:
            raise ParameterError(f"--up {up!r} must be three numbers X,Y,Z") from None
        if len(vector) != 3 or np.linalg.norm(vector) < 1e-6:
            raise ParameterError(f"--up {up!r} must be a non-zero vector X,Y,Z")
        norm = float(np.linalg.norm(vector))
        params.update(
            validate("alignment_node", {"up_source": "fixed", "up_vector": [v / norm for v in vector]})
        )
    engine = HingeEngine(params)
    reps = []
    frames: Iterable[Frame]
    if path.suffix.lower() == ".csv":
        frames = skeleton_frames(path)
    else:
        frames = smooth_offline(list(skeleton_frames(path, live_filter=False)))
    for t, lm, back, floor in frames:
        rep = engine.update(float(t), lm, back, floor).completed_rep
        if rep is not None:
            reps.append(
                {
                    "index": rep.index,
                    "start_s": round(float(rep.start_s), 3),
                    "end_s": round(float(rep.end_s), 3),
                    "peak": {
                        "hip_flexion_deg": round(rep.peak_hip_flexion_deg, 1),
                        "trunk_inclination_deg": round(rep.peak_trunk_inclination_deg, 1),
                        "knee_flexion_deg": round(rep.peak_knee_flexion_deg, 1),
                    },
                    "faults": [{"id": f, "severity": round(s, 2)} for f, s in sorted(rep.faults.items())],
                    "score": rep.score,
                    "score_breakdown": rep.score_breakdown,
                    "not_measurable": rep.not_measurable,
                }
            )
    return {"input": str(path), "exercise": exercise, "rep_count": len(reps), "reps": reps}


def format_table(result: dict) -> str:
    lines = [
        f"{'rep':>3} {'start s':>8} {'end s':>7} {'hip':>5} {'trunk':>5} {'knee':>5} {'score':>5}  faults"
    ]
    for r in result["reps"]:
        p = r["peak"]
        faults = ", ".join(f"{f['id']}({f['severity']:.2f})" for f in r["faults"]) or "-"
        lines.append(
            f"{r['index']:>3} {r['start_s']:>8.2f} {r['end_s']:>7.2f} {p['hip_flexion_deg']:>5.0f} "
            f"{p['trunk_inclination_deg']:>5.0f} {p['knee_flexion_deg']:>5.0f} {r['score']:>5.0f}  {faults}"
        )
    lines.append(f"{result['rep_count']} reps")
    return "\n".join(lines)
