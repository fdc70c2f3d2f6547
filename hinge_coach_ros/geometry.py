"""Hinge geometry on one skeleton frame: the gravity frame and joint angles.

Inputs are BlazePose-ordered landmarks (33, 4) in any metric frame (x, y, z,
confidence) and the gravity-up unit vector in that frame. Angles are degrees;
0 means standing tall. A value that the landmarks cannot support is NaN; the
hinge joints may be placed by the pose model rather than seen (``_joint``), and
``FrameAngles.seen`` says which parts were seen, so no check judges a guess and
no report carries one (``FrameAngles.measured``). A frame whose hip or knee angle
no human joint reaches is a skeleton the pose model lost, and gives no angles at all
(``HIP_FLEXION_RANGE_DEG``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from .landmarks import INDEX, PAIRED_PARTS

# Below this BlazePose visibility a landmark is treated as missing (a hinge joint is
# then taken as placed when neither side reaches it: ``_joint``).
MIN_CONFIDENCE = 0.3
# One side is the near side when its ear is this much nearer the camera than the other's
# (side-on the two ears are a head's breadth, 15 cm, apart; facing the camera, level).
NEAR_SIDE_GAP_M = 0.05
# A landmark at or below this confidence was placed, not seen: the camera node gives a joint
# it measured in depth its BlazePose visibility (at least 0.5, its min_visibility), and one
# it placed by BlazePose's own 3D model (hidden behind an object such as a barbell plate,
# or without depth) half its visibility. On RGB-only input BlazePose's visibility says
# the same: at 0.5 or below the landmark is more likely hidden than seen.
PLACED_MAX_CONFIDENCE = 0.5
# Side-on: the camera this close to the person's left-right axis (``view_from_side_deg``).
# Side-on the lifted hips and shoulders read under 24 deg on the rendered sessions, at 45 deg
# over 32 deg. The back's rim is its midline only side-on (at 45 deg the spine's bend read
# 40-100 deg off, the lumbar hollow of clean reps 8-57 mm against 39), and only side-on is
# the far leg hidden behind the near one (``_leg``).
SIDE_ON_MAX_DEG = 28.0


@dataclass(frozen=True)
class FrameAngles:
    """One frame's hinge metrics. Sagittal angles are signed, forward/flexion positive."""

    trunk_inclination_deg: float  # hip-to-shoulder line from vertical
    # The same line on the side nearer the camera (``_near_side``): the lockout lean is judged
    # on it against standing. At 45 deg the far shoulder reads 3-7 cm toward the camera (its
    # depth window takes the near side's surface too): on the rendered box lift's banana rep
    # (7.8 deg back from standing) the midpoints read 4.4-4.6 deg, the near side 6.2-6.3. The
    # near pair is seen, and its definition offset cancels against its own standing.
    trunk_near_side_deg: float
    hip_flexion_deg: float  # trunk relative to thigh, 0 standing tall, negative = hip extension
    knee_flexion_deg: float  # thigh relative to shank, 0 straight
    shin_angle_deg: float  # shank from vertical, knees forward positive
    head_neck_deg: float  # shoulder-to-ear line relative to the trunk line, head dropped positive
    com_offset_mm: float  # centre of mass ahead of mid-foot, horizontal, toes positive
    hip_height_m: float  # hip midpoint above mid-foot, along up
    shoulder_height_m: float
    facing: np.ndarray  # unit vector, horizontal, the way the person faces
    # Body parts seen on at least one side (not placed by a model: ``seen_parts``).
    seen: frozenset[str] = frozenset()

    def measured(self) -> FrameAngles:
        """These metrics with NaN for each one drawn through a part that was placed, not seen
        (``METRIC_PARTS``): what a report may carry. The engine itself goes on through
        placed joints (its phases and rep count need the hip angle on every frame)."""
        guessed = {name: math.nan for name, parts in METRIC_PARTS.items() if not parts <= self.seen}
        return replace(self, **guessed) if guessed else self


