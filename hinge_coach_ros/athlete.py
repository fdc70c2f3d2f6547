"""The synthetic athlete: a kinematic body that performs hip-hinge reps.

It knows its own truth (joint angles, phase, rep index, injected faults, the
centre of mass, the virtual-dowel gaps on its back surface), so every later
stage can be tested against it. ``generate`` gives the 3D BlazePose-ordered
skeleton as a camera would see it; ``body_at`` gives the whole body (joints,
spine curve, back-surface profile, the volumes ``render.py`` draws) for one
instant, so the skeleton, the RGB-D frames and the truth come from one model.

Body model:
- segment lengths as fractions of body height (Winter's table), segment masses
  and centre-of-mass locations (Winter's table, after Dempster), so the whole
  body's centre of mass is known in every frame;
- a spine of three regions (lumbar, thoracic, cervical), each a chain of short
  links bent uniformly, with a neutral lordosis / kyphosis; faults bend them;
- a pelvis whose tilt is separate from the lumbar spine (an anterior pelvic
  tilt is taken up by lumbar extension, as it is in a person);
- feet with heel and toe; the body balances over the ankles (the ankle
  strategy): every frame is rotated about the ankles so the centre of mass sits
  over mid-foot, or ahead of / behind it by the ``toes`` / ``heels`` fault.

World frame: X points where the athlete faces, Y up, Z to the athlete's
right; the origin is on the floor between the ankles. Angles are in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache

import numpy as np

from .dowel import DowelLine, lumbar_hollow_m, support_line
from .landmarks import INDEX, NUM_LANDMARKS

# Segment lengths as fractions of body height, from Winter's anthropometric
# table (Biomechanics and Motor Control of Human Movement, 4th ed., Fig. 4.1).
ANKLE_HEIGHT = 0.039
SHANK = 0.246
THIGH = 0.245
FOOT = 0.152
HIP_WIDTH = 0.191
SHOULDER_WIDTH = 0.259
UPPER_ARM = 0.186
FOREARM = 0.146
HAND = 0.108
# The spine, by region (vertebral-body line). Lumbar L1-S1 is about 18 cm and
# thoracic T1-T12 about 28 cm in an adult of 1.75 m; together with the sacral
# base offset and the shoulder drop they put the shoulder at Winter's 0.818 H.
LUMBAR = 0.100
THORACIC = 0.160
CERVICAL = 0.065
HEAD = 0.130
SACRAL_BASE = (-0.025, 0.045)  # L5/S1 from the hip joint centre, pelvis frame (forward, up)
SHOULDER_FROM_T1 = (0.012, -0.020)  # shoulder joint from T1, thoracic-end frame (forward, up)
# Neutral spinal curves (degrees of bend across the region): standing lumbar
# lordosis and thoracic kyphosis of about 35-40 deg, cervical lordosis ~20 deg.
LORDOSIS_DEG = 36.0
KYPHOSIS_DEG = 36.0
CERVICAL_LORDOSIS_DEG = 20.0
LINKS = {"lumbar": 5, "thoracic": 6, "cervical": 3}
# Soft tissue: the back surface lies this far behind the vertebral-body line
# (spinous processes, muscles), the torso's front-to-back half depth, and the
# half width, as fractions of height.
BACK_TISSUE = 0.034
TORSO_HALF_DEPTH = 0.058
TORSO_HALF_WIDTH = 0.095
SACRUM_BACK = 0.066  # the sacrum's skin behind the hip joint centres (about 11.5 cm at 1.75 m)

# Segment masses (fraction of body mass) and centre-of-mass position along the
# segment from its proximal end (Winter, Table 4.1, after Dempster).
SEGMENT_MASS: dict[str, tuple[float, float]] = {
    "foot": (0.0145, 0.50),
    "shank": (0.0465, 0.433),
    "thigh": (0.100, 0.433),
    "pelvis": (0.142, 0.50),
    "abdomen": (0.139, 0.50),
    "thorax": (0.216, 0.50),
    "head_neck": (0.081, 0.50),
    "upper_arm": (0.028, 0.436),
    "forearm": (0.016, 0.430),
    "hand": (0.006, 0.506),
}

FAULT_IDS: tuple[str, ...] = (
    "rounded_back",
    "banana_back",
    "squat",
    "head_up",
    "head_down",
    "toes",
    "heels",
    "no_brace",
    "incomplete_lockout",
    "fast_descent",
    "hips_rise_first",
    "hips_high",
)
FAULT_UNITS: dict[str, str] = {
    "rounded_back": "deg of extra spinal flexion at the bottom",
    "banana_back": "deg of lumbar hyperextension at lockout",
    "squat": "deg of extra knee flexion at the bottom",
    "head_up": "deg of neck extension",
    "head_down": "deg of neck flexion",
    "toes": "mm the centre of mass sits ahead of mid-foot",
    "heels": "mm the centre of mass sits behind mid-foot",
    "no_brace": "deg of anterior pelvic tilt from setup",
    "incomplete_lockout": "deg of hip flexion left at the top",
    "fast_descent": "descent tempo factor (2 = twice as fast)",
    "hips_rise_first": "mm the hips rise more than the shoulders in the first part of the ascent (peak)",
    "hips_high": "deg of knee flexion missing at the bottom",
}
# Phases in which each fault changes the body (the per-frame truth lists a
# fault as active there).
FAULT_PHASES: dict[str, tuple[str, ...]] = {
    "rounded_back": ("descent", "bottom", "ascent"),
    "banana_back": ("ascent", "lockout"),
    "squat": ("descent", "bottom", "ascent"),
    "head_up": ("descent", "bottom", "ascent"),
    "head_down": ("descent", "bottom", "ascent"),
    "toes": ("descent", "bottom", "ascent"),
    "heels": ("descent", "bottom", "ascent"),
    "no_brace": ("setup", "descent", "bottom", "ascent"),
    "incomplete_lockout": ("ascent", "lockout"),
    "fast_descent": ("descent",),
    "hips_rise_first": ("ascent",),
    "hips_high": ("descent", "bottom", "ascent"),
}


@dataclass(frozen=True)
class Pose:
    """Sagittal-plane posture; every angle in degrees, forward positive."""

    trunk_deg: float = 0.0  # pelvis/lumbar base inclination from vertical
    knee_flexion_deg: float = 0.0
    shin_deg: float = 0.0  # shank forward lean from vertical before balancing
    lumbar_flexion_deg: float = 0.0  # flexion of the lumbar region beyond its neutral lordosis
    thoracic_flexion_deg: float = 0.0  # flexion of the thoracic region beyond its neutral kyphosis
    head_flexion_deg: float = 0.0  # cervical flexion (head relative to the thoracic line)
    pelvis_tilt_deg: float = 0.0  # anterior pelvic tilt beyond neutral
    com_offset_m: float = 0.0  # centre of mass ahead of mid-foot (balance target)

    def blend(self, other: Pose, u: float) -> Pose:
        return Pose(*(a + (b - a) * u for a, b in zip(_values(self), _values(other))))


def _values(p: Pose) -> tuple[float, ...]:
    return tuple(getattr(p, f.name) for f in fields(Pose))


@dataclass(frozen=True)
class Preset:
    """Bottom-of-rep posture, tempo and the object of one exercise."""

    name: str
    bottom: Pose
    prop: str  # what is drawn: "dowel", "box", "kettlebell", "barbell"
    from_floor: bool = False  # a pull from the floor (hips_high applies)
    descent_s: float = 1.4
    bottom_hold_s: float = 0.3
    ascent_s: float = 1.2
    lockout_hold_s: float = 0.8
    setup_s: float = 0.8


PRESETS: dict[str, Preset] = {
    # Shins stay near vertical in a hinge: the hips, not the knees, travel.
    "dowel": Preset("dowel", Pose(trunk_deg=62.0, knee_flexion_deg=22.0, shin_deg=2.0), "dowel"),
    "box_lift": Preset(
        "box_lift", Pose(trunk_deg=68.0, knee_flexion_deg=35.0, shin_deg=8.0), "box", from_floor=True
    ),
    "deadlift": Preset(
        "deadlift", Pose(trunk_deg=58.0, knee_flexion_deg=40.0, shin_deg=10.0), "barbell", from_floor=True
    ),
    "kettlebell": Preset(
        "kettlebell", Pose(trunk_deg=64.0, knee_flexion_deg=32.0, shin_deg=6.0), "kettlebell", from_floor=True
    ),
}

PHASES: tuple[str, ...] = ("setup", "descent", "bottom", "ascent", "lockout")


@dataclass(frozen=True)
class CameraPlacement:
    """Where the camera stands relative to the athlete."""

    view: str = "side"  # "side" (athlete's left side) or "oblique45"
    distance_m: float = 3.0
    height_m: float = 1.0

    def __post_init__(self) -> None:
        if self.view not in ("side", "oblique45"):
            raise ValueError(f"camera view must be 'side' or 'oblique45', not {self.view!r}")
        if not 2.0 <= self.distance_m <= 4.0:
            raise ValueError(f"camera distance must be within 2-4 m, not {self.distance_m}")
        if not 0.3 <= self.height_m <= 2.5:
            raise ValueError(f"camera height must be within 0.3-2.5 m, not {self.height_m}")

    def position_world(self) -> np.ndarray:
        yaw = 0.0 if self.view == "side" else math.radians(45.0)
        # Camera on the athlete's left (-Z), swung toward the front for oblique.
        return np.array([self.distance_m * math.sin(yaw), self.height_m, -self.distance_m * math.cos(yaw)])

    def world_to_optical(self) -> tuple[np.ndarray, np.ndarray]:
        """Rotation R and translation t with p_optical = R @ p_world + t."""
        position = self.position_world()
        target = np.array([0.0, 0.9, 0.0])
        forward = target - position
        forward /= np.linalg.norm(forward)
        world_up = np.array([0.0, 1.0, 0.0])
        right = np.cross(forward, world_up)
        right /= np.linalg.norm(right)
        down = np.cross(forward, right)
        rotation = np.stack([right, down, forward])  # rows: optical x, y, z
        return rotation, -rotation @ position


@dataclass(frozen=True)
class AthleteSpec:
    preset: str = "dowel"
    reps: int = 5
    height_m: float = 1.75
    faults: dict[int, dict[str, float]] = field(default_factory=dict)  # rep (1-based) -> id -> magnitude
    camera: CameraPlacement = field(default_factory=CameraPlacement)
    fps: float = 30.0
    seed: int = 7
    landmark_noise_m: float = 0.004
    tempo: float = 1.0  # > 1 is faster: every phase lasts 1/tempo as long
    depth: float = 1.0  # hinge depth: scales the bottom posture's trunk inclination
    knee_bend_deg: float | None = None  # knee flexion at the bottom (None: the preset's)
    stance_width_m: float | None = None  # ankle to ankle, sideways (None: hip width)

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        if self.reps < 1:
            raise ValueError("reps must be at least 1")
        if not 1.2 <= self.height_m <= 2.2:
            raise ValueError(f"athlete height must be within 1.2-2.2 m, not {self.height_m}")
        # A camera's range; 0 would give no frames, and NaN or a huge rate no session.
        if not 1.0 <= self.fps <= 240.0:
            raise ValueError(f"fps must be within 1-240, not {self.fps}")
        if not 0.25 <= self.tempo <= 4.0:
            raise ValueError(f"tempo must be within 0.25-4, not {self.tempo}")
        if not 0.2 <= self.depth <= 1.4:
            raise ValueError(f"hinge depth must be within 0.2-1.4, not {self.depth}")
        if self.knee_bend_deg is not None and not 0.0 <= self.knee_bend_deg <= 120.0:
            raise ValueError(f"knee bend must be within 0-120 deg, not {self.knee_bend_deg}")
        if self.stance_width_m is not None and not 0.1 <= self.stance_width_m <= 0.8:
            raise ValueError(f"stance width must be within 0.1-0.8 m, not {self.stance_width_m}")
        for rep, faults in self.faults.items():
            if not 1 <= rep <= self.reps:
                raise ValueError(f"fault on rep {rep}, but the session has reps 1-{self.reps}")
            for fault_id, magnitude in faults.items():
                check_fault(fault_id, magnitude)


def check_fault(fault_id: str, magnitude: float) -> None:
    if fault_id not in FAULT_IDS:
        raise ValueError(f"unknown fault {fault_id!r}; known faults: {', '.join(FAULT_IDS)}")
    in_mm = fault_id in ("toes", "heels", "hips_rise_first")
    limit = 4.0 if fault_id == "fast_descent" else 150.0 if in_mm else 60.0
    low = 1.0 if fault_id == "fast_descent" else 0.0
    if not (math.isfinite(magnitude) and low <= magnitude <= limit):
        raise ValueError(f"fault {fault_id} magnitude {magnitude} is outside {low:g}-{limit:g}")


@dataclass
class Session:
    """A skeleton stream with its truth."""

    fps: float
    times_s: np.ndarray  # (N,)
    landmarks: np.ndarray  # (N, 33, 4): x, y, z in the camera optical frame (m), confidence
    up_optical: np.ndarray  # (3,) gravity-up unit vector in the camera optical frame
    phase: list[str]
    rep_index: np.ndarray  # (N,) 1-based rep the frame belongs to, 0 before the first
    trunk_inclination_deg: np.ndarray
    hip_flexion_deg: np.ndarray
    knee_flexion_deg: np.ndarray
    reps: list[dict]  # index, start_s, end_s, faults {id: magnitude}
    poses: list[Pose] = field(default_factory=list)  # the posture of each frame (before balancing)
    active_faults: list[dict[str, float]] = field(default_factory=list)


def parse_fault(text: str) -> tuple[int, str, float]:
    """Parse ``REP:ID:MAGNITUDE`` (for example ``2:squat:45``)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"fault {text!r} must look like REP:ID:MAGNITUDE, e.g. 2:squat:45")
    rep, fault_id, magnitude = parts
    if fault_id not in FAULT_IDS:
        raise ValueError(f"unknown fault {fault_id!r}; known faults: {', '.join(FAULT_IDS)}")
    try:
        return int(rep), fault_id, float(magnitude)
    except ValueError:
        raise ValueError(f"fault {text!r}: REP must be an integer and MAGNITUDE a number") from None


