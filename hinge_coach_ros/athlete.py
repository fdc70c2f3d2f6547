"""The synthetic athlete: a kinematic body that performs hip-hinge reps.

It knows its own truth (joint angles, phase, rep index, injected faults), so
every later stage can be tested against it. Here it produces the 3D
BlazePose-ordered skeleton as a camera would see it; the same body model is
meant to drive RGB-D rendering.

World frame: X points where the athlete faces, Y up, Z to the athlete's
right; the origin is on the floor between the ankles. Angles are in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .landmarks import INDEX, NUM_LANDMARKS

# Segment lengths as fractions of body height, from Winter's anthropometric
# table (Biomechanics and Motor Control of Human Movement, 4th ed., Table 4.1).
ANKLE_HEIGHT = 0.039
SHANK = 0.246
THIGH = 0.245
LUMBAR = 0.110  # hip joint centre to the thoraco-lumbar junction
THORACIC = 0.178  # thoraco-lumbar junction to the shoulder line
NECK = 0.052
HEAD = 0.130
FOOT = 0.152
HIP_WIDTH = 0.191
SHOULDER_WIDTH = 0.259
UPPER_ARM = 0.186
FOREARM = 0.146

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
)


@dataclass(frozen=True)
class Pose:
    """Sagittal-plane posture; every angle in degrees, forward positive."""

    trunk_deg: float = 0.0  # pelvis/lumbar base inclination from vertical
    knee_flexion_deg: float = 0.0
    shin_deg: float = 0.0  # shank forward lean from vertical (knees forward)
    lumbar_flexion_deg: float = 0.0  # extra flexion of the lumbar segment
    thoracic_flexion_deg: float = 0.0
    head_flexion_deg: float = 0.0  # head relative to the thoracic line

    def blend(self, other: Pose, u: float) -> Pose:
        return Pose(*(a + (b - a) * u for a, b in zip(_values(self), _values(other))))


def _values(p: Pose) -> tuple[float, ...]:
    return (
        p.trunk_deg,
        p.knee_flexion_deg,
        p.shin_deg,
        p.lumbar_flexion_deg,
        p.thoracic_flexion_deg,
        p.head_flexion_deg,
    )


@dataclass(frozen=True)
class Preset:
    """Bottom-of-rep posture and tempo of one exercise."""

    name: str
    bottom: Pose
    descent_s: float = 1.4
    bottom_hold_s: float = 0.3
    ascent_s: float = 1.2
    lockout_hold_s: float = 0.8
    setup_s: float = 0.8


PRESETS: dict[str, Preset] = {
    # Shins stay near vertical in a hinge: the hips, not the knees, travel.
    "dowel": Preset("dowel", Pose(trunk_deg=62.0, knee_flexion_deg=22.0, shin_deg=2.0)),
    "box_lift": Preset("box_lift", Pose(trunk_deg=68.0, knee_flexion_deg=35.0, shin_deg=8.0)),
    "deadlift": Preset("deadlift", Pose(trunk_deg=58.0, knee_flexion_deg=40.0, shin_deg=10.0)),
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

    def world_to_optical(self) -> tuple[np.ndarray, np.ndarray]:
        """Rotation R and translation t with p_optical = R @ p_world + t."""
        yaw = 0.0 if self.view == "side" else math.radians(45.0)
        # Camera on the athlete's left (-Z), swung toward the front for oblique.
        position = np.array(
            [self.distance_m * math.sin(yaw), self.height_m, -self.distance_m * math.cos(yaw)]
        )
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

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {sorted(PRESETS)}")
        if self.reps < 1:
            raise ValueError("reps must be at least 1")
        for rep, faults in self.faults.items():
            if not 1 <= rep <= self.reps:
                raise ValueError(f"fault on rep {rep}, but the session has reps 1-{self.reps}")
            for fault_id in faults:
                if fault_id not in FAULT_IDS:
                    raise ValueError(f"unknown fault {fault_id!r}; known faults: {', '.join(FAULT_IDS)}")


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


def _bottom_pose(base: Pose, faults: dict[str, float]) -> Pose:
    trunk, knee, shin = base.trunk_deg, base.knee_flexion_deg, base.shin_deg
    lumbar = thoracic = head = 0.0
    if "squat" in faults:
        # Knees travel forward and the trunk stays upright: hips sink instead of going back.
        extra = faults["squat"]
        knee += extra
        shin += 0.65 * extra
        trunk -= 0.45 * extra
    if "rounded_back" in faults:
        lumbar += 0.5 * faults["rounded_back"]
        thoracic += 0.5 * faults["rounded_back"]
        trunk -= 0.3 * faults["rounded_back"]
    if "head_up" in faults:
        head -= faults["head_up"]
    if "head_down" in faults:
        head += faults["head_down"]
    return Pose(trunk, knee, shin, lumbar, thoracic, head)


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


def _timeline(spec: AthleteSpec) -> list[tuple[float, str, int, Pose, Pose]]:
    """Segments (duration, phase, rep, start pose, end pose) of the whole session."""
    preset = PRESETS[spec.preset]
    segments: list[tuple[float, str, int, Pose, Pose]] = []
    stand = Pose()
    segments.append((1.2, "setup", 0, stand, stand))
    previous_top = stand
    for rep in range(1, spec.reps + 1):
        faults = spec.faults.get(rep, {})
        bottom = _bottom_pose(preset.bottom, faults)
        top = _top_pose(faults)
        descent_s = preset.descent_s / max(faults.get("fast_descent", 1.0), 1.0)
        if rep > 1:
            segments.append((preset.setup_s, "setup", rep, previous_top, stand))
        segments.append((descent_s, "descent", rep, stand, bottom))
        segments.append((preset.bottom_hold_s, "bottom", rep, bottom, bottom))
        segments.append((preset.ascent_s, "ascent", rep, bottom, top))
        segments.append((preset.lockout_hold_s, "lockout", rep, top, top))
        previous_top = top
    segments.append((1.0, "setup", spec.reps + 1, previous_top, stand))
    return segments


def _skeleton_world(pose: Pose, height_m: float) -> np.ndarray:
    """33 landmarks (x, y, z) in the world frame for one posture."""
    h = height_m
    out = np.zeros((NUM_LANDMARKS, 3))

    def direction(angle_deg: float) -> np.ndarray:
        a = math.radians(angle_deg)
        return np.array([math.sin(a), math.cos(a), 0.0])

    ankle = np.array([0.0, ANKLE_HEIGHT * h, 0.0])
    knee = ankle + SHANK * h * direction(pose.shin_deg)
    hip = knee + THIGH * h * direction(pose.shin_deg - pose.knee_flexion_deg)
    lumbar_top = hip + LUMBAR * h * direction(pose.trunk_deg + pose.lumbar_flexion_deg)
    thoracic_angle = pose.trunk_deg + pose.lumbar_flexion_deg + pose.thoracic_flexion_deg
    shoulder = lumbar_top + THORACIC * h * direction(thoracic_angle)
    head_angle = thoracic_angle + pose.head_flexion_deg
    neck_top = shoulder + NECK * h * direction(head_angle)
    head_centre = neck_top + 0.5 * HEAD * h * direction(head_angle)
    face_forward = direction(head_angle + 90.0)  # perpendicular to the head's long axis
    elbow = shoulder + np.array([0.0, -UPPER_ARM * h, 0.0])
    wrist = elbow + np.array([0.0, -FOREARM * h, 0.0])
    heel = np.array([-0.25 * FOOT * h, 0.02, 0.0])
    toe = np.array([0.75 * FOOT * h, 0.02, 0.0])

    for side, sign in (("left", -1.0), ("right", 1.0)):
        hip_z = np.array([0.0, 0.0, sign * HIP_WIDTH * h / 2])
        shoulder_z = np.array([0.0, 0.0, sign * SHOULDER_WIDTH * h / 2])
        out[INDEX[f"{side}_hip"]] = hip + hip_z
        out[INDEX[f"{side}_knee"]] = knee + hip_z
        out[INDEX[f"{side}_ankle"]] = ankle + hip_z
        out[INDEX[f"{side}_heel"]] = heel + hip_z
        out[INDEX[f"{side}_foot_index"]] = toe + hip_z
        out[INDEX[f"{side}_shoulder"]] = shoulder + shoulder_z
        out[INDEX[f"{side}_elbow"]] = elbow + shoulder_z
        out[INDEX[f"{side}_wrist"]] = wrist + shoulder_z
        for hand in ("pinky", "index", "thumb"):
            out[INDEX[f"{side}_{hand}"]] = wrist + shoulder_z + np.array([0.0, -0.06, 0.0])
        ear = head_centre - 0.02 * face_forward + np.array([0.0, 0.0, sign * 0.075])
        out[INDEX[f"{side}_ear"]] = ear
        eye = head_centre + 0.08 * face_forward + 0.03 * direction(head_angle)
        for part, dz in (("eye_inner", 0.015), ("eye", 0.032), ("eye_outer", 0.045)):
            out[INDEX[f"{side}_{part}"]] = eye + np.array([0.0, 0.0, sign * dz])
        mouth = head_centre + 0.085 * face_forward - 0.045 * direction(head_angle)
        out[INDEX[f"mouth_{side}"]] = mouth + np.array([0.0, 0.0, sign * 0.025])
    out[INDEX["nose"]] = head_centre + 0.1 * face_forward
    return out


def _hip_flexion(pose: Pose) -> float:
    """Angle between the thigh and the hip-to-shoulder line, 0 when standing."""
    return _trunk_inclination(pose) - (pose.shin_deg - pose.knee_flexion_deg)


def _trunk_inclination(pose: Pose) -> float:
    skeleton = _skeleton_world(pose, 1.0)
    hip = skeleton[INDEX["left_hip"]]
    shoulder = skeleton[INDEX["left_shoulder"]]
    v = shoulder - hip
    return math.degrees(math.atan2(v[0], v[1]))


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
    reps: dict[int, dict] = {}

    starts = np.cumsum([0.0] + [s[0] for s in segments])
    seg = 0
    for i, t in enumerate(times):
        while seg < len(segments) - 1 and t >= starts[seg + 1]:
            seg += 1
        duration, seg_phase, rep, p0, p1 = segments[seg]
        pose = p0.blend(p1, _smooth((t - starts[seg]) / duration))
        world = _skeleton_world(pose, spec.height_m)
        optical = world @ rotation.T + translation
        landmarks[i, :, :3] = optical + rng.normal(0.0, spec.landmark_noise_m, optical.shape)
        landmarks[i, :, 3] = 0.95
        phase.append(seg_phase)
        in_rep = 1 <= rep <= spec.reps and seg_phase != "setup"
        rep_index[i] = rep if in_rep else 0
        trunk[i] = _trunk_inclination(pose)
        hip[i] = _hip_flexion(pose)
        knee[i] = pose.knee_flexion_deg
        if in_rep:
            entry = reps.setdefault(
                rep, {"index": rep, "start_s": float(t), "faults": dict(spec.faults.get(rep, {}))}
            )
            entry["end_s"] = float(t)
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
    )


# The embedded demo session: clean, squat, clean, squat, clean.
DEMO_SPEC = AthleteSpec(
    preset="dowel",
    reps=5,
    faults={2: {"squat": 50.0}, 4: {"squat": 40.0}},
)