# The parts each metric is drawn through. Side-on to a deadlift the plate hides the knees and,
# standing, the hips: on the rendered session the thigh was seen on 21% of the frames, and
# where it was not the model's placement read the hip angle 14 deg and the knee 29 deg off
# (3.4 and 3.7 where seen). A metric with a placed part is a guess, not a measurement.
_TRUNK = frozenset({"shoulder", "hip"})
_FEET = frozenset({"heel", "foot_index"})
METRIC_PARTS: dict[str, frozenset[str]] = {
    "trunk_inclination_deg": _TRUNK,
    "trunk_near_side_deg": _TRUNK,
    "hip_flexion_deg": _TRUNK | {"knee"},
    "knee_flexion_deg": frozenset({"hip", "knee", "ankle"}),
    "shin_angle_deg": frozenset({"knee", "ankle"}),
    "head_neck_deg": _TRUNK | {"ear"},
    # The segment model's mass is mostly trunk and legs (the arms are 10%).
    "com_offset_mm": _TRUNK | {"knee", "ankle"} | _FEET,
    "hip_height_m": frozenset({"hip"}) | _FEET,
    "shoulder_height_m": frozenset({"shoulder"}) | _FEET,
}


def _seen(lm: np.ndarray, name: str) -> bool:
    """The landmark was seen, not placed by a model (a NaN confidence is neither)."""
    return bool(lm[INDEX[name], 3] > PLACED_MAX_CONFIDENCE)


def seen_parts(lm: np.ndarray) -> frozenset[str]:
    """The left/right parts (``hip``, ``knee``, ...) seen on at least one side."""
    return frozenset(part for part in PAIRED_PARTS if _seen(lm, f"left_{part}") or _seen(lm, f"right_{part}"))


# Segment masses (fraction of body mass) and centre-of-mass position along the
# segment from its proximal end: Winter, Biomechanics and Motor Control of Human
# Movement (4th ed.), Table 4.1. Bilateral segments are counted twice.
SEGMENTS: tuple[tuple[str, str, float, float, int], ...] = (
    ("hip", "shoulder", 0.497, 0.50, 1),  # trunk: greater trochanter to glenohumeral joint
    ("ear", "ear", 0.081, 0.0, 1),  # head and neck: centre at the ear canal
    ("shoulder", "elbow", 0.028, 0.436, 2),
    ("elbow", "wrist", 0.016, 0.430, 2),
    ("wrist", "index", 0.006, 0.506, 2),
    ("hip", "knee", 0.100, 0.433, 2),
    ("knee", "ankle", 0.0465, 0.433, 2),
    ("heel", "foot_index", 0.0145, 0.50, 2),
)


def _point(lm: np.ndarray, name: str) -> np.ndarray | None:
    row = lm[INDEX[name]]
    if not row[3] >= MIN_CONFIDENCE or not np.isfinite(row[:3]).all():  # a NaN confidence: missing
        return None
    return row[:3]


# A leg's joint seen is not averaged with its twin when that one was placed: side-on the
# far knee, ankle, heel and toe sit 40-110 mm off (the rendered deadlift and box lift),
# and over the mid-foot a few centimetres are the whole margin of the toes and heels
# checks. The far shoulder and hip are kept: placed from the near ones by the model's
# breadth, their midpoint is the trunk's midline (with the near side alone the dowel drill
# side-on read the trunk 2.2 deg off, not 1.1, and the head, judged against the trunk,
# dropped on 9 clean reps of the rendered sweep).
SEEN_ALONE_PARTS = ("knee", "ankle", "heel", "foot_index")


def _mid(lm: np.ndarray, part: str) -> np.ndarray | None:
    """Midpoint of the left and right landmark, or the one over MIN_CONFIDENCE; for a leg's
    part (SEEN_ALONE_PARTS), the seen one alone when its twin was placed."""
    left, right = _point(lm, f"left_{part}"), _point(lm, f"right_{part}")
    if left is not None and right is not None:
        if part in SEEN_ALONE_PARTS:
            left_seen, right_seen = _seen(lm, f"left_{part}"), _seen(lm, f"right_{part}")
            if left_seen != right_seen:
                return left if left_seen else right
        return 0.5 * (left + right)
    return left if left is not None else right


