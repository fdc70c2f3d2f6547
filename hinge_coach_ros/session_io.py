"""Skeleton session files: the CSV format and its truth file.

CSV format (documented in the README):
- optional ``# key: value`` header lines: ``fps``, ``frame_id``, ``up``
  (gravity-up unit vector in the skeleton's frame, as ``x,y,z``);
- a header row: ``time_s`` (seconds, strictly increasing) then, per
  landmark, ``<name>_x``, ``<name>_y``, ``<name>_z`` (all three or none) and
  optionally ``<name>_confidence``, with BlazePose landmark names (see
  ``landmarks.py``), in metres; no column twice;
- one row per frame (blank lines are skipped). Any landmark may be missing
  (no columns, or empty cells); missing values become NaN with confidence 0.

The truth file (``<session>.truth.json``) holds what the synthetic athlete
knows: the reps with their faults and the per-frame angles and phases. The
RGB-D truth file (``rgbd.truth.json`` next to a RealSense recording, written by
``write_rgbd_truth``) holds much more per frame: 3D and pixel landmarks,
anatomical joints, joint angles, the virtual-dowel gaps on the rendered back
surface, the centre of mass relative to mid-foot, phase, rep and the active
faults (fields in the README).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from .athlete import FAULT_UNITS, AthleteSpec, Session, body_for, joint_angles, landmarks_world, virtual_dowel
from .geometry import unit_vector
from .landmarks import INDEX, LANDMARK_NAMES, NUM_LANDMARKS

# Landmarks written to session files: the face beyond nose and ears, the
# thumb and the pinky add nothing to a side-on hinge and would double the size.
# The index finger stays: it ends the hand segment of the centre-of-mass model.
_LEFT_OUT = ("eye", "mouth", "pinky", "thumb")
SESSION_LANDMARKS: tuple[str, ...] = tuple(n for n in LANDMARK_NAMES if not any(k in n for k in _LEFT_OUT))

EMBEDDED_SESSION = "demo_session.csv"
_CHANNELS = ("x", "y", "z", "confidence")  # column suffixes, in the order of a landmark's 4 values
# The longest median frame period accepted for time_s (s): far longer than any pose
# stream's, far shorter than one in milliseconds.
MAX_FRAME_PERIOD_S = 1.0
# Landmarks are in metres: a pose camera sees its person within a few metres, a motion-capture
# lab's volume is some metres across. A median distance from the origin beyond this is another
# unit (millimetres put a person 3 m away at 3000), and every length would read 1000 times too
# long (the centre of mass metres ahead of the feet: weight on the toes on every rep).
MAX_MEDIAN_DISTANCE_M = 100.0


class SessionFileError(ValueError):
    """A session file is missing or malformed; the message says what to do."""


@dataclass
class SkeletonStream:
    """What the camera node plays: timestamps and landmarks, no truth."""

    fps: float
    frame_id: str
    up_optical: np.ndarray  # (3,)
    times_s: np.ndarray  # (N,)
    landmarks: np.ndarray  # (N, 33, 4)
    up_given: bool = False  # up_optical came from the file's '# up:' line, not the default


def embedded_session_path() -> Path:
    """The session shipped inside the package (used by the demo and the tests)."""
    return Path(str(resources.files("hinge_coach_ros") / "data" / EMBEDDED_SESSION))


def truth_path(session_csv: Path) -> Path:
    return session_csv.with_suffix(".truth.json")


def write_session(session: Session, csv_path: Path, frame_id: str = "camera_color_optical_frame") -> None:
    """Write the skeleton CSV and its truth file; output is byte-identical for equal input."""
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    buf.write(f"# fps: {session.fps:g}\n# frame_id: {frame_id}\n")
    buf.write("# up: " + ",".join(f"{v:.6f}" for v in session.up_optical) + "\n")
    writer = csv.writer(buf, lineterminator="\n")
    header = ["time_s"]
    for name in SESSION_LANDMARKS:
        header += [f"{name}_x", f"{name}_y", f"{name}_z", f"{name}_confidence"]
    writer.writerow(header)
    for t, frame in zip(session.times_s, session.landmarks):
        row = [f"{t:.4f}"]
        for name in SESSION_LANDMARKS:
            x, y, z, c = frame[INDEX[name]]
            row += [f"{x:.4f}", f"{y:.4f}", f"{z:.4f}", f"{c:.2f}"]
        writer.writerow(row)
    csv_path.write_text(buf.getvalue())
    truth = {
        "fps": session.fps,
        "rep_count": len(session.reps),
        "reps": session.reps,
        "frames": {
            "time_s": [round(float(t), 4) for t in session.times_s],
            "phase": session.phase,
            "rep_index": [int(r) for r in session.rep_index],
            "trunk_inclination_deg": [round(float(v), 3) for v in session.trunk_inclination_deg],
            "hip_flexion_deg": [round(float(v), 3) for v in session.hip_flexion_deg],
            "knee_flexion_deg": [round(float(v), 3) for v in session.knee_flexion_deg],
        },
    }
    truth_path(csv_path).write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")


def read_truth(csv_path: Path) -> dict:
    path = truth_path(csv_path)
    if not path.is_file():
        raise SessionFileError(f"no truth file {path}: generate the session with 'hinge-coach synth'")
    return json.loads(path.read_text())


def read_session(csv_path: Path) -> SkeletonStream:
    """Read a skeleton CSV; raises SessionFileError with a fix-it message on bad input."""
    path = Path(csv_path)
    if not path.is_file():
        raise SessionFileError(
            f"session file {path} not found: pass an existing skeleton CSV as session_file "
            "(or leave it empty for the embedded demo session)"
        )
    meta = {"fps": "30", "frame_id": "camera_color_optical_frame", "up": "0,-1,0"}
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" export starts with a byte-order mark.
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise SessionFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise SessionFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    n_header = 0
    given: set[str] = set()  # header keys the file sets
    while n_header < len(lines) and lines[n_header].startswith("#"):
        key, _, value = lines[n_header][1:].partition(":")
        meta[key.strip()] = value.strip()
        given.add(key.strip())
        n_header += 1
    rows = list(csv.reader(lines[n_header:]))
    if not rows or not rows[0] or rows[0][0] != "time_s":
        raise SessionFileError(f"{path}: the first row must be a header starting with 'time_s'")
    header = rows[0]
    # A trailing comma (some writers and spreadsheet exports end every line with one) names no
    # column; an empty name between named ones is a column nobody can tell the meaning of.
    while header and not header[-1].strip():
        header = header[:-1]
    for col, name in enumerate(header):
        if not name.strip():
            raise SessionFileError(f"{path}: column {col + 1} of the header row has no name")
        if name in header[:col]:
            raise SessionFileError(f"{path}: column {name!r} appears twice in the header row")
    columns: list[tuple[int, int, int]] = []  # (csv column, landmark, channel)
    for col, name in enumerate(header[1:], start=1):
        landmark, _, channel = name.rpartition("_")
        if landmark not in INDEX or channel not in _CHANNELS:
            raise SessionFileError(
                f"{path}: unknown column {name!r}; columns are <landmark>_x/_y/_z/_confidence "
                "with BlazePose landmark names"
            )
        columns.append((col, INDEX[landmark], _CHANNELS.index(channel)))
    # Blank lines (a trailing newline too many, a spreadsheet's empty row) hold no frame.
    # Rows are numbered as in the file's table, the header row being row 1.
    data = [(number, row) for number, row in enumerate(rows[1:], start=2) if any(c.strip() for c in row)]
    if not data:
        raise SessionFileError(f"{path}: no frames after the header")
    for number, row in data:
        # A row cut short (a file written by a program that stopped) would read its last
        # landmarks as missing, unsaid; an empty cell is how a missing landmark is written.
        if len(row) < len(header):
            raise SessionFileError(
                f"{path}: row {number} has {len(row)} cells, the header {len(header)}: "
                "leave a missing landmark's cells empty, do not drop them"
            )
        # Values past the last named column would be dropped unsaid.
        if any(cell.strip() for cell in row[len(header) :]):
            raise SessionFileError(
                f"{path}: row {number} has values past the header's {len(header)} columns: "
                "every column needs a name in the header row"
            )
    n = len(data)
    times = np.empty(n)
    landmarks = np.full((n, NUM_LANDMARKS, 4), np.nan)
    has_confidence = {lm for _, lm, ch in columns if ch == 3}
    try:
        for i, (_, row) in enumerate(data):
            times[i] = float(row[0])
            for col, lm, ch in columns:
                cell = row[col]
                landmarks[i, lm, ch] = float(cell) if cell.strip() else np.nan
    except ValueError as exc:
        raise SessionFileError(f"{path}: row {data[i][0]} is not numeric ({exc})") from None
    for lm in range(NUM_LANDMARKS):
        if lm not in has_confidence:
            landmarks[:, lm, 3] = 1.0
    missing = ~np.isfinite(landmarks[:, :, :3]).all(axis=2)
    landmarks[missing] = np.nan
    landmarks[missing, 3] = 0.0
    landmarks[:, :, 3] = np.nan_to_num(landmarks[:, :, 3], nan=0.0)
    not_finite = np.flatnonzero(~np.isfinite(times))
    if len(not_finite):
        number, row = data[not_finite[0]]
        raise SessionFileError(
            f"{path}: row {number} has time_s {row[0].strip()!r}: it must be a finite number of seconds"
        )
    if np.any(np.diff(times) <= 0):
        raise SessionFileError(f"{path}: time_s must increase strictly from row to row")
    try:
        fps = float(meta["fps"])
        up = np.array([float(v) for v in meta["up"].split(",")])
    except ValueError:
        raise SessionFileError(f"{path}: header lines '# fps:' and '# up: x,y,z' must be numeric") from None
    up_unit = unit_vector(up)
    if not (math.isfinite(fps) and fps > 0) or up_unit is None:
        raise SessionFileError(f"{path}: fps must be positive and up a non-zero x,y,z vector")
    if n > 1:
        step_s = float(np.median(np.diff(times)))
        # A pose stream's frame period is well under a second, and under twice the stated one
        # (room for dropped frames; the camera node plays the file at that rate); a step beyond
        # that is time_s in another unit, milliseconds most often, or frame numbers, and every
        # motion would read as far too slow to be a rep.
        by_fps = "fps" in given and 2.0 / fps < MAX_FRAME_PERIOD_S
        if step_s > (2.0 / fps if by_fps else MAX_FRAME_PERIOD_S):
            longest = f"twice the period of '# fps: {fps:g}'" if by_fps else f"{MAX_FRAME_PERIOD_S:g} s"
            raise SessionFileError(
                f"{path}: time_s steps by a median {step_s:g} per frame, more than {longest}: "
                "time_s must be in seconds (e.g. 0.0333 per frame at 30 fps), not milliseconds or frames"
                + (", and '# fps' the frames' rate" if by_fps else "")
            )
    distance_m = np.linalg.norm(landmarks[:, :, :3], axis=2)
    seen = np.isfinite(distance_m)
    if seen.any() and float(np.median(distance_m[seen])) > MAX_MEDIAN_DISTANCE_M:
        raise SessionFileError(
            f"{path}: the landmarks lie a median {float(np.median(distance_m[seen])):g} from the origin: "
            "they must be in metres, not millimetres"
        )
    present = {(lm, ch) for _, lm, ch in columns}
    for lm in sorted({lm for lm, _ in present}):
        # A landmark without one of its coordinates would be dropped on every frame, unsaid.
        absent = [f"{LANDMARK_NAMES[lm]}_{_CHANNELS[ch]}" for ch in range(3) if (lm, ch) not in present]
        if absent:
            raise SessionFileError(
                f"{path}: landmark {LANDMARK_NAMES[lm]!r} has no column {', '.join(absent)}; "
                "give all of its _x, _y and _z columns or none"
            )
    return SkeletonStream(fps, meta["frame_id"], up_unit, times, landmarks, up_given="up" in given)


RGBD_TRUTH_FORMAT = "hinge_coach_ros rgbd truth 1"
# Anatomical points written per frame besides the 33 landmarks.
TRUTH_JOINTS: tuple[str, ...] = (
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_heel",
    "left_toe",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "sacral_base",
    "thoracolumbar",
    "mid_thoracic",
    "t1",
    "neck_top",
)


def _r(values, digits: int) -> list:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def write_rgbd_truth(spec: AthleteSpec, session: Session, intrinsics, path: Path) -> None:
    """Per-frame truth of an RGB-D session; byte-identical for equal input."""
    rotation, translation = spec.camera.world_to_optical()

    def optical(p: np.ndarray) -> np.ndarray:
        return np.asarray(p) @ rotation.T + translation

    columns: dict[str, list] = {
        k: []
        for k in (
            "trunk_inclination_deg",
            "hip_flexion_deg",
            "knee_flexion_deg",
            "shin_angle_deg",
            "pelvis_inclination_deg",
            "lumbar_flexion_deg",
            "thoracic_flexion_deg",
            "cervical_flexion_deg",
            "dowel_head_gap_mm",
            "dowel_mid_back_gap_mm",
            "dowel_tailbone_gap_mm",
            "dowel_lumbar_gap_mm",
            "dowel_contact",
            "com_ahead_of_midfoot_mm",
            "com_optical_m",
            "landmarks_optical_m",
            "landmarks_px",
            "back_profile_optical_m",
            "dowel_line_optical_m",
        )
    }
    joints: dict[str, list] = {name: [] for name in TRUTH_JOINTS}
    for pose in session.poses:
        body = body_for(spec, pose)
        angles = joint_angles(body)
        for k in list(columns)[:8]:
            columns[k].append(round(angles[k], 3))
        gaps = virtual_dowel(body)
        columns["dowel_head_gap_mm"].append(round(1000 * gaps.head_m, 2))
        columns["dowel_mid_back_gap_mm"].append(round(1000 * gaps.mid_back_m, 2))
        columns["dowel_tailbone_gap_mm"].append(round(1000 * gaps.tailbone_m, 2))
        columns["dowel_lumbar_gap_mm"].append(round(1000 * gaps.lumbar_m, 2))
        columns["dowel_contact"].append(gaps.contact)
        # World X is the athlete's forward direction.
        columns["com_ahead_of_midfoot_mm"].append(round(1000 * float(body.com[0] - body.mid_foot[0]), 2))
        columns["com_optical_m"].append(_r(optical(body.com), 4))
        lm = optical(landmarks_world(body))
        columns["landmarks_optical_m"].append(_r(lm, 4))
        columns["landmarks_px"].append(_r(intrinsics.project(lm), 2))
        columns["back_profile_optical_m"].append(_r(optical(body.back_profile), 4))
        columns["dowel_line_optical_m"].append(
            _r(np.concatenate([optical(gaps.line_point), rotation @ gaps.line_dir]), 5)
        )
        for name in TRUTH_JOINTS:
            joints[name].append(_r(optical(body.joints[name]), 4))
    truth = {
        "format": RGBD_TRUTH_FORMAT,
        "fps": spec.fps,
        "frame_count": len(session.times_s),
        "image": {
            "width": intrinsics.width,
            "height": intrinsics.height,
            "fx": intrinsics.fx,
            "fy": intrinsics.fy,
            "cx": intrinsics.cx,
            "cy": intrinsics.cy,
            "depth_unit_m": 0.001,
            "depth_aligned_to_color": True,
        },
        "camera": {
            "view": spec.camera.view,
            "distance_m": spec.camera.distance_m,
            "height_m": spec.camera.height_m,
            "world_to_optical_rotation": _r(rotation, 9),
            "world_to_optical_translation_m": _r(translation, 9),
        },
        "up_optical": _r(session.up_optical, 9),
        "athlete": {
            "preset": spec.preset,
            "height_m": spec.height_m,
            "tempo": spec.tempo,
            "depth": spec.depth,
            "knee_bend_deg": spec.knee_bend_deg,
            "stance_width_m": spec.stance_width_m,
            "seed": spec.seed,
        },
        "fault_units": {k: FAULT_UNITS[k] for k in sorted(FAULT_UNITS)},
        "rep_count": len(session.reps),
        "reps": session.reps,
        "frames": {
            "frame_number": list(range(len(session.times_s))),
            "time_s": [round(float(t), 4) for t in session.times_s],
            "phase": session.phase,
            "rep_index": [int(r) for r in session.rep_index],
            "active_faults": session.active_faults,
            **columns,
            "joints_optical_m": joints,
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(truth, sort_keys=True, separators=(",", ":")) + "\n")