def _bottom_pose(spec: AthleteSpec, faults: dict[str, float]) -> Pose:
    base = PRESETS[spec.preset].bottom
    trunk, knee, shin = base.trunk_deg * spec.depth, base.knee_flexion_deg, base.shin_deg
    if spec.knee_bend_deg is not None:
        shin += 0.3 * (spec.knee_bend_deg - knee)
        knee = spec.knee_bend_deg
    lumbar = thoracic = head = pelvis = com = 0.0
    if "squat" in faults:
        # Knees travel forward and the trunk stays upright: hips sink instead of going back.
        extra = faults["squat"]
        knee += extra
        shin += 0.85 * extra
        trunk -= 0.9 * extra
    if "hips_high" in faults:
        # Stiff-legged pull from the floor: the knees stay straight, the trunk tips further.
        missing = min(faults["hips_high"], knee)
        knee -= missing
        shin -= 0.3 * missing
        trunk += 0.3 * missing
    if "rounded_back" in faults:
        # Flexion spread over the spine, mostly thoracic (the upper back rounds
        # most); the hips hinge less by part of it.
        lumbar += 0.3 * faults["rounded_back"]
        thoracic += 0.7 * faults["rounded_back"]
        trunk -= 0.3 * faults["rounded_back"]
    if "head_up" in faults:
        head -= faults["head_up"]
    if "head_down" in faults:
        head += faults["head_down"]
    if "no_brace" in faults:
        pelvis += faults["no_brace"]
    if "toes" in faults:
        com += faults["toes"] / 1000.0
    if "heels" in faults:
        com -= faults["heels"] / 1000.0
    return Pose(trunk, knee, shin, lumbar, thoracic, head, pelvis, com)