def _joint(lm: np.ndarray, part: str) -> np.ndarray | None:
    """A hinge joint (shoulder, hip, knee, ankle) as ``_mid``; with neither side over
    MIN_CONFIDENCE, the model's placement of the side it trusts more.

    Side-on to a deadlift the near plate hides both knees and ankles while the person
    stands (confidence 0.03-0.2): without them the person would read as gone, the rep in
    progress dropped and the standing baselines never kept. The hip angle (and so the
    phases and the rep count) goes on through them; the checks that read those parts are
    not measured there (``seen_parts``: a placed joint is not seen).
    """
    point = _mid(lm, part)
    if point is not None:
        return point
    rows = lm[[INDEX[f"left_{part}"], INDEX[f"right_{part}"]]]
    placed = np.isfinite(rows).all(axis=1)
    if not placed.any():
        return None
    return rows[int(np.argmax(np.where(placed, rows[:, 3], -np.inf))), :3]


def _near_side(lm: np.ndarray, *parts: str) -> tuple[np.ndarray | None, ...]:
    """The parts on the side nearer the camera (landmarks are in the camera's frame), both
    sides' midpoints when the sides are level with the camera or one is unseen.

    Seen from the side, the far ear and shoulder are hidden and their depth is a
    guess; a short segment between them (ear to shoulder, about 20 cm) turns
    by 10-20 deg with a few centimetres of that guess. The near side's pair is
    seen, and one side's pair is one rigid definition over the whole set.
    """
    sides = [[_point(lm, f"{side}_{part}") for part in parts] for side in ("left", "right")]
    seen = [all(p is not None for p in points) for points in sides]
    if seen[0] and seen[1]:
        gap = np.linalg.norm(sides[0][0]) - np.linalg.norm(sides[1][0])
        if abs(gap) > NEAR_SIDE_GAP_M:
            return tuple(sides[0] if gap < 0 else sides[1])
    elif seen[0] or seen[1]:
        return tuple(sides[0] if seen[0] else sides[1])
    return tuple(_mid(lm, part) for part in parts)


# How wide the shoulders read against the hips (each pair's span between its two sides): at
# or under the first the far shoulder is left out of the trunk's top, at or over the second
# it counts in full, linearly between. BlazePose's own 3D model puts a person's shoulders
# 1.1-1.4 times as far apart as the hips (median 1.27 on the rendered athlete, whose joints
# are 1.36 apart); a pair narrower than the hips has a far shoulder off its place.
SHOULDER_SPAN_RATIO = (0.9, 1.2)


def _shoulder_line(lm: np.ndarray, up: np.ndarray, facing: np.ndarray) -> np.ndarray | None:
    """The trunk's top: the shoulders' midpoint (``_joint``), moved toward the near shoulder
    as far as the pair, both seen, reads narrower than the hips (``SHOULDER_SPAN_RATIO``).

    At an oblique view a far shoulder whose depth came off a nearer surface moves forward or
    back in the sagittal plane (side-on it moves sideways, which the sagittal angles do not
    see). At 45 deg to the dowel drill the far arm is raised behind the head: standing, the
    far shoulder read 10 cm forward and 18 cm toward the near one, and the trunk 5 deg
    forward. The near shoulder is seen, and in the sagittal plane it lies on the midline (its
    sideways offset does not count). Weighed in, not switched: switching on one ratio made the
    trunk jump by the far shoulder's error between frames, and the head, judged against the
    trunk, read up on a clean rep (the rendered sweep). With the spans taken across the body
    alone (along up x facing), two clean reps did. An RGB-only skeleton lies on the sagittal
    plane (``monocular``): its hips have no span across it, and it keeps the midpoint, the
    one point it places undistorted.
    """
    shoulder = _joint(lm, "shoulder")
    if shoulder is None or not (_seen(lm, "left_shoulder") and _seen(lm, "right_shoulder")):
        return shoulder
    pairs = []
    for part in ("shoulder", "hip"):
        left, right = _point(lm, f"left_{part}"), _point(lm, f"right_{part}")
        if left is None or right is None:
            return shoulder
        pairs.append(left - right)
    shoulder_span, hip_span = (float(np.linalg.norm(pair)) for pair in pairs)
    if abs(float(pairs[1] @ np.cross(up, facing))) < MIN_SEGMENT_M:
        return shoulder  # hips with no span across the sagittal plane: an RGB-only skeleton
    low, high = SHOULDER_SPAN_RATIO
    weight = min(max((shoulder_span / hip_span - low) / (high - low), 0.0), 1.0)
    # The near side by the hips: a far shoulder off its depth may read as near as the other.
    near = _near_side(lm, "hip", "shoulder")[1]
    if near is None:
        return shoulder
    return near + weight * (shoulder - near)


def _signed_from_vertical(v: np.ndarray, up: np.ndarray, facing: np.ndarray) -> float:
    """Angle of v from vertical in the sagittal plane, positive toward ``facing``."""
    return math.degrees(math.atan2(float(v @ facing), float(v @ up)))


# The hip and knee angles a person can take: the normal ranges of motion (American Academy
# of Orthopaedic Surgeons: hip from 30 deg extension to 120 deg flexion, knee from 10 deg
# hyperextension to 135 deg flexion), widened by 15-30 deg for the landmarks' own error.
# Beyond them a frame is no posture but a skeleton the pose model lost. Side-on to a
# deadlift the plate hides the hips as the bar passes them: BlazePose threw them 15-28 cm
# forward, and the hip read from -157 to +160 deg (truly 25-78) on 62-63 of the rendered
# session's 3126 frames (none in the sweep's other six sessions). Taken as the standing
# reference (the least hip angle), one such frame (-143 deg) made the rest of that rep
# read 150 deg deeper than it was.
HIP_FLEXION_RANGE_DEG = (-45.0, 150.0)
KNEE_FLEXION_RANGE_DEG = (-25.0, 165.0)
# A trunk (hip to shoulder) or thigh (hip to knee) shorter than this is no body: an adult's
# are 40-55 cm. A driver's empty frame (every landmark at the origin, confidence 0) has its
# joints placed on one point, and its zero-length segments read as standing tall: three such
# frames mid-rep split a dowel drill's rep in two.
MIN_SEGMENT_M = 0.05


def _within(value: float, limits: tuple[float, float]) -> bool:
    return limits[0] <= value <= limits[1]


# A foot seen this much less confidently than the other is left out of the facing:
# side-on, the far foot is hidden and its heel and toe are the model's guesses.
FOOT_CONFIDENCE_RATIO = 0.75


# A vector shorter than this has no direction (a zero up_vector, a failed floor fit).
MIN_DIRECTION_NORM = 1e-6


def unit_vector(vector: ArrayLike) -> np.ndarray | None:
    """The 3-vector scaled to length 1; None for one not finite or too short (MIN_DIRECTION_NORM)
    to give a direction: an up vector given as zero, a failed floor fit."""
    v = np.asarray(vector, dtype=float)
    if v.shape != (3,) or not np.isfinite(v).all():
        return None
    largest = float(np.abs(v).max())
    if largest == 0.0:
        return None
    # Scaled first: the norm of components near the largest float would overflow to inf.
    v = v / largest
    norm = float(np.linalg.norm(v))
    if largest * norm < MIN_DIRECTION_NORM:
        return None
    return v / norm