def _top_pose(faults: dict[str, float]) -> Pose:
    trunk = lumbar = knee = 0.0
    if "incomplete_lockout" in faults:
        trunk += faults["incomplete_lockout"]
        knee += 0.3 * faults["incomplete_lockout"]
    if "banana_back" in faults:
        # Lumbar hyperextension at lockout: the chest ends behind the hips.
        lumbar -= faults["banana_back"]
    return Pose(trunk_deg=trunk, knee_flexion_deg=knee, lumbar_flexion_deg=lumbar)


def _smooth(u: float) -> float:
    """Minimum-jerk-like profile from 0 to 1."""
    u = min(max(u, 0.0), 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


# Hips rising first (Rippetoe, Starting Strength, 3rd ed., ch. 4): the knees open before the
# hips do, so the legs straighten in the first part of the ascent while the back angle goes
# more horizontal; the trunk comes up only after, with the legs already nearly straight.
HIPS_FIRST_LEGS_U = 0.6  # fraction of the ascent in which the legs straighten and the trunk tips
HIPS_FIRST_TRUNK_DELAY_U = 0.3  # fraction of the ascent before the trunk starts to come up
_HIPS_FIRST_MAX_TIP_DEG = 45.0


def _hips_first_pose(p0: Pose, p1: Pose, u: float, tip_deg: float) -> Pose:
    """The ascent from ``p0`` to ``p1`` at ``u`` (0-1) with the legs leading and the trunk
    tipped forward by up to ``tip_deg`` while they straighten."""
    u = min(max(u, 0.0), 1.0)
    early = min(u / HIPS_FIRST_LEGS_U, 1.0)
    late = max(u - HIPS_FIRST_TRUNK_DELAY_U, 0.0) / (1.0 - HIPS_FIRST_TRUNK_DELAY_U)
    pose = p0.blend(p1, _smooth(late))
    legs = p0.blend(p1, _smooth(early))
    return replace(
        pose,
        knee_flexion_deg=legs.knee_flexion_deg,
        shin_deg=legs.shin_deg,
        trunk_deg=pose.trunk_deg + tip_deg * math.sin(math.pi * early) ** 2,
    )


def _hip_shoulder_heights(body: Body) -> tuple[float, float]:
    j = body.joints
    return float(j["left_hip"][1]), float(j["left_shoulder"][1])


def _hips_lead_m(
    p0: Pose, p1: Pose, tip_deg: float, height_m: float, stance_m: float | None, grip: str
) -> float:
    """Peak over the first part of the ascent of hip rise minus shoulder rise since the bottom."""
    hip0, shoulder0 = _hip_shoulder_heights(body_at(p0, height_m, stance_m, grip))
    lead = 0.0
    for u in np.linspace(0.0, HIPS_FIRST_LEGS_U, 25)[1:]:
        hip, shoulder = _hip_shoulder_heights(
            body_at(_hips_first_pose(p0, p1, u, tip_deg), height_m, stance_m, grip)
        )
        lead = max(lead, (hip - hip0) - (shoulder - shoulder0))
    return lead


@lru_cache(maxsize=64)
def _hips_first_tip_deg(
    p0: Pose, p1: Pose, lead_mm: float, height_m: float, stance_m: float | None, grip: str
) -> float:
    """The trunk tip that makes the hips lead the shoulders by ``lead_mm`` at the peak (bisection:
    the lead grows with the tip)."""
    target = lead_mm / 1000.0
    if _hips_lead_m(p0, p1, _HIPS_FIRST_MAX_TIP_DEG, height_m, stance_m, grip) < target:
        raise ValueError(
            f"hips_rise_first lead {lead_mm:g} mm is out of reach from this bottom posture "
            f"(at most a {_HIPS_FIRST_MAX_TIP_DEG:g} deg trunk tip)"
        )
    low, high = 0.0, _HIPS_FIRST_MAX_TIP_DEG
    for _ in range(20):
        mid = 0.5 * (low + high)
        if _hips_lead_m(p0, p1, mid, height_m, stance_m, grip) < target:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def _timeline(spec: AthleteSpec) -> list[tuple[float, str, int, Pose, Pose]]:
    """Segments (duration, phase, rep, start pose, end pose) of the whole session."""
    preset = PRESETS[spec.preset]
    k = 1.0 / spec.tempo
    segments: list[tuple[float, str, int, Pose, Pose]] = []
    stand = Pose()
    segments.append((1.2, "setup", 0, stand, stand))
    previous_top = stand
    for rep in range(1, spec.reps + 1):
        faults = spec.faults.get(rep, {})
        bottom = _bottom_pose(spec, faults)
        top = _top_pose(faults)
        # An unbraced athlete sets up in anterior pelvic tilt and starts from there.
        start = replace(stand, pelvis_tilt_deg=faults.get("no_brace", 0.0))
        descent_s = k * preset.descent_s / max(faults.get("fast_descent", 1.0), 1.0)
        if rep > 1:
            segments.append((k * preset.setup_s, "setup", rep, previous_top, start))
        elif start != stand:
            segments[0] = (1.2, "setup", 0, stand, start)
        segments.append((descent_s, "descent", rep, start, bottom))
        segments.append((k * preset.bottom_hold_s, "bottom", rep, bottom, bottom))
        segments.append((k * preset.ascent_s, "ascent", rep, bottom, top))
        segments.append((k * preset.lockout_hold_s, "lockout", rep, top, top))
        previous_top = top
    segments.append((1.0, "setup", spec.reps + 1, previous_top, stand))
    return segments


def _dir(angle_deg: float | np.ndarray) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.stack([np.sin(a), np.cos(a)], axis=-1)


def _posterior(angle_deg: float | np.ndarray) -> np.ndarray:
    """Unit normal pointing behind a line inclined ``angle_deg`` from vertical."""
    a = np.radians(angle_deg)
    return np.stack([-np.cos(a), np.sin(a)], axis=-1)


def _arc(start: np.ndarray, theta0: float, turning: float, length: float, n: int):
    """A uniformly bent chain of n links: points (n+1, 2) and tangent angles (n+1,)."""
    tangents = theta0 + turning * np.arange(n + 1) / n
    mids = theta0 + turning * (np.arange(n) + 0.5) / n
    steps = (length / n) * _dir(mids)
    points = np.vstack([start, start + np.cumsum(steps, axis=0)])
    return points, tangents


@dataclass
class Body:
    """The whole body at one instant, world frame (metres)."""

    joints: dict[str, np.ndarray]  # named 3D points (ankles, knees, hips, spine levels, ...)
    spine: np.ndarray  # (K, 3) vertebral-body line from the sacral base to the top of the neck
    spine_tangent_deg: np.ndarray  # (K,) inclination of the spine line from vertical
    torso_axis: np.ndarray  # (K_t, 3) axis of the torso volume (sacral base to T1)
    torso_radius: np.ndarray  # (K_t,) torso half depth along the axis
    back_profile: np.ndarray  # (M, 3) midline back surface, sacrum to the back of the head
    back_labels: (
        np.ndarray
    )  # (M,) region of each profile point: 0 sacrum, 1 lumbar, 2 thoracic, 3 neck, 4 head
    head_centre: np.ndarray
    head_axes: np.ndarray  # (3, 3) rows: head up, face forward, right (unit)
    head_radii: np.ndarray  # (3,) semi-axes along head_axes
    com: np.ndarray  # whole-body centre of mass
    mid_foot: np.ndarray  # midpoint of heel and toe, between the feet
    balance_deg: float  # rotation about the ankles applied to balance
    height_m: float
    stance_half_m: float


def _shoulder_3d(g: dict, h: float, sign: float) -> np.ndarray:
    return np.array([*g["shoulder"], sign * 0.5 * SHOULDER_WIDTH * h])


def _hang_arms(g: dict, h: float) -> None:
    """The arms hang from the shoulders under gravity (the hands hold the load)."""
    arms = {}
    for side, sign in (("left", -1.0), ("right", 1.0)):
        half = 0.5 * SHOULDER_WIDTH * h
        shoulder = _shoulder_3d(g, h, sign)
        elbow = np.array([shoulder[0], shoulder[1] - UPPER_ARM * h, sign * half * 1.02])
        wrist = np.array([shoulder[0], elbow[1] - FOREARM * h, sign * half * 0.95])
        hand = np.array([shoulder[0], wrist[1] - 0.5 * HAND * h, sign * half * 0.93])
        arms[side] = (elbow, wrist, hand)
    g["arms"] = arms


def _reach(shoulder: np.ndarray, target: np.ndarray, pole: np.ndarray, h: float) -> tuple:
    """Two-link arm from the shoulder to a wrist target, the elbow bent toward ``pole``."""
    l1, l2 = UPPER_ARM * h, FOREARM * h
    v = target - shoulder
    d = float(np.linalg.norm(v))
    u = v / d
    d = min(d, 0.999 * (l1 + l2))  # out of reach: the arm stretches toward it
    a = (l1 * l1 - l2 * l2 + d * d) / (2.0 * d)
    b = math.sqrt(max(l1 * l1 - a * a, 0.0))
    p = pole - (pole @ u) * u
    p /= np.linalg.norm(p)
    elbow = shoulder + a * u + b * p
    wrist = shoulder + d * u
    return elbow, wrist


def _grip_dowel(g: dict, h: float) -> None:
    """Dowel drill grip: the near (left) hand holds the dowel at the low back, the far
    (right) hand behind the neck; elbows out to the side."""
    profile, _, _, _ = _back_profile_2d(g, h)
    line = _dowel_line_2d(profile)
    centre, d, n = line.point, line.direction, line.back_normal
    nl, nt = int(g["n_lumbar"]), int(g["n_thoracic"])
    grips = {"left": g["spine"][nl // 2], "right": g["spine"][-1]}
    trunk_up = _dir(float(g["spine_t"][nl - 1 + nt]))
    arms = {}
    for side, sign in (("left", -1.0), ("right", 1.0)):
        # The hand closes around the dowel (2.5 cm) just behind the line, opposite its spine level.
        on_line = centre + ((grips[side] - centre) @ d) * d
        hand2 = on_line + (0.0125 + 0.01) * n
        hand = np.array([*hand2, sign * 0.03])
        shoulder = _shoulder_3d(g, h, sign)
        toward = _unit(shoulder - hand)
        wrist_target = hand + 0.5 * HAND * h * toward
        out = np.array([0.0, 0.0, sign])
        pole = out + (np.array([*n, 0.0]) if side == "left" else np.array([*trunk_up, 0.0]))
        elbow, wrist = _reach(shoulder, wrist_target, pole, h)
        hand = wrist + 0.5 * HAND * h * _unit(hand - wrist)
        arms[side] = (elbow, wrist, hand)
    g["arms"] = arms


def _place_arms(g: dict, h: float, grip: str) -> None:
    if grip == "dowel":
        _grip_dowel(g, h)
    else:
        _hang_arms(g, h)


def _pose_geometry(pose: Pose, h: float) -> dict[str, np.ndarray]:
    """Sagittal 2D points of the body (x forward, y up) before balancing."""
    g: dict[str, np.ndarray] = {}
    g["ankle"] = np.array([0.0, ANKLE_HEIGHT * h])
    g["knee"] = g["ankle"] + SHANK * h * _dir(pose.shin_deg)
    g["hip"] = g["knee"] + THIGH * h * _dir(pose.shin_deg - pose.knee_flexion_deg)
    pelvis_deg = pose.trunk_deg - _TRUNK_OFFSET_DEG + pose.pelvis_tilt_deg
    fwd, up = _dir(pelvis_deg + 90.0), _dir(pelvis_deg)
    g["sacral_base"] = g["hip"] + h * (SACRAL_BASE[0] * fwd + SACRAL_BASE[1] * up)
    g["pelvis_deg"] = np.array(pelvis_deg)
    # An anterior pelvic tilt rotates the pelvis forward; the lumbar spine
    # extends by as much, so the thorax above holds its orientation.
    lumbar_turn = -LORDOSIS_DEG + pose.lumbar_flexion_deg - pose.pelvis_tilt_deg
    lumbar, lumbar_t = _arc(
        g["sacral_base"], pelvis_deg + LORDOSIS_DEG / 2, lumbar_turn, LUMBAR * h, LINKS["lumbar"]
    )
    thoracic, thoracic_t = _arc(
        lumbar[-1], lumbar_t[-1], KYPHOSIS_DEG + pose.thoracic_flexion_deg, THORACIC * h, LINKS["thoracic"]
    )
    cervical, cervical_t = _arc(
        thoracic[-1],
        thoracic_t[-1],
        -CERVICAL_LORDOSIS_DEG + pose.head_flexion_deg,
        CERVICAL * h,
        LINKS["cervical"],
    )
    g["spine"] = np.vstack([lumbar, thoracic[1:], cervical[1:]])
    g["spine_t"] = np.concatenate([lumbar_t, thoracic_t[1:], cervical_t[1:]])
    g["n_lumbar"] = np.array(len(lumbar))
    g["n_thoracic"] = np.array(len(thoracic) - 1)
    t_end = thoracic_t[-1]
    g["shoulder"] = thoracic[-1] + h * (
        SHOULDER_FROM_T1[0] * _dir(t_end + 90.0) + SHOULDER_FROM_T1[1] * _dir(t_end)
    )
    head_deg = cervical_t[-1]
    g["head_deg"] = np.array(head_deg)
    # The head sits on the neck so that, with a neutral spine, the back of the
    # head touches the dowel together with the mid back and the sacrum (the drill's 3 points).
    g["head_centre"] = cervical[-1] + h * (0.035 * _dir(head_deg) + 0.004 * _dir(head_deg + 90.0))
    _hang_arms(g, h)  # placed for real once the body is balanced
    g["heel"] = np.array([-0.25 * FOOT * h, 0.012 * h])
    g["toe"] = np.array([0.75 * FOOT * h, 0.012 * h])
    return g


# trunk_deg is the hip-to-shoulder line's inclination: the pelvis angle is
# offset by the neutral spine's own lean (computed once, below).
_TRUNK_OFFSET_DEG = 0.0


def _neutral_trunk_offset() -> float:
    g = _pose_geometry(Pose(), 1.0)
    v = g["shoulder"] - g["hip"]
    return math.degrees(math.atan2(v[0], v[1]))


_TRUNK_OFFSET_DEG = _neutral_trunk_offset()


def _com_2d(g: dict[str, np.ndarray], h: float) -> np.ndarray:
    """Whole-body centre of mass in the sagittal plane (both sides together)."""

    def along(name: str, a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
        mass, frac = SEGMENT_MASS[name]
        paired = name not in ("pelvis", "abdomen", "thorax", "head_neck")  # limbs come in twos
        return (2.0 * mass if paired else mass), a + frac * (b - a)

    spine = g["spine"]
    nl, nt = int(g["n_lumbar"]), int(g["n_thoracic"])
    t1 = spine[nl - 1 + nt]

    def axis_shift(i: int) -> np.ndarray:
        """The torso volume's axis at spine level i (in front of the vertebral bodies)."""
        return spine[i] - (TORSO_HALF_DEPTH - BACK_TISSUE) * h * _posterior(g["spine_t"][i])

    parts = [
        along("foot", g["heel"], g["toe"]),
        along("shank", g["knee"], g["ankle"]),
        along("thigh", g["hip"], g["knee"]),
        along("pelvis", g["hip"], axis_shift(0)),
        along("abdomen", axis_shift(0), axis_shift(nl - 1)),
        along("thorax", axis_shift(nl - 1), t1),
        along("head_neck", t1, g["head_centre"] + 0.035 * h * _dir(float(g["head_deg"]))),
    ]
    for elbow, wrist, hand in g["arms"].values():  # one arm at a time: they may differ
        for name, a, b in (
            ("upper_arm", g["shoulder"], elbow[:2]),
            ("forearm", elbow[:2], wrist[:2]),
            ("hand", wrist[:2], wrist[:2] + 2.0 * (hand[:2] - wrist[:2])),
        ):
            m, p = along(name, a, b)
            parts.append((0.5 * m, p))
    total = sum(m for m, _ in parts)
    return sum(m * p for m, p in parts) / total


def _rotate_about(points: np.ndarray, pivot: np.ndarray, angle_deg: float) -> np.ndarray:
    """Rotate sagittal points about ``pivot``, positive tips them forward."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    d = points - pivot
    return pivot + np.stack([c * d[..., 0] + s * d[..., 1], -s * d[..., 0] + c * d[..., 1]], axis=-1)


_ABOVE_ANKLE = ("knee", "hip", "sacral_base", "spine", "shoulder", "head_centre")
_ANGLES = ("spine_t", "head_deg", "pelvis_deg")


def _balance(g: dict, pose: Pose, h: float, grip: str = "hang") -> float:
    """Tip everything above the ankles so the centre of mass sits at the target; returns degrees.

    The tip that puts the centre of mass above the ankles at the target has a
    closed form; the arms then hang (or hold the dowel) anew, which moves the
    centre of mass a little, so a few passes get it within a fraction of a millimetre.
    """
    foot_mass = 2.0 * SEGMENT_MASS["foot"][0]
    foot_com = 0.5 * (g["heel"] + g["toe"])  # mid-foot
    ankle = g["ankle"]
    want_rest_x = (float(foot_com[0]) + pose.com_offset_m - foot_mass * foot_com[0]) / (1.0 - foot_mass)
    total = 0.0
    _place_arms(g, h, grip)
    for _ in range(3):
        rest = (_com_2d(g, h) - foot_mass * foot_com) / (1.0 - foot_mass)  # above the ankles
        d = rest - ankle
        r = float(np.hypot(d[0], d[1]))
        sin_target = float(np.clip((want_rest_x - ankle[0]) / r, -0.99, 0.99))
        delta = math.degrees(math.asin(sin_target) - math.atan2(d[0], d[1]))
        for name in _ABOVE_ANKLE:
            g[name] = _rotate_about(g[name], ankle, delta)
        for name in _ANGLES:
            g[name] = g[name] + delta
        _place_arms(g, h, grip)
        total += delta
    return total


HEAD_RADII = np.array([0.065, 0.055, 0.045])  # up, forward, sideways, fractions of height


def _back_profile_2d(g: dict, h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Midline back surface (sacrum to crown) with region labels, and the torso volume's axis and radii."""
    nl, nt = int(g["n_lumbar"]), int(g["n_thoracic"])
    # The torso volume: its axis lies in front of the spine so that its back
    # surface (axis + half depth, posterior) is the back-tissue offset of the spine.
    torso_idx = np.arange(0, nl + nt)
    post = _posterior(g["spine_t"][torso_idx])
    depth = TORSO_HALF_DEPTH * h
    torso_axis = g["spine"][torso_idx] + (BACK_TISSUE * h - depth) * post
    # Continue the axis down into the pelvis (to the hips' level) along the pelvis line.
    pelvis_post = _posterior(float(g["pelvis_deg"]))
    pelvis_axis = g["hip"] + (SACRUM_BACK * h - depth) * pelvis_post + 0.35 * (g["sacral_base"] - g["hip"])
    torso_axis = np.vstack([pelvis_axis, torso_axis])
    torso_radius = np.full(len(torso_axis), depth)
    # Back-surface profile: the sacrum (pelvis back), then the spine offset by the back tissue.
    sacrum = pelvis_axis + depth * pelvis_post
    spine_back = g["spine"] + BACK_TISSUE * h * _posterior(g["spine_t"])
    spine_back[: nl + nt] = torso_axis[1:] + depth * post
    head_deg = float(g["head_deg"])
    head_up, head_fwd = _dir(head_deg), _dir(head_deg + 90.0)
    radii = h * HEAD_RADII
    arc = np.radians(np.linspace(-40.0, 70.0, 8))  # back of the head, from the nape up to the crown
    head_back = (
        g["head_centre"]
        + (-np.cos(arc))[:, None] * radii[1] * head_fwd
        + np.sin(arc)[:, None] * radii[0] * head_up
    )
    profile = np.vstack([sacrum, spine_back, head_back])
    labels = np.concatenate(
        [
            [0],
            np.full(nl, 1),
            np.full(nt, 2),
            np.full(len(spine_back) - nl - nt, 3),
            np.full(len(head_back), 4),
        ]
    ).astype(int)
    return profile, labels, torso_axis, torso_radius


def body_at(pose: Pose, height_m: float, stance_width_m: float | None = None, grip: str = "hang") -> Body:
    """The balanced body for one posture; ``grip`` "dowel" puts the hands on the dowel."""
    if grip not in ("hang", "dowel"):
        raise ValueError(f"grip must be 'hang' or 'dowel', not {grip!r}")
    h = height_m
    g = _pose_geometry(pose, h)
    balance = _balance(g, pose, h, grip)
    stance_half = 0.5 * (stance_width_m if stance_width_m is not None else HIP_WIDTH * h)

    def w(p2: np.ndarray, z: float = 0.0) -> np.ndarray:
        p2 = np.asarray(p2, dtype=float)
        return np.concatenate([p2, np.full(p2.shape[:-1] + (1,), z)], axis=-1)

    joints: dict[str, np.ndarray] = {}
    hip_half = 0.5 * HIP_WIDTH * h
    for side, sign in (("left", -1.0), ("right", 1.0)):
        joints[f"{side}_hip"] = w(g["hip"], sign * hip_half)
        joints[f"{side}_knee"] = w(g["knee"], sign * 0.5 * (hip_half + stance_half))
        joints[f"{side}_ankle"] = w(g["ankle"], sign * stance_half)
        joints[f"{side}_heel"] = w(g["heel"], sign * stance_half)
        joints[f"{side}_toe"] = w(g["toe"], sign * stance_half * 1.1)
        joints[f"{side}_shoulder"] = w(g["shoulder"], sign * 0.5 * SHOULDER_WIDTH * h)
        joints[f"{side}_elbow"], joints[f"{side}_wrist"], joints[f"{side}_hand"] = g["arms"][side]
    nl, nt = int(g["n_lumbar"]), int(g["n_thoracic"])
    spine = w(g["spine"])
    joints["sacral_base"] = spine[0]
    joints["thoracolumbar"] = spine[nl - 1]
    joints["mid_thoracic"] = spine[nl - 1 + nt // 2]
    joints["t1"] = spine[nl - 1 + nt]
    joints["neck_top"] = spine[-1]

    profile2, labels, torso_axis, torso_radius = _back_profile_2d(g, h)
    head_deg = float(g["head_deg"])
    head_up, head_fwd = _dir(head_deg), _dir(head_deg + 90.0)
    head_radii = h * HEAD_RADII
    head_centre2 = g["head_centre"]
    head_axes = np.array([[*head_up, 0.0], [*head_fwd, 0.0], [0.0, 0.0, 1.0]])
    com2 = _com_2d(g, h)
    return Body(
        joints=joints,
        spine=spine,
        spine_tangent_deg=g["spine_t"].copy(),
        torso_axis=w(torso_axis),
        torso_radius=torso_radius,
        back_profile=w(profile2),
        back_labels=labels.astype(int),
        head_centre=w(head_centre2),
        head_axes=head_axes,
        head_radii=head_radii,
        com=w(com2),
        mid_foot=w(0.5 * (g["heel"] + g["toe"])),
        balance_deg=balance,
        height_m=h,
        stance_half_m=stance_half,
    )


def grip_for(spec: AthleteSpec) -> str:
    """How the hands hold the load: the dowel drill holds the dowel, the rest hang."""
    return "dowel" if PRESETS[spec.preset].prop == "dowel" else "hang"


def body_for(spec: AthleteSpec, pose: Pose) -> Body:
    """The body of ``spec``'s athlete in one posture."""
    return body_at(pose, spec.height_m, spec.stance_width_m, grip_for(spec))


def landmarks_world(body: Body) -> np.ndarray:
    """33 BlazePose landmarks (x, y, z) in the world frame."""
    out = np.zeros((NUM_LANDMARKS, 3))
    j = body.joints
    head_up, face_fwd, lateral = body.head_axes
    c = body.head_centre
    for side, sign in (("left", -1.0), ("right", 1.0)):
        out[INDEX[f"{side}_hip"]] = j[f"{side}_hip"]
        out[INDEX[f"{side}_knee"]] = j[f"{side}_knee"]
        out[INDEX[f"{side}_ankle"]] = j[f"{side}_ankle"]
        out[INDEX[f"{side}_heel"]] = j[f"{side}_heel"]
        out[INDEX[f"{side}_foot_index"]] = j[f"{side}_toe"]
        out[INDEX[f"{side}_shoulder"]] = j[f"{side}_shoulder"]
        out[INDEX[f"{side}_elbow"]] = j[f"{side}_elbow"]
        out[INDEX[f"{side}_wrist"]] = j[f"{side}_wrist"]
        hand = j[f"{side}_hand"]
        out[INDEX[f"{side}_pinky"]] = hand + sign * 0.01 * lateral
        out[INDEX[f"{side}_index"]] = hand + np.array([0.02, -0.01, 0.0])
        out[INDEX[f"{side}_thumb"]] = hand + np.array([0.03, 0.02, 0.0])
        out[INDEX[f"{side}_ear"]] = c - 0.01 * face_fwd + sign * body.head_radii[2] * lateral
        eye = c + 0.8 * body.head_radii[1] * face_fwd + 0.2 * body.head_radii[0] * head_up
        for part, dz in (("eye_inner", 0.015), ("eye", 0.032), ("eye_outer", 0.045)):
            out[INDEX[f"{side}_{part}"]] = eye + sign * dz * lateral
        mouth = c + 0.85 * body.head_radii[1] * face_fwd - 0.5 * body.head_radii[0] * head_up
        out[INDEX[f"mouth_{side}"]] = mouth + sign * 0.025 * lateral
    out[INDEX["nose"]] = c + 1.02 * body.head_radii[1] * face_fwd - 0.1 * body.head_radii[0] * head_up
    return out


@dataclass(frozen=True)
class DowelGaps:
    """The virtual dowel on the back surface (metres; every gap >= 0, a hollow in front of the dowel)."""

    head_m: float
    mid_back_m: float
    tailbone_m: float
    lumbar_m: float
    lumbar_hollow_m: float  # the low back's hollow under the trunk's own line (dowel.lumbar_hollow_m)
    line_point: np.ndarray  # where the dowel rests on the sacrum (world)
    line_dir: np.ndarray  # unit direction of the dowel line, tailbone to head (world)
    back_dir: np.ndarray  # unit normal of the line pointing behind the athlete (world)
    contact: str  # the back region of the upper contact: "lumbar", "mid_back", "neck" or "head"


_REGION = ("tailbone", "lumbar", "mid_back", "neck", "head")  # back_labels 0-4


def _dowel_line_2d(profile: np.ndarray) -> DowelLine:
    """The dowel on a sagittal back profile (sacrum first): ``dowel.support_line``."""
    line = support_line(profile, 0)
    if line is None:  # pragma: no cover - the profile always runs up from the sacrum
        raise ValueError("back profile has no point above the sacrum")
    return line


def virtual_dowel(body: Body) -> DowelGaps:
    """Lay the virtual dowel on the back surface, as in the dowel drill.

    The dowel is a straight rod held against the sacrum and resting on the
    outermost points of the back (``dowel.support_line``): no point of the back
    surface lies behind it. Gaps are distances in front of it (a hollow between
    back and dowel), all >= 0; the tailbone gap is 0 by definition. The head
    and mid-back gaps are their regions' closest approach to the dowel (the
    back of the head; the thoracic back), the lumbar gap the deepest point of
    the low back. With a neutral spine the dowel touches head, mid back and
    sacrum (within a few mm) over a lumbar hollow of about a hand's
    thickness. A rounded back makes the thoracic hump the contact: the head
    gap opens while the flexed lumbar spine loses lordosis (its gap
    shrinks); lumbar hyperextension deepens the lumbar hollow.
    """
    p = body.back_profile[:, :2]
    labels = body.back_labels
    line = _dowel_line_2d(p)
    gaps = line.gaps(p)
    return DowelGaps(
        head_m=float(gaps[labels == 4].min()),
        mid_back_m=float(gaps[labels == 2].min()),
        tailbone_m=float(gaps[0]),
        lumbar_m=float(gaps[labels == 1].max()),
        lumbar_hollow_m=lumbar_hollow_m(p, 0, np.where(labels <= 2)[0], np.where(labels == 1)[0]),
        line_point=np.array([*line.point, 0.0]),
        line_dir=np.array([*line.direction, 0.0]),
        back_dir=np.array([*line.back_normal, 0.0]),
        contact=_REGION[int(labels[line.contact])],
    )


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def joint_angles(body: Body) -> dict[str, float]:
    """Sagittal joint angles of the balanced body (degrees, 0 standing tall)."""
    j = body.joints

    def incl(a: np.ndarray, b: np.ndarray) -> float:
        v = b - a
        return math.degrees(math.atan2(v[0], v[1]))

    trunk = incl(j["left_hip"], j["left_shoulder"])
    thigh = incl(j["left_knee"], j["left_hip"])
    shank = incl(j["left_ankle"], j["left_knee"])
    spine_t = body.spine_tangent_deg
    nl = LINKS["lumbar"] + 1
    nt = LINKS["thoracic"]
    pelvis_deg = float(spine_t[0]) - LORDOSIS_DEG / 2
    return {
        "trunk_inclination_deg": trunk,
        "hip_flexion_deg": trunk - thigh,
        "knee_flexion_deg": shank - thigh,
        "shin_angle_deg": shank,
        "ankle_dorsiflexion_deg": shank,
        "pelvis_inclination_deg": pelvis_deg,
        "lumbar_flexion_deg": float(spine_t[nl - 1] - spine_t[0]) + LORDOSIS_DEG,
        "thoracic_flexion_deg": float(spine_t[nl - 1 + nt] - spine_t[nl - 1]) - KYPHOSIS_DEG,
        "cervical_flexion_deg": float(spine_t[-1] - spine_t[nl - 1 + nt]) + CERVICAL_LORDOSIS_DEG,
    }


def generate(spec: AthleteSpec) -> Session:
    """Run the athlete through its reps and sample it at ``spec.fps``."""
    rng = np.random.default_rng(spec.seed)
    rotation, translation = spec.camera.world_to_optical()
    segments = _timeline(spec)
    total_s = sum(s[0] for s in segments)
    n = int(round(total_s * spec.fps))
    times = np.arange(n) / spec.fps
    landmarks = np.zeros((n, NUM_LANDMARKS, 4))
    phase: list[str] = []
    rep_index = np.zeros(n, dtype=int)
    trunk = np.zeros(n)
    hip = np.zeros(n)
    knee = np.zeros(n)
    hip_minus_shoulder_m = np.zeros(n)  # hip height minus shoulder height (noise-free)
    reps: dict[int, dict] = {}
    poses: list[Pose] = []
    active: list[dict[str, float]] = []

    starts = np.cumsum([0.0] + [s[0] for s in segments])
    seg = 0
    for i, t in enumerate(times):
        while seg < len(segments) - 1 and t >= starts[seg + 1]:
            seg += 1
        duration, seg_phase, rep, p0, p1 = segments[seg]
        u = (t - starts[seg]) / duration
        pose = p0.blend(p1, _smooth(u))
        rep_faults = spec.faults.get(rep, {})
        if seg_phase == "ascent" and "hips_rise_first" in rep_faults:
            tip = _hips_first_tip_deg(
                p0, p1, rep_faults["hips_rise_first"], spec.height_m, spec.stance_width_m, grip_for(spec)
            )
            pose = _hips_first_pose(p0, p1, u, tip)
        poses.append(pose)
        body = body_for(spec, pose)
        world = landmarks_world(body)
        optical = world @ rotation.T + translation
        landmarks[i, :, :3] = optical + rng.normal(0.0, spec.landmark_noise_m, optical.shape)
        landmarks[i, :, 3] = 0.95
        phase.append(seg_phase)
        in_rep = 1 <= rep <= spec.reps and seg_phase != "setup"
        rep_index[i] = rep if in_rep else 0
        angles = joint_angles(body)
        trunk[i] = angles["trunk_inclination_deg"]
        hip[i] = angles["hip_flexion_deg"]
        knee[i] = angles["knee_flexion_deg"]
        hip_height, shoulder_height = _hip_shoulder_heights(body)
        hip_minus_shoulder_m[i] = hip_height - shoulder_height
        # The setup before a rep belongs to that rep (its no_brace shows there).
        fault_rep = 1 if rep == 0 else rep
        active.append(
            {k: v for k, v in spec.faults.get(fault_rep, {}).items() if seg_phase in FAULT_PHASES[k]}
        )
        if in_rep:
            entry = reps.setdefault(
                rep, {"index": rep, "start_s": float(t), "faults": dict(spec.faults.get(rep, {}))}
            )
            entry["end_s"] = float(t)
    phases = np.array(phase)
    for k, entry in reps.items():
        # Truth of the hips_rise_first check: how much more the hips than the shoulders rose
        # since the bottom, at the peak of the ascent (0 when the chest rises with the hips).
        ascent = hip_minus_shoulder_m[(rep_index == k) & (phases == "ascent")]
        entry["hips_lead_mm"] = round(1000.0 * float(np.max(ascent - ascent[0])), 1) if len(ascent) else 0.0
    return Session(
        fps=spec.fps,
        times_s=times,
        landmarks=landmarks,
        up_optical=rotation @ np.array([0.0, 1.0, 0.0]),
        phase=phase,
        rep_index=rep_index,
        trunk_inclination_deg=trunk,
        hip_flexion_deg=hip,
        knee_flexion_deg=knee,
        reps=[reps[k] for k in sorted(reps)],
        poses=poses,
        active_faults=active,
    )


# The embedded demo session: clean, squat, clean, squat, clean.
DEMO_SPEC = AthleteSpec(
    preset="dowel",
    reps=5,
    faults={2: {"squat": 50.0}, 4: {"squat": 40.0}},
)

# The embedded RGB-D session: clean, rounded back, squatting, banana back, clean.
RGBD_DEMO_SPEC = AthleteSpec(
    preset="dowel",
    reps=5,
    faults={2: {"rounded_back": 25.0}, 3: {"squat": 45.0}, 4: {"banana_back": 15.0}},
    landmark_noise_m=0.0,
)