def _horizontal_unit(v: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    v = v - (v @ up) * up
    n = np.linalg.norm(v)
    return v / n if n > 1e-6 else None


OPTICAL_AXIS = np.array([0.0, 0.0, 1.0])  # the camera's view direction in its optical frame


def view_from_side_deg(lm: np.ndarray, up: np.ndarray) -> float:
    """How far the camera is turned from side-on (0) toward facing the person (90), degrees.

    For landmarks in the camera's optical frame: the angle between the camera's
    horizontal view direction and the body's left-right axis, from the hips and
    shoulders (the far ones are placed by BlazePose's metric model where depth
    cannot see them). NaN when a pair is missing or has no horizontal extent.
    Meaningless for an RGB-only skeleton placed on the sagittal plane (its pairs
    differ within that plane): the depth checks that use it do not take RGB.
    """
    pairs = [_point(lm, f"{side}_{part}") for part in ("hip", "shoulder") for side in ("left", "right")]
    if any(p is None for p in pairs):
        return math.nan
    across = _horizontal_unit((pairs[1] - pairs[0]) + (pairs[3] - pairs[2]), up)
    view = _horizontal_unit(OPTICAL_AXIS, up)
    if across is None or view is None:
        return math.nan
    return math.degrees(math.acos(min(1.0, abs(float(across @ view)))))


def facing_direction(lm: np.ndarray, up: np.ndarray) -> np.ndarray | None:
    """Horizontal direction the person faces: from the heels to the toes of the well-seen feet."""
    feet = []
    for side in ("left", "right"):
        heel, toe = _point(lm, f"{side}_heel"), _point(lm, f"{side}_foot_index")
        if heel is not None and toe is not None:
            confidence = min(lm[INDEX[f"{side}_heel"], 3], lm[INDEX[f"{side}_foot_index"], 3])
            feet.append((confidence, toe - heel))
    best = max((c for c, _ in feet), default=math.nan)
    chosen = [v for c, v in feet if c >= FOOT_CONFIDENCE_RATIO * best]
    if chosen:
        return _horizontal_unit(np.sum(chosen, axis=0), up)
    nose, ear = _point(lm, "nose"), _mid(lm, "ear")
    if nose is None or ear is None:
        return None
    return _horizontal_unit(nose - ear, up)


# An unseen hand or forearm (behind the back holding a dowel, or behind the
# body) is lumped at the nearest seen joint up the arm: forearm and hand are
# 2.2% of body mass, so the centre of mass moves by well under 1 cm.
ARM_CHAIN = ("index", "wrist", "elbow", "shoulder")


def _arm_point(lm: np.ndarray, part: str) -> np.ndarray | None:
    for name in ARM_CHAIN[ARM_CHAIN.index(part) :]:
        point = _mid(lm, name)
        if point is not None:
            return point
    return None


def centre_of_mass(lm: np.ndarray) -> np.ndarray | None:
    """Whole-body centre of mass from the segment model, or None when a segment is unseen."""
    total = np.zeros(3)
    for proximal, distal, mass, along, count in SEGMENTS:
        point = _arm_point if proximal in ARM_CHAIN and distal in ARM_CHAIN else _mid
        a, b = point(lm, proximal), point(lm, distal)
        if a is None or b is None:
            return None
        total += count * mass * (a + along * (b - a))
    return total


def _leg(lm: np.ndarray, up: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """The thigh's and shin's ends: hip, knee and ankle. Side-on, with the far leg's hip and
    knee placed (hidden behind the near leg) and the near leg's seen, the near leg's own
    joints (its ankle as ``_joint`` when unseen); otherwise ``_joint``'s midpoints.

    A thigh from the hips' midpoint to the near knee mixes the far hip into the near leg:
    placed on its own pixel at the model's depth, it read 20-35 mm behind its joint standing
    and 30 mm in front bent (the rendered dowel drill side-on), and the thigh swung with it,
    2 deg back standing and 3.5 deg forward at the bottom. The trunk keeps the midpoints (its
    midline). At an oblique view both legs are seen: on the rendered sessions at 45 deg the
    near leg alone read the hip angle 0.3 deg better on the dowel drill and the box lift but
    0.9 deg worse on the deadlift, and where a box or plate hides the far leg on some frames,
    switching legs with it made the hip angle jump between frames (fast_descent raised on up
    to 5 clean reps). An RGB-only skeleton on the sagittal plane does not read as side-on here
    (its pairs differ within the plane: ``view_from_side_deg``) and keeps the midpoints
    (checked on rendered side-on clips: none of 624 frames took the near leg).
    """
    for near, far in (("left", "right"), ("right", "left")):
        hip, knee = _point(lm, f"{near}_hip"), _point(lm, f"{near}_knee")
        if hip is None or knee is None or not (_seen(lm, f"{near}_hip") and _seen(lm, f"{near}_knee")):
            continue
        if _seen(lm, f"{far}_hip") or _seen(lm, f"{far}_knee"):
            continue
        if not view_from_side_deg(lm, up) <= SIDE_ON_MAX_DEG:
            break  # one side at most has its leg seen and the other's placed
        ankle = _point(lm, f"{near}_ankle") if _seen(lm, f"{near}_ankle") else None
        return hip, knee, ankle if ankle is not None else _joint(lm, "ankle")
    return _joint(lm, "hip"), _joint(lm, "knee"), _joint(lm, "ankle")


def frame_angles(lm: np.ndarray, up: np.ndarray, facing: np.ndarray | None = None) -> FrameAngles | None:
    """Metrics of one frame, or None when the trunk and thighs are not there (not even placed, or
    placed shorter than a body's: ``MIN_SEGMENT_M``), or when the hip or knee angle lies beyond
    what a person can take (``HIP_FLEXION_RANGE_DEG``).

    ``facing``: the way the person faces, if known better than from this frame's
    feet (the engine holds it steady over frames); None: from this frame.
    """
    facing = facing_direction(lm, up) if facing is None else _horizontal_unit(facing, up)
    if facing is None:
        return None
    shoulder, hip = _shoulder_line(lm, up, facing), _joint(lm, "hip")
    leg_hip, knee, ankle = _leg(lm, up)
    if shoulder is None or hip is None or leg_hip is None or knee is None:
        return None
    if min(np.linalg.norm(shoulder - hip), np.linalg.norm(leg_hip - knee)) < MIN_SEGMENT_M:
        return None
    trunk_deg = _signed_from_vertical(shoulder - hip, up, facing)
    thigh_deg = _signed_from_vertical(leg_hip - knee, up, facing)
    # Angles in the sagittal plane (gravity and facing), so an oblique camera
    # sees the same hinge as a side-on one.
    hip_flexion = trunk_deg - thigh_deg
    knee_flexion = shin_deg = math.nan
    if ankle is not None:
        shin_deg = _signed_from_vertical(knee - ankle, up, facing)
        knee_flexion = shin_deg - thigh_deg
    if not _within(hip_flexion, HIP_FLEXION_RANGE_DEG) or (
        math.isfinite(knee_flexion) and not _within(knee_flexion, KNEE_FLEXION_RANGE_DEG)
    ):
        return None
    trunk_near_side = math.nan
    near_shoulder, near_hip = _near_side(lm, "shoulder", "hip")
    if near_shoulder is not None and near_hip is not None:
        trunk_near_side = _signed_from_vertical(near_shoulder - near_hip, up, facing)
    head_neck = math.nan
    ear, neck_base = _near_side(lm, "ear", "shoulder")
    if ear is not None and neck_base is not None:
        head_neck = _signed_from_vertical(ear - neck_base, up, facing) - trunk_deg
    com_offset = hip_height = shoulder_height = math.nan
    heel, toe = _mid(lm, "heel"), _mid(lm, "foot_index")
    if heel is not None and toe is not None:
        mid_foot = 0.5 * (heel + toe)
        hip_height = float((hip - mid_foot) @ up)
        shoulder_height = float((shoulder - mid_foot) @ up)
        com = centre_of_mass(lm)
        if com is not None:
            com_offset = 1000.0 * float((com - mid_foot) @ facing)
    return FrameAngles(
        trunk_inclination_deg=trunk_deg,
        trunk_near_side_deg=trunk_near_side,
        hip_flexion_deg=hip_flexion,
        knee_flexion_deg=knee_flexion,
        shin_angle_deg=shin_deg,
        head_neck_deg=head_neck,
        com_offset_mm=com_offset,
        hip_height_m=hip_height,
        shoulder_height_m=shoulder_height,
        facing=facing,
        seen=seen_parts(lm),
    )
