"""The alignment engine: frame metrics -> phase, reps, fault checks and scores.

ROS-free. ``HingeEngine.update`` takes one skeleton frame at a time (time in
seconds, BlazePose landmarks in a metric frame) and returns a
``FrameReport``; when a rep is finished the report carries its
``RepSummary``. A rep is finished a short hold after lockout, so that the
lockout itself (banana back, incomplete lockout) is judged as part of it;
``HingeEngine.finish`` finishes one still in its hold when the stream ends.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from .athlete import FAULT_IDS, PRESETS
from .dowel import NOT_SEEN, BackProfile, DowelMeter, DowelMetrics
from .geometry import (
    METRIC_PARTS,
    SIDE_ON_MAX_DEG,
    FrameAngles,
    facing_direction,
    frame_angles,
    unit_vector,
    view_from_side_deg,
)
from .landmarks import INDEX
from .params import Value, defaults, patient_thresholds, thresholds_for, up_direction

PHASES = ("setup", "descent", "bottom", "ascent", "lockout")
NO_PERSON = "no_person"
MOVING = ("descent", "bottom", "ascent")

# Cue keys: the feedback node's cue table (config/cues.yaml) maps them to words
# in each language; feedback.CUE_PRIORITY orders them (back safety first).
CUE_FOR_FAULT = {
    "rounded_back": "neutral_spine",
    "banana_back": "no_banana_back",
    "no_brace": "ribs_down",
    "squat": "hips_back",
    "hips_rise_first": "chest_with_hips",
    "hips_high": "soft_knees",
    "incomplete_lockout": "finish_tall",
    "toes": "whole_foot_toes",
    "heels": "whole_foot_heels",
    "head_up": "chin_tucked",
    "head_down": "head_in_line",
    "fast_descent": "slow_down",
}

# Score points taken off for a fault at full severity; back safety weighs most.
FAULT_PENALTY: dict[str, float] = {
    "rounded_back": 40.0,
    "banana_back": 30.0,
    "squat": 40.0,
    "head_up": 10.0,
    "head_down": 10.0,
    "toes": 15.0,
    "heels": 15.0,
    "no_brace": 15.0,
    "incomplete_lockout": 20.0,
    "fast_descent": 10.0,
    "hips_rise_first": 30.0,  # the back does the lift
    "hips_high": 20.0,
}
SHALLOW_PENALTY = 10.0

# Head checks must hold this long (or fault_min_duration_s if longer): the ears are small
# landmarks, and BlazePose flicks the head by about 10 deg for a quarter of a second when
# the arms and the dowel pass it (side-on dowel drill, mid-ascent); a head out of line is
# held through most of the rep.
HEAD_MIN_DURATION_S = 0.4

# What each fault means, which thresholds decide it, and when it is judged.
FAULT_DEFINITIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "rounded_back": (
        "flexed (rounded) spine: the upper back's line bends forward against the lower back's "
        "(back-surface profile from depth), relative to standing; it lifts the dowel off the head",
        ("rounded_back_flexion_deg",),
        "descent to ascent; depth, side-on",
    ),
    "banana_back": (
        "lumbar hyperextension at lockout: the chest ends behind the hips",
        ("banana_back_lean_deg",),
        "lockout",
    ),
    "squat": (
        "squatting instead of hinging: knees forward, little hip travel",
        ("squat_knee_flexion_deg", "squat_knee_hip_ratio"),
        "descent to ascent",
    ),
    "head_up": (
        "head cranked up out of line with the spine, relative to setup",
        ("head_up_deg",),
        f"descent to ascent, held {HEAD_MIN_DURATION_S:g} s",
    ),
    "head_down": (
        "head dropped out of line with the spine, relative to setup",
        ("head_down_deg",),
        f"descent to ascent, held {HEAD_MIN_DURATION_S:g} s",
    ),
    "toes": (
        "weight on the toes: centre of mass ahead of mid-foot",
        ("toes_com_offset_mm",),
        "descent to ascent",
    ),
    "heels": (
        "weight on the heels: centre of mass behind mid-foot",
        ("heels_com_offset_mm",),
        "descent to ascent",
    ),
    "no_brace": (
        "not braced, not neutral: an anterior pelvic tilt arches the low back under the dowel",
        ("no_brace_lumbar_hollow_mm",),
        "descent and bottom; depth, side-on",
    ),
    "incomplete_lockout": (
        "hip flexion left at the top (the least over the hold, of its 0.2 s medians): no full hip extension",
        ("incomplete_lockout_hip_flexion_deg",),
        "end of lockout",
    ),
    "fast_descent": (
        "uncontrolled descent: too little time from a fifth to four fifths of the rep's depth",
        ("fast_descent_time_s",),
        "end of the rep",
    ),
    "hips_rise_first": (
        "hips shoot up first: the knees open, the hips rise from their lowest point and the "
        "shoulders lag, so the back goes more horizontal (floor pulls)",
        ("hips_rise_first_lead_mm",),
        "ascent",
    ),
    "hips_high": (
        "stiff-legged pull from the floor: too little knee bend at the bottom",
        ("hips_high_knee_flexion_deg",),
        "ascent (on the knees at the deepest frame)",
    ),
}


def fault_table() -> str:
    """The README's fault table, from the definitions and the threshold schema."""
    from .cues import load_languages
    from .params import THRESHOLDS

    words = load_languages()["en"]
    by_name = {t.name: t for t in THRESHOLDS}
    rows = [
        "| id | definition | judged | default threshold | source | cue (en) |",
        "|---|---|---|---|---|---|",
    ]
    for fault_id, (definition, names, when) in FAULT_DEFINITIONS.items():
        limits = "; ".join(f"`{n}` = {by_name[n].default:g}" for n in names) or "not measurable yet"
        sources = "; ".join(dict.fromkeys(by_name[n].source for n in names)) or "-"
        rows.append(
            f"| `{fault_id}` | {definition} | {when} | {limits} | {sources} | "
            f'"{words.text(CUE_FOR_FAULT[fault_id])}" |'
        )
    return "\n".join(rows) + "\n"


# The body parts each skeleton check reads: those of the metrics it judges
# (``geometry.METRIC_PARTS``). On a frame where one of them was placed by BlazePose's model
# rather than seen (side-on to a deadlift the near plate hides the knees and, at the top, the
# hips), the check is not measured there: never judged on a guess.
_HIP_ANGLE = METRIC_PARTS["hip_flexion_deg"]
_LEGS = _HIP_ANGLE | METRIC_PARTS["knee_flexion_deg"]
_BACK = frozenset({"shoulder", "hip"})  # the back-surface profile is cut between them
CHECK_PARTS: dict[str, frozenset[str]] = {
    "squat": _LEGS,
    "hips_high": _LEGS,
    "toes": METRIC_PARTS["com_offset_mm"],  # the centre of mass over mid-foot
    "heels": METRIC_PARTS["com_offset_mm"],
    # The heights of the hips and shoulders over mid-foot.
    "hips_rise_first": METRIC_PARTS["hip_height_m"] | METRIC_PARTS["shoulder_height_m"],
    "banana_back": METRIC_PARTS["trunk_near_side_deg"],
    "incomplete_lockout": _HIP_ANGLE,
    "fast_descent": _HIP_ANGLE,  # the descent's time on the frames seen, if most of them were
    "head_up": METRIC_PARTS["head_neck_deg"],
    "head_down": METRIC_PARTS["head_neck_deg"],
    "rounded_back": _BACK,
    "no_brace": _BACK,
}
# Checks of a pull from the floor only: the dowel drill has no load to break off the floor,
# so it has no hips-first or stiff-legged start to judge. An exercise without them neither
# judges nor reports them, and a rep does not list them as measured or not measurable.
FLOOR_PULL_CHECKS = frozenset({"hips_rise_first", "hips_high"})


def checks_for(exercise: str) -> tuple[str, ...]:
    """The fault checks of an exercise profile, in FAULT_IDS order."""
    from_floor = PRESETS[exercise].from_floor
    return tuple(f for f in FAULT_IDS if from_floor or f not in FLOOR_PULL_CHECKS)


# The standing baselines each check is judged against, and so the parts they read.
BASELINE_PARTS = {
    "head_neck": CHECK_PARTS["head_up"],
    "trunk": CHECK_PARTS["banana_back"],
    "spine_bend": CHECK_PARTS["rounded_back"],
}

# How the camera sees the person, over the last few seconds with a person in view: for the
# installer (the alignment node's diagnostics), not for the checks.
PLACEMENT_WINDOW_S = 3.0
LEGS_HIDDEN_FRACTION = 0.5  # legs placed, not seen, on more than this share of the frames


@dataclass(frozen=True)
class Placement:
    level: str  # "ok" or "warn"
    message: str
    view_from_side_deg: float  # median over the window; NaN without depth
    legs_seen_fraction: float  # frames with hips, knees and ankles seen (NaN: nobody in view)


class CameraView:
    """The view from side-on and whether the legs are seen, over the last few seconds."""

    def __init__(self) -> None:
        self._frames: deque[tuple[float, float, bool]] = deque()  # (time, view deg, legs seen)

    def clear(self) -> None:
        self._frames.clear()

    def update(self, t: float, view_deg: float, legs_seen: bool) -> None:
        # The last few seconds only; a clock that went back (a recording played again) drops
        # them all.
        while self._frames and not 0.0 <= t - self._frames[0][0] <= PLACEMENT_WINDOW_S:
            self._frames.popleft()
        self._frames.append((t, view_deg, legs_seen))

    def view_from_side_deg(self) -> float:
        """The median view over the window; NaN without depth (or nobody in view)."""
        finite = [v for _, v, _ in self._frames if math.isfinite(v)]
        return float(np.median(finite)) if finite else math.nan

    def oblique(self) -> bool:
        """Set up obliquely: the view over the window is off side-on by more than SIDE_ON_MAX_DEG."""
        return self.view_from_side_deg() > SIDE_ON_MAX_DEG

    def legs_seen_fraction(self) -> float:
        """The share of the window's frames with hips, knees and ankles seen; NaN: nobody in view."""
        if not self._frames:
            return math.nan
        return sum(seen for _, _, seen in self._frames) / len(self._frames)

    def placement(self) -> Placement:
        if not self._frames:
            return Placement("ok", "no person in view yet", math.nan, math.nan)
        seen = self.legs_seen_fraction()
        view = self.view_from_side_deg()
        if seen < 1.0 - LEGS_HIDDEN_FRACTION:
            return Placement(
                "warn",
                f"legs hidden on {100 * (1 - seen):.0f}% of frames (something between them and the "
                "camera): the leg checks are not measured; side-on to a deadlift the plates hide "
                "them, put the camera at 45 deg",
                view,
                seen,
            )
        if not math.isfinite(view):
            return Placement("ok", "no depth: the back-surface checks are not measured", view, seen)
        if view > SIDE_ON_MAX_DEG:
            return Placement(
                "ok",
                f"camera {view:.0f} deg from side-on: the back-surface checks and the dowel need under "
                f"{SIDE_ON_MAX_DEG:.0f} deg",
                view,
                seen,
            )
        return Placement("ok", f"side-on ({view:.0f} deg): every check can be judged", view, seen)


# rounded_back and no_brace need the back-surface profile from depth; without it they are
# reported as not measurable, never guessed from the skeleton.
# The spine's bend and the lumbar hollow are judged only side-on (geometry.SIDE_ON_MAX_DEG):
# obliquely the back's rim seen by the camera is not its midline.
# Judged once on the whole rep when it ends, not frame by frame: measured if their value was.
REP_CHECKS = ("fast_descent", "incomplete_lockout")
# Checks a rep counts as measured only after this many frames where they were judged
# (measured where they apply), not on any frame measured: the back-surface checks 0.2 s at
# 30 fps, long enough to be raised (at 45 deg a few frames read side-on, in the setup or
# 1-3% of the descent); the lean at lockout on one lockout frame (it is also measurable
# on the way down, where it says nothing of the lockout).
JUDGED_FRAMES_FOR_REP = {"rounded_back": 6, "no_brace": 6, "banana_back": 1}

# Hips shooting up is brief by nature (the first instants of the ascent), and the lead is taken
# on heights averaged over HIPS_FIRST_SMOOTH_S already, so one frame's glitch moves it by a
# sixth: the hold needs only to outlast a frame or two. With 0.1 s a 30 mm lead (threshold 25)
# read 26 mm for 3 frames and was missed, and so was the rendered box lift at 45 deg's 50 mm
# lead (35-39 mm for 3 frames); clean reps of the rendered sweep never read over 19 mm.
HIPS_FIRST_MIN_S = 0.05
# Hip and shoulder heights are averaged over this long before the hips-first lead is taken:
# with 4 mm landmark noise a single frame's lead jitters by about 4 mm, and the hips' lowest
# point picked from raw frames is biased low by that noise, which reads as a lead on clean reps.
HIPS_FIRST_SMOOTH_S = 0.2
HIPS_FIRST_MIN_RISE_MM = 10.0  # the hips must be rising (2-3 times the smoothed height noise)
LOCKOUT_HOLD_S = 0.5  # lockout is judged over this long after standing tall
# A rep's top (its incomplete_lockout) is taken on the hip angle's median over this long:
# the minimum over raw frames took a glitch. Holding a box at 45 deg, BlazePose threw the
# near hip 12-15 cm forward for 6 frames while the person stood still at 26 deg, and the
# minimum (7 deg) made an incomplete lockout read complete.
HIP_STEADY_S = 0.2
# Stopped rising this long near the top: the rep ends there (incomplete lockout). Judged on
# the hip's least-squares slope over this window, not on the frame-to-frame speed: live
# landmarks jitter by 2-3 deg a frame, so a held top never read still for 0.3 s on end.
TOP_STALL_S = 0.3
# A slow rep has stopped when it moves at under this share of its own speed in that direction,
# not under ``bottom_speed_dps``: a rehab patient's ascent over 5 s peaks near 25 deg/s, so its
# top, and a slow descent's middle, read as stopped (the synthetic athlete at a quarter tempo:
# clean reps read incomplete_lockout, and the hips "rose first" and sat high from a bottom
# taken mid-descent). The rep's speed is the 75th percentile of its 0.3 s slopes so far, 92% of
# the peak on a smooth rep; the fastest slope took jitter's largest (with 1 cm of raw landmark
# jitter at a quarter tempo, clean reps still read incomplete). Such a rep's phases are judged
# on the slope: the frame-to-frame speed's noise (about 20 deg/s with 4 mm of landmark jitter)
# is larger than its stop speed. A rep at the usual pace (its speed over about 80 deg/s) stops
# at ``bottom_speed_dps`` on the frame speed, as before.
STALL_FRACTION = 0.3
STALL_MIN_DPS = 5.0  # the 0.3 s slope's noise on a still person is a few deg/s
REP_SPEED_SAMPLES = 1200  # a rep's slopes kept for its speed: 20 s at 60 fps
TURN_DOWN_FRAMES = 2  # in the ascent, going down this many frames on end is a turn down
REP_HIPS_S = 20.0  # a rep's hip samples (for its descent time) are kept this long
# A descent that dips back toward standing and goes on within this long is one rep: BlazePose
# throws the hips up for 2-4 frames now and then (the rendered box lift at 45 deg, slow).
DIP_GRACE_S = 0.3
NEAR_TOP_FRACTION = 0.4  # "near the top": hip flexion below this share of the rep's deepest
SETUP_BASELINE_S = 0.5  # standing still this long in setup gives the posture baselines
BASELINE_FRAMES = 60  # the baselines are medians over the last 2 s of standing still
# fast_descent is judged on the descent's time from a fifth to four fifths of its depth
# (hip flexion), not on its peak speed. Time does not scale with the angle: BlazePose
# lags the start of a hinge and catches up (on the rendered deadlift at 45 deg the
# measured hip flexion then moves 30% faster than the true one, and a clean rep's peak
# speed read as high as a twice-as-fast rep's), while the depth's fifths are crossed at
# nearly the right moments. The ends of a descent are left out: its start and its
# approach to the bottom are slow and noisy. And landmark noise biases a peak speed up,
# not a crossing time.
DESCENT_LOW_FRACTION, DESCENT_HIGH_FRACTION = 0.2, 0.8
DESCENT_MIN_SEEN_FRACTION = 0.5
DESCENT_END_GAP_S = 0.2  # a descent's last sample this long before the next: its end not seen
THROWN_MAX_FRAMES = 5  # a descent's timing rides out the hips thrown back this many frames
# A rep on placed legs with at most this share of its descent seen was made up by the pose
# model where the camera sees the legs (_made_up_by_the_model).
MADE_UP_MAX_SEEN_FRACTION = 0.2
# A rep's count of its descent's samples and frames (see _check_faults).
DESCENT_COUNTS = ("descent_end", "descent_frames", "descent_frames_seen")


@dataclass
class FaultStatus:
    fault_id: str
    active: bool
    measurable: bool
    value: float  # the checked metric now
    severity: float  # 0-1, how far past the threshold


@dataclass
class RepSummary:
    index: int
    start_s: float
    end_s: float  # when the person stood tall again
    peak_hip_flexion_deg: float
    peak_trunk_inclination_deg: float
    peak_knee_flexion_deg: float
    faults: dict[str, float]  # id -> severity 0-1
    score: float
    score_breakdown: dict[str, float]  # what was taken off, in points
    not_measurable: list[str] = field(default_factory=list)  # checks this input could not support

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class FrameReport:
    time_s: float
    person: bool
    phase: str
    rep_count: int
    angles: FrameAngles | None  # measured only: NaN where drawn through a placed joint
    faults: dict[str, FaultStatus] = field(default_factory=dict)
    completed_rep: RepSummary | None = None
    dowel: DowelMetrics = NOT_SEEN  # from the back profile, median of recent frames; NaN without depth
    # How far the camera is turned from side-on (0) toward facing the person (90), from the
    # depth-lifted hips and shoulders; NaN without depth. For aiming the camera: the
    # back-surface checks are judged within SIDE_ON_MAX_DEG.
    view_from_side_deg: float = math.nan

    @property
    def active_faults(self) -> list[str]:
        return [f for f, s in self.faults.items() if s.active]


class UpFromFeet:
    """Gravity-up from the floor plane that the heels and toes lie on.

    While the person stands, foot landmarks are collected; the plane through
    them (least squares over many frames) gives the floor normal. Feet stay
    planted through a hinge, so a second of standing is enough.
    """

    FEET = ("left_heel", "right_heel", "left_foot_index", "right_foot_index")

    def __init__(self, fallback: np.ndarray, frames_needed: int = 20) -> None:
        self.fallback = fallback  # unit up until the feet give one (params.up_direction)
        self.frames_needed = frames_needed
        self._points: deque[np.ndarray] = deque(maxlen=400)
        self._frames = 0
        self.up: np.ndarray | None = None

    def update(self, lm: np.ndarray) -> np.ndarray:
        if self.up is None:
            rows = lm[[INDEX[n] for n in self.FEET]]
            if (rows[:, 3] > 0.3).all() and np.isfinite(rows[:, :3]).all():
                self._points.extend(rows[:, :3])
                self._frames += 1
            if self._frames >= self.frames_needed:
                self.up = self._fit(lm)
                if self.up is None:
                    self._frames = 0
                    self._points.clear()
        return self.up if self.up is not None else self.fallback

    def _fit(self, lm: np.ndarray) -> np.ndarray | None:
        pts = np.array(self._points)
        centre = pts.mean(axis=0)
        _, s, vt = np.linalg.svd(pts - centre)
        # Degenerate when the feet are seen as a line (one foot hidden behind the other).
        if not (s[1] > 5.0 * s[2] and s[1] > 1e-3 * math.sqrt(len(pts))):
            return None
        normal = vt[2]
        head_side = lm[INDEX["left_shoulder"], :3] - centre
        if not np.isfinite(head_side).all():
            head_side = lm[INDEX["right_shoulder"], :3] - centre
        if not np.isfinite(head_side).all():
            return None
        return -normal if normal @ head_side < 0 else normal


class SteadyFacing:
    """The way the person faces, held steady: the feet stay planted through a set.

    A frame's facing (from its feet) joins a slow average when it agrees with
    it; a frame that disagrees is set aside (BlazePose swapping the feet for a
    few frames, or guessing a hidden one, turns a frame's facing by 30-50 deg
    on the rendered athlete) unless the disagreement lasts: then the person
    has turned, and the new facing is taken.
    """

    AGREE_DEG = 20.0
    TURN_S = 1.0
    # A frame whose feet face further than this from the held facing is turned away: BlazePose's
    # glitches turn a frame's facing by 30-50 deg (the rendered athlete), a person turning to
    # the camera or away by 90 or 180. Its angles, read in the held sagittal plane, are no hinge
    # (turning 90 deg mid-descent read the hips as standing tall: the rep was closed half-way
    # and the rest counted as a second, fast rep).
    TURNED_AWAY_DEG = 60.0
    BLEND = 0.01  # least share of a new frame in the average (about 3 s of memory at 30 fps)

    def __init__(self) -> None:
        self.facing: np.ndarray | None = None
        self._disagree_since: float | None = None
        self._frames = 0
        self.turns = 0  # how often a lasting disagreement replaced the facing

    def reset(self) -> None:
        self.facing, self._disagree_since, self._frames = None, None, 0

    def turned_away(self, facing_now: np.ndarray | None) -> bool:
        """Whether a frame's facing lies over TURNED_AWAY_DEG off the held one."""
        if facing_now is None or self.facing is None:
            return False
        return float(facing_now @ self.facing) < math.cos(math.radians(self.TURNED_AWAY_DEG))

    def update(self, t: float, facing_now: np.ndarray | None) -> np.ndarray | None:
        if facing_now is None:
            return self.facing
        if self.facing is None:
            self.facing, self._frames = facing_now, 1
        elif float(facing_now @ self.facing) >= math.cos(math.radians(self.AGREE_DEG)):
            # A plain mean of the first frames (settles fast), then a slow average.
            self._frames += 1
            share = max(1.0 / self._frames, self.BLEND)
            blended = (1.0 - share) * self.facing + share * facing_now
            self.facing = blended / np.linalg.norm(blended)
            self._disagree_since = None
        elif self._disagree_since is None:
            self._disagree_since = t
        elif t - self._disagree_since >= self.TURN_S:
            self.facing, self._disagree_since, self._frames = facing_now, None, 1
            self.turns += 1
        return self.facing


class FaultCheck:
    """One fault's state: hysteresis by separate raise and clear conditions, and a minimum duration."""

    def __init__(self, fault_id: str) -> None:
        self.fault_id = fault_id
        self.active = False
        self._pending_since: float | None = None

    def update(self, t: float, raise_now: bool, clear_now: bool, min_duration_s: float) -> bool:
        if self.active:
            if clear_now:
                self.active = False
                self._pending_since = None
        elif raise_now:
            if self._pending_since is None:
                self._pending_since = t
            if t - self._pending_since >= min_duration_s:
                self.active = True
        else:
            self._pending_since = None
        return self.active

    def reset(self) -> None:
        self.active = False
        self._pending_since = None


def _median_of_3(values: np.ndarray) -> np.ndarray:
    """Each inner sample's median with its two neighbours (the ends have none: left out).
    One frame of BlazePose throwing the hips 20 deg does not survive it."""
    return np.median([values[:-2], values[1:-1], values[2:]], axis=0)


def descent_time_s(
    times_s: np.ndarray,
    hip_deg: np.ndarray,
    standing_hip_deg: float,
    low: float = DESCENT_LOW_FRACTION,
    high: float = DESCENT_HIGH_FRACTION,
) -> float:
    """Time (s) the hip flexion took to rise from ``low`` to ``high`` of the descent's depth.

    The samples run up to the end of the descent (the bottom). The depth runs from
    ``standing_hip_deg`` to where the descent ended (the median of its last 3 samples), not
    to its highest sample: BlazePose now and then throws the hips 30-40 deg too deep for a
    few frames on the way down (a box at 45 deg), and such a spike is no bottom. Each
    level's crossing is the last one before the end, interpolated between frames, so a
    wobble while standing or a spike on the way does not count; at the low level, not after
    the hips were thrown back below it for at most THROWN_MAX_FRAMES (a pose model's, not a
    person's: one who goes back below a fifth of the depth stays longer). NaN with fewer than 3
    samples, or when the series never stood below the low level or ends below the high one.
    """
    finite = np.isfinite(hip_deg) & np.isfinite(times_s)
    times_s, hip_deg = times_s[finite], hip_deg[finite]
    if len(hip_deg) < 3 or not math.isfinite(standing_hip_deg):
        return math.nan
    depth = float(np.median(hip_deg[-3:])) - standing_hip_deg
    # A 3-frame median: one frame's glitch (BlazePose drops the hips by 20 deg for a frame
    # now and then) would otherwise be the last crossing of a level.
    hip_deg = np.concatenate([hip_deg[:1], _median_of_3(hip_deg), hip_deg[-1:]])
    if depth <= 0.0:
        return math.nan

    def crossing(fraction: float, ride_out_throws: bool) -> float:
        level = standing_hip_deg + fraction * depth
        below = hip_deg < level
        # Runs of samples below the level: the last is where the descent crossed it for good.
        # At the low level, not a run of a few frames after an earlier one: BlazePose throwing
        # the hips back up for 4-5 frames half-way down put the last crossing after them, and
        # the descent read fast from there. Passing over such a run can only lengthen the
        # time (no false fast descent); at the high level it would shorten it (after a spike
        # too deep, the path below the level until the real crossing is such a run).
        edges = np.flatnonzero(np.diff(np.concatenate([[0], below.astype(np.int8), [0]])))
        runs = list(zip(edges[::2], edges[1::2]))
        while ride_out_throws and len(runs) > 1 and runs[-1][1] - runs[-1][0] <= THROWN_MAX_FRAMES:
            runs.pop()
        if not runs or runs[-1][1] == len(hip_deg):
            return math.nan
        j = runs[-1][1] - 1  # the last sample below the level; the next one is at or above it
        h0, h1 = hip_deg[j], hip_deg[j + 1]
        return float(times_s[j] + (level - h0) / (h1 - h0) * (times_s[j + 1] - times_s[j]))

    return crossing(high, ride_out_throws=False) - crossing(low, ride_out_throws=True)


def _rep_descent_time_s(rep: dict | None) -> float:
    """A rep's descent time from a fifth to four fifths of its depth (s), cached on the rep."""
    if rep is None:
        return math.nan
    end, hips = rep["descent_end"], rep["hips"]
    next_s = hips[end][0] if len(hips) > end else None  # the first sample after the descent
    key = (end, hips[0][0] if hips else None, next_s)
    if rep.get("descent_time", (None,))[0] != key:
        samples = np.array(list(itertools.islice(hips, end)), dtype=float).reshape(-1, 2)
        time_s = descent_time_s(samples[:, 0], samples[:, 1], rep["standing_hip"])
        # Not timed on a hip angle that was mostly a guess (the hips or knees placed, not seen).
        frames, seen = rep["descent_frames"], rep["descent_frames_seen"]
        mostly_seen = frames > 0 and seen >= DESCENT_MIN_SEEN_FRACTION * frames
        # Nor on a descent whose end was not seen: turned away half-way down and back at the
        # bottom, the samples stop half-way, and the time to four fifths of that half read
        # 0.31-0.32 s (fast_descent on a controlled rep, at the threshold's edge).
        end_seen = next_s is None or len(samples) == 0 or next_s - samples[-1, 0] <= DESCENT_END_GAP_S
        rep["descent_time"] = (key, time_s if mostly_seen and end_seen else math.nan)
    return rep["descent_time"][1]


def _made_up_by_the_model(rep: dict) -> bool:
    """A rep on placed legs where the camera sees them: not counted.

    Side-on to a deadlift the plates hide the legs for good, and the reps are counted on the
    pose model's placed joints. Where the legs were seen over the last seconds, a rep whose
    descent and depth were both placed was BlazePose losing them for a moment: holding a box
    still at an incomplete top (the rendered box lift at 45 deg at a third of its pace), the
    placed legs read a 1.2-1.5 s rep (1-2 of 13-19 descent frames seen). Over the sweep, the
    reps with their depth placed are the deadlift side-on's, legs seen on at most 9% of the
    frames before them; the made-up ones 98-99%. A rep with its descent seen and only its
    bottom hidden (someone passing in front) is kept: with the legs placed beyond half its
    depth, 7 of its 25 descent frames were seen.
    """
    frames, seen = rep["descent_frames"], rep["descent_frames_seen"]
    return (
        not rep["peak_seen"].get("hip")
        and seen <= MADE_UP_MAX_SEEN_FRACTION * frames
        and rep["legs_seen_before"] > 1.0 - LEGS_HIDDEN_FRACTION  # NaN: nobody was in view
    )


def _severity(value: float, limit: float, span: float) -> float:
    """0 at the threshold, 1 at ``span`` beyond it (0.25 as soon as it is raised)."""
    return float(np.clip(0.25 + 0.75 * (value - limit) / span, 0.0, 1.0))


@dataclass
class Evaluation:
    """One check on one frame: is it measurable, the metric, raise / clear conditions, severity."""

    measurable: bool
    value: float = math.nan
    raise_now: bool = False
    clear_now: bool = True
    severity: float = 0.0


def _above(value: float, limit: float, margin: float, span: float) -> Evaluation:
    if not math.isfinite(value):
        return Evaluation(False)
    return Evaluation(True, value, value > limit, value < limit - margin, _severity(value, limit, span))


def _below(value: float, limit: float, margin: float, span: float) -> Evaluation:
    """The check of a value that must not fall below ``limit``; the value is reported as it is."""
    if not math.isfinite(value):
        return Evaluation(False)
    return Evaluation(True, value, value < limit, value > limit + margin, _severity(-value, -limit, span))


class HingeEngine:
    def __init__(self, params: dict[str, Value] | None = None) -> None:
        self.p: dict[str, Value] = {**defaults("alignment_node"), **(params or {})}
        self._patient_thresholds = patient_thresholds(str(self.p["patient_profile"]))
        self.thresholds = thresholds_for(str(self.p["exercise"]), self._patient_thresholds)
        self.fixed_up = up_direction(self.p["up_vector"])
        self.up = UpFromFeet(self.fixed_up) if self.p["up_source"] != "fixed" else None
        self._floor_up: np.ndarray | None = None
        self.phase = "setup"
        self.rep_count = 0
        self.checks = {f: FaultCheck(f) for f in FAULT_IDS}
        self._last_seen_s: float | None = None
        self._prev: tuple[float, float] | None = None  # (time, hip flexion)
        self._speed_dps = 0.0
        self._going_down_frames = 0  # frames on end with the hips going down (flexing)
        self._recent_hip: deque[tuple[float, float]] = deque(maxlen=64)  # (time, hip flexion)
        self.facing = SteadyFacing()
        self._standing_hip_deg = math.inf  # the standing posture's hip flexion
        self._stood_tall = False  # since the person appeared: hips under lockout_hip_flexion_deg
        self._baseline: dict[str, deque[float]] = {
            "head_neck": deque(maxlen=BASELINE_FRAMES),
            "trunk": deque(maxlen=BASELINE_FRAMES),
            "spine_bend": deque(maxlen=BASELINE_FRAMES),
        }
        self._spine_bend_deg = math.nan  # this frame's, side-on with depth only
        self._lumbar_hollow_mm = math.nan  # likewise
        self._standing_since: float | None = None
        self._parts_seen_since: dict[str, float | None] = {}  # per baseline: its parts seen on end since
        self._rep: dict | None = None
        self._dipped: tuple[float, dict | None] = (math.nan, None)  # (when, rep) of the last dip
        self._finishing: dict | None = None  # a rep in its lockout hold
        self._dowel = DowelMeter()
        self.camera_view = CameraView()

    @property
    def exercise_checks(self) -> tuple[str, ...]:
        """The checks this exercise is judged on (``checks_for``)."""
        return checks_for(str(self.p["exercise"]))

    def placement(self) -> Placement:
        """How the camera sees the person lately: legs hidden, how far from side-on."""
        return self.camera_view.placement()

    def set_params(self, params: dict[str, Value]) -> None:
        """Apply validated parameter changes at run time; ParameterError (nothing changed) for an
        up vector without a direction or a patient profile that does not load."""
        fixed_up = up_direction(params.get("up_vector", self.p["up_vector"]))
        if "patient_profile" in params:
            # Read when it is set (and checked), first: a file that cannot be read changes
            # nothing, and one removed later does not block a change of the exercise.
            self._patient_thresholds = patient_thresholds(str(params["patient_profile"]))
        self.p.update(params)
        if "exercise" in params:
            for fault_id in set(FAULT_IDS) - set(self.exercise_checks):
                self.checks[fault_id].reset()  # not judged from now on: none may stay raised
        if "exercise" in params or "patient_profile" in params:
            self.thresholds = thresholds_for(str(self.p["exercise"]), self._patient_thresholds)
        self.fixed_up = fixed_up
        if "up_source" in params or "up_vector" in params:
            self.up = UpFromFeet(self.fixed_up) if self.p["up_source"] != "fixed" else None

    # -- frame update --------------------------------------------------------

    def update(
        self,
        t: float,
        landmarks: np.ndarray,
        back: BackProfile | None = None,
        floor_up: np.ndarray | None = None,
    ) -> FrameReport:
        """One frame: landmarks (33, 4) and, with depth, the back-surface profile and the floor's
        up vector measured in the same frame."""
        lm = np.asarray(landmarks, dtype=float)
        if lm.shape != (33, 4):
            raise ValueError(f"landmarks must be (33, 4), got {lm.shape}")
        left = None
        timeout_s = float(self.p["person_timeout_s"])
        if self._last_seen_s is not None and self._last_seen_s - timeout_s <= t < self._last_seen_s:
            # Older than a frame already used, but by less than the timeout: delivered late
            # (out of order). Not used: the rep goes on from the frames in their order.
            return FrameReport(t, True, self.phase, self.rep_count, None, self._unmeasured(), None)
        if self._last_seen_s is not None and abs(t - self._last_seen_s) > timeout_s:
            # Nobody seen for longer than the timeout, though no frame came in between (the
            # camera stalled); or the clock went back further than that (a recording started
            # again): this frame starts afresh, as when the person left, not inside a rep of
            # another time.
            left = self._person_left()
        up = self._gravity(lm, floor_up)
        turns = self.facing.turns
        facing_now = facing_direction(lm, up)
        turned_away = self.facing.turned_away(facing_now)
        a = frame_angles(lm, up, self.facing.update(t, facing_now))
        if self.facing.turns != turns:
            # The facing was replaced (a first frame's facing from a guessed foot, or the
            # person turned): the signed sagittal baselines taken in the old one are wrong.
            for values in self._baseline.values():
                values.clear()
        if a is None or not math.isfinite(a.hip_flexion_deg):
            return self._no_person(t, left)
        if turned_away:
            # There, but turned away (to the camera, or round): not measured until the new
            # facing is taken (SteadyFacing.TURN_S), and the rep goes on from there. A first
            # facing from a guessed foot is put right the same way, its rep kept.
            self._last_seen_s = t
            return FrameReport(t, True, self.phase, self.rep_count, None, self._unmeasured(), left)
        self._last_seen_s = t
        hip = a.hip_flexion_deg
        if self._prev is not None and t > self._prev[0]:
            raw = (hip - self._prev[1]) / (t - self._prev[0])
            self._speed_dps = 0.6 * self._speed_dps + 0.4 * raw  # light smoothing of landmark noise
        going_down = self._speed_dps > self.p["bottom_speed_dps"]
        self._going_down_frames = self._going_down_frames + 1 if going_down else 0
        self._prev = (t, hip)
        self._recent_hip.append((t, hip))
        # The back profile is cut between the shoulders and the hips: where one was placed
        # (side-on to a deadlift the plates hide the hips standing) its ends are guesses.
        profile_seen = CHECK_PARTS["rounded_back"] <= a.seen
        # An RGB-only skeleton lies on the sagittal plane: its hips and shoulders give no view.
        view_deg = view_from_side_deg(lm, up) if back is not None and back.from_depth else math.nan
        self.camera_view.update(t, view_deg, _LEGS <= a.seen)
        # Seen obliquely the back's rim is not its midline: on the rendered sessions at 45 deg
        # the gaps read 30-200 mm off. A camera set obliquely (the view over the last seconds:
        # at 45 deg a few frames read side-on) gets no back-surface measure, not a guess, and
        # the meter is not run on that rim; side-on, the checks also skip a frame that reads
        # oblique.
        oblique = self.camera_view.oblique()
        dowel = self._dowel.update(back if profile_seen and not oblique else None, up, a.facing)
        if oblique:
            dowel = NOT_SEEN  # the meter's recent frames may still hold side-on ones
        side_on = view_deg <= SIDE_ON_MAX_DEG
        self._spine_bend_deg = dowel.spine_bend_deg if side_on else math.nan
        self._lumbar_hollow_mm = 1000.0 * dowel.lumbar_hollow_m if side_on else math.nan
        self._track_standing(t, a)
        completed = self._step_phase(t, a) or left  # none after a reset: no rep is open then
        faults, judged = self._check_faults(t, a)
        for target in (self._rep, self._finishing):
            if target is not None:
                self._track_rep(target, a, faults, judged)
        if (
            completed is None
            and self._finishing is not None
            and t - self._finishing["end_s"] >= LOCKOUT_HOLD_S
        ):
            completed = self._finish_rep()
        measured = a.measured()  # the report carries no guess
        return FrameReport(t, True, self.phase, self.rep_count, measured, faults, completed, dowel, view_deg)

    def _gravity(self, lm: np.ndarray, floor_up: np.ndarray | None) -> np.ndarray:
        """Up from the depth floor plane (smoothed), else from the feet, else the given vector."""
        if self.p["up_source"] == "fixed":
            return self.fixed_up
        # A failed fit (NaN, or a zero vector) has no direction: the average keeps its own.
        unit = unit_vector(floor_up) if floor_up is not None else None  # a new array: the caller's stays
        if unit is not None:
            # The floor does not move: a slow average removes the fit's frame-to-frame noise.
            if self._floor_up is None:
                self._floor_up = unit
            else:
                blended = 0.9 * self._floor_up + 0.1 * unit
                self._floor_up = blended / np.linalg.norm(blended)
        if self._floor_up is not None and self.p["up_source"] == "floor":
            return self._floor_up
        return self.up.update(lm) if self.up is not None else self.fixed_up

    def _no_person(self, t: float, completed: RepSummary | None) -> FrameReport:
        """A frame without a usable skeleton; ``completed``: the rep that update's reset finished."""
        if self._last_seen_s is None:
            # Nobody seen since the person left (``update``), or yet: nothing of these frames is kept.
            self._person_left()
            return FrameReport(t, False, NO_PERSON, self.rep_count, None, self._unmeasured(), completed)
        return FrameReport(t, True, self.phase, self.rep_count, None, self._unmeasured(), completed)

    def _person_left(self) -> RepSummary | None:
        """The person left: finish a rep that already stood tall (returned), drop one in progress,
        and forget the standing baselines; the next frame with a person starts afresh."""
        completed = self._finish_rep() if self._finishing is not None else None
        self._last_seen_s = None
        self._rep = None
        self._dipped = (math.nan, None)
        self.phase = "setup"
        self._prev = None
        self._going_down_frames = 0
        self._recent_hip.clear()
        self.facing.reset()
        self.camera_view.clear()
        self._standing_hip_deg = math.inf
        self._stood_tall = False
        for values in self._baseline.values():
            values.clear()
        self._standing_since = None
        self._parts_seen_since.clear()
        self._dowel.reset()
        for check in self.checks.values():
            check.reset()
        return completed

    def finish(self) -> RepSummary | None:
        """The stream has ended: as when the person leaves, a rep in its lockout hold is
        finished and returned (a clip may end before the hold does), one in progress dropped."""
        return self._person_left()

    def _track_standing(self, t: float, a: FrameAngles) -> None:
        """Baselines of the person's own standing posture: hip flexion, head carriage, trunk.

        Head and trunk are judged against them, so a landmark's definition
        offset (the ear is not the head's axis) and a person's build cancel out.
        Taken in setup only: a faulty lockout must not become the reference.
        """
        for key, parts in BASELINE_PARTS.items():
            since = self._parts_seen_since.get(key)
            self._parts_seen_since[key] = (since if since is not None else t) if parts <= a.seen else None
        if self.phase not in ("setup", "lockout"):
            self._standing_since = None
            return
        # On the hip's median over HIP_STEADY_S, not a frame's: the live filter's lead
        # overshoots where a fast ascent stops, and a frame reading 20 deg back put the next
        # rep's start that much too low (the standing hip read as a descent, and a banana back
        # went unjudged).
        self._standing_hip_deg = min(self._standing_hip_deg, self._steady_hip_deg())
        # Standing tall: a slow patient holds an incomplete top, and later stands up from it,
        # for seconds under bottom_speed_dps (the synthetic athlete at a quarter to a third of
        # its pace: a trunk baseline taken there, 20 deg forward, read the next clean lockout
        # as a banana back).
        tall = a.hip_flexion_deg < float(self.p["lockout_hip_flexion_deg"])
        if self.phase == "setup" and tall and abs(self._speed_dps) < float(self.p["bottom_speed_dps"]):
            self._standing_since = self._standing_since if self._standing_since is not None else t
            if t - self._standing_since >= SETUP_BASELINE_S:
                for key, value in (
                    ("head_neck", a.head_neck_deg),
                    ("trunk", a.trunk_near_side_deg),
                    ("spine_bend", self._spine_bend_deg),
                ):
                    # Side-on to a deadlift the plates hide the hips while the person
                    # stands: the back profile cut at a placed hip reads 20-27 deg bent, and
                    # as the reference it made every hinge a rounded back. And BlazePose
                    # "sees" a hidden hip now and then for a few frames: a head baseline
                    # taken on such frames made 12 reps of the rendered session read 12-19
                    # deg head up. The parts must have been seen for SETUP_BASELINE_S on end.
                    seen_since = self._parts_seen_since[key]
                    if math.isfinite(value) and seen_since is not None and t - seen_since >= SETUP_BASELINE_S:
                        self._baseline[key].append(value)
        else:
            self._standing_since = None

    def _steady_hip_deg(self) -> float:
        """The hip angle's median over the last HIP_STEADY_S (this frame's included)."""
        now = self._recent_hip[-1][0]
        return float(np.median([hip for t, hip in self._recent_hip if now - t <= HIP_STEADY_S]))

    def _baseline_of(self, key: str) -> float:
        values = self._baseline[key]
        return float(np.median(values)) if len(values) >= 5 else math.nan

    # -- phases and reps -----------------------------------------------------

    def _rep_speed_dps(self, slope: float) -> tuple[float, float, float]:
        """This frame's hip speed for the descent's and the bottom's phase changes, the speed
        under which the descent has stopped, and the one under which the ascent has
        (``STALL_FRACTION`` of the rep's own speed in each direction so far); ``slope``: this
        frame's hip slope over ``TOP_STALL_S``.
        """
        rep, usual = self._rep, float(self.p["bottom_speed_dps"])
        if rep is None:
            return self._speed_dps, usual, usual
        # The rep's own: a slope whose window reaches back before the rep began, or into a dip
        # it came back from, is not (after a dip of BlazePose's, 3 frames of the hips thrown
        # 30 deg up mid-descent, a rep started from there read the dip's slope as its falling
        # speed, negative, and turned into an ascent on its next frame: the rendered box lift
        # at 45 deg at a third of its pace). The frame's own speed stands in for it meanwhile.
        own = self._recent_hip[-1][0] - rep["own_since_s"] >= TOP_STALL_S if self._recent_hip else False
        if not own:
            slope = math.nan
        if math.isfinite(slope) and self.phase in ("descent", "ascent"):
            key = "fall_speed_dps" if self.phase == "descent" else "rise_speed_dps"
            speeds = rep.setdefault(key + "_all", deque(maxlen=REP_SPEED_SAMPLES))
            speeds.append(slope if self.phase == "descent" else -slope)
            rep[key] = float(np.percentile(speeds, 75))

        def stop(key: str) -> float:
            return min(usual, max(STALL_MIN_DPS, STALL_FRACTION * rep.get(key, math.inf)))

        fall_stop, rise_stop = stop("fall_speed_dps"), stop("rise_speed_dps")
        slow = fall_stop < usual and math.isfinite(slope)
        return (slope if slow else self._speed_dps), fall_stop, rise_stop

    def _step_phase(self, t: float, a: FrameAngles) -> RepSummary | None:
        p = self.p
        hip = a.hip_flexion_deg
        completed = None
        if self.phase in ("setup", "lockout"):
            if self.phase == "lockout" and self._finishing is None:
                self.phase = "setup"
            # A rep starts from standing tall: the first one since the person appeared only
            # once they have stood tall (later ones from the last rep's top). One who walks in
            # mid-descent is not judged on half a rep (its descent read as fast).
            self._stood_tall = self._stood_tall or hip < p["lockout_hip_flexion_deg"]
            if self._stood_tall and hip > self._standing_hip_deg + p["descent_start_delta_deg"]:
                if self._finishing is not None:
                    completed = self._finish_rep()  # next rep already under way
                self.phase = "descent"
                dipped_s, dipped = self._dipped
                self._dipped = (math.nan, None)
                if dipped is not None and t - dipped_s <= DIP_GRACE_S:
                    # Back down within moments of a dip mid-descent: BlazePose threw the hips
                    # up for a few frames, and the rep goes on (started afresh there, its
                    # descent was timed from half-way: a fast one). The dip's frames are not
                    # among its samples.
                    self._rep = dipped
                    dipped["own_since_s"] = t
                    return completed
                self._rep = {
                    "start_s": t,
                    "own_since_s": t,  # its hip samples are its own from then (see _rep_speed_dps)
                    "peak": {},
                    "peak_seen": {},  # whether the frame that set each peak was seen
                    "faults": {},
                    "top_hip": [],
                    # The hip's recent past (standing, then the start of the descent, which is
                    # under way before it counts) and where it stood: the descent's time is
                    # taken from them when the rep ends.
                    "hips": deque(self._recent_hip),
                    "descent_end": len(self._recent_hip),  # samples up to the last descent frame
                    "standing_hip": self._standing_hip_deg,
                    "descent_frames": 0,
                    "descent_frames_seen": 0,  # of those, the frames with the hip angle seen
                    # Over the last seconds: whether the camera sees the legs (_made_up_by_the_model).
                    "legs_seen_before": self.camera_view.legs_seen_fraction(),
                }
        elif self.phase == "descent":
            speed, fall_stop, _ = self._rep_speed_dps(self._hip_slope_dps(t, TOP_STALL_S))
            if hip < self._standing_hip_deg + p["descent_start_delta_deg"] - 5.0:
                turned = self._rep.pop("descent_at_turn", None) if self._rep is not None else None
                if turned is not None and self._rep["peak_seen"].get("hip"):
                    # Back at the top from an ascent that a few frames read as turned down
                    # (BlazePose throwing the hips to the bottom for 3 frames half-way up):
                    # the rep's top, not a dip (dropped as one, the rep was lost), and its
                    # descent the one before the turn (with the thrown frames, a fast one).
                    # Only from a depth that was seen: with the legs lost for a second at an
                    # incomplete top, their placed joints read a descent, an ascent and a
                    # turn (the rendered box lift at 45 deg at a third of its pace).
                    self._rep.update(turned)
                    self._stand_tall(t)
                else:
                    # A dip, not a rep; kept a moment in case it was the pose model's.
                    self._dipped = (t, self._rep)
                    self.phase, self._rep = "setup", None
                    for check in self.checks.values():
                        check.reset()
            elif abs(speed) < fall_stop and hip >= p["min_rep_hip_flexion_deg"]:
                self.phase = "bottom"
            elif speed < -fall_stop and self._speed_dps < 0 and hip >= p["min_rep_hip_flexion_deg"]:
                # Turned around without a pause: the slope and this frame's own speed both
                # rising. BlazePose throwing the hips up for 5 frames mid-descent dragged the
                # slope negative while the hips went back down at 300 deg/s; read as a turn, the
                # 5 frames then closed the rep as locked out (the rendered box lift at 45 deg
                # at a third of its pace, through the live filter's lead).
                self.phase = "ascent"
        elif self.phase == "bottom":
            speed, fall_stop, _ = self._rep_speed_dps(self._hip_slope_dps(t, TOP_STALL_S))
            if speed < -fall_stop:
                self.phase = "ascent"
            elif speed > fall_stop:
                self.phase = "descent"
        elif self.phase == "ascent":
            peak = self._rep["peak"].get("hip", hip) if self._rep else hip
            slope = self._hip_slope_dps(t, TOP_STALL_S)
            _, _, rise_stop = self._rep_speed_dps(slope)
            stalled_near_top = abs(slope) < rise_stop
            near_top = hip < NEAR_TOP_FRACTION * peak
            # Two frames on end: one frame of BlazePose throwing the hips back reads as a turn
            # down, and near the top it ended a slow ascent early.
            turned_down = self._going_down_frames >= TURN_DOWN_FRAMES
            # On the hip's median over HIP_STEADY_S, not this frame's: BlazePose throwing the
            # hips to standing for 3 frames half-way up closed the rep there, an incomplete
            # lockout (every rep, on the synthetic athlete with such a throw).
            locked_out = self._steady_hip_deg() < p["lockout_hip_flexion_deg"]
            if locked_out or (near_top and (stalled_near_top or turned_down)):
                # Locked out; or stopped, or went back down, high up without locking out: the
                # top of this rep (an incomplete lockout), and any descent is the next rep's.
                self._stand_tall(t)
            elif turned_down and not stalled_near_top:
                self.phase = "descent"  # went back down from low: same rep, deeper
                if self._rep is not None:
                    self._rep["descent_at_turn"] = {key: self._rep[key] for key in DESCENT_COUNTS}
                    # A new bottom follows: the hips-first lead is taken from there, not from
                    # the false start (BlazePose throwing the hips too deep for a few frames
                    # reads as a turn into the ascent; its "most upright" moment raised
                    # hips_rise_first on a clean box lift at 45 deg).
                    for key in ("bottom_s", "hips_lowest_m", "hips_at_reference_m", "trunk_height_max_m"):
                        self._rep.pop(key, None)
        return completed

    def _stand_tall(self, t: float) -> None:
        """The rep's ascent is over; judge the lockout over a short hold before closing the rep."""
        self._finishing, self._rep = self._rep, None
        self.phase = "lockout"
        self._stood_tall = True  # the next rep starts from this top, locked out or not
        self._standing_hip_deg = math.inf
        if self._finishing is not None:
            self._finishing["end_s"] = t
        for fault_id in ("squat", "fast_descent", "toes", "heels", "head_up", "head_down", "rounded_back"):
            self.checks[fault_id].reset()

    def _finish_rep(self) -> RepSummary | None:
        rep, self._finishing = self._finishing, None
        if self.phase == "lockout":
            self.phase = "setup"
        for fault_id in ("banana_back", "incomplete_lockout"):
            self.checks[fault_id].reset()
        if rep is None or _made_up_by_the_model(rep):
            return None
        th = self.thresholds
        if "rounded_back" in rep["faults"]:
            # Against the hip-shoulder line a rounding upper back carries the ear-shoulder
            # line with it, so the head reads dropped while the back rounds (on the skeleton
            # a 25 deg rounded back reads as head_down on every rep): the back is the fault.
            rep["faults"].pop("head_down", None)
        # Judged once, on the whole rep: no hysteresis, no minimum duration.
        for fault_id, ev in (
            ("fast_descent", _below(_rep_descent_time_s(rep), th["fast_descent_time_s"], 0.0, 0.2)),
            (
                "incomplete_lockout",
                _above(
                    min(rep["top_hip"], default=math.nan), th["incomplete_lockout_hip_flexion_deg"], 0.0, 20.0
                ),
            ),
        ):
            # Measured on this rep only if its value was: side-on to a deadlift the plate
            # hides the knees through the whole lockout, and no top hip angle is seen there.
            if ev.measurable:
                rep.setdefault("measurable", set()).add(fault_id)
            if ev.raise_now:
                rep["faults"][fault_id] = ev.severity
        self.rep_count += 1
        # A peak is reported, and the depth judged, only where the frame that set it was seen.
        peak = {k: v for k, v in rep["peak"].items() if rep["peak_seen"].get(k)}
        breakdown = {f"fault:{f}": round(FAULT_PENALTY[f] * s, 1) for f, s in rep["faults"].items()}
        if peak.get("hip", math.inf) < float(self.p["min_rep_hip_flexion_deg"]) + 10.0:
            breakdown["depth"] = SHALLOW_PENALTY
        score = max(0.0, 100.0 - sum(breakdown.values()))
        return RepSummary(
            index=self.rep_count,
            start_s=float(rep["start_s"]),
            end_s=float(rep["end_s"]),
            peak_hip_flexion_deg=peak.get("hip", math.nan),
            peak_trunk_inclination_deg=peak.get("trunk", math.nan),
            peak_knee_flexion_deg=peak.get("knee", math.nan),
            faults={f: round(s, 3) for f, s in rep["faults"].items()},
            score=round(score, 1),
            score_breakdown=breakdown,
            not_measurable=sorted(
                set(self.exercise_checks) - rep.get("measurable", set()) - set(rep["faults"])
            ),
        )

    def _track_rep(
        self, rep: dict, a: FrameAngles, faults: dict[str, FaultStatus], judged_now: set[str]
    ) -> None:
        peak = rep["peak"]
        if a.hip_flexion_deg > peak.get("hip", -math.inf) and math.isfinite(a.knee_flexion_deg):
            # Unknown where the deepest frame's legs were placed, not seen.
            seen = CHECK_PARTS["hips_high"] <= a.seen
            rep["knee_at_deepest"] = a.knee_flexion_deg if seen else math.nan
        for key, metric in (
            ("hip", "hip_flexion_deg"),
            ("trunk", "trunk_inclination_deg"),
            ("knee", "knee_flexion_deg"),
        ):
            value = getattr(a, metric)
            if value > peak.get(key, -math.inf):  # NaN: never
                peak[key] = value  # through placed joints too: the phases use it
                rep["peak_seen"][key] = METRIC_PARTS[metric] <= a.seen
        if rep is self._finishing and CHECK_PARTS["incomplete_lockout"] <= a.seen:
            rep["top_hip"].append(self._steady_hip_deg())
        for fault_id, status in faults.items():
            if fault_id in JUDGED_FRAMES_FOR_REP:
                judged = rep.setdefault("judged_frames", {})
                judged[fault_id] = judged.get(fault_id, 0) + int(fault_id in judged_now)
                if judged[fault_id] >= JUDGED_FRAMES_FOR_REP[fault_id]:
                    rep.setdefault("measurable", set()).add(fault_id)
            elif status.measurable and fault_id not in REP_CHECKS:
                rep.setdefault("measurable", set()).add(fault_id)
            if status.active:
                rep["faults"][fault_id] = max(rep["faults"].get(fault_id, 0.0), status.severity)

    # -- fault checks --------------------------------------------------------

    def _hips_lead_mm(self, t: float, a: FrameAngles) -> float:
        """How much more the hips than the shoulders have risen since the bottom (mm), on
        heights averaged over ``HIPS_FIRST_SMOOTH_S``; 0 until the hips have risen
        ``HIPS_FIRST_MIN_RISE_MM`` from their lowest point.

        The reference is the moment from the hips' lowest point on (once the average holds no
        descent) when the shoulders stood highest above the hips (the trunk most upright): the
        lead is then how far the trunk has tipped forward since, in height. Taken from the bottom on,
        not in the descent, and only once the hips rise: a stiff-legged pull keeps tipping the
        trunk at the end of the descent with the hips still, which is not the hips rising first.
        """
        rep = self._rep
        if rep is None or not (math.isfinite(a.hip_height_m) and math.isfinite(a.shoulder_height_m)):
            return math.nan
        recent = rep.setdefault("heights", deque())
        recent.append((t, a.hip_height_m, a.shoulder_height_m))
        while t - recent[0][0] > HIPS_FIRST_SMOOTH_S:
            recent.popleft()
        _, hip, shoulder = np.mean(recent, axis=0)
        if self.phase not in ("bottom", "ascent"):
            return math.nan
        if t - rep.setdefault("bottom_s", t) < HIPS_FIRST_SMOOTH_S:
            return 0.0  # the average still holds the end of the descent
        trunk_height = shoulder - hip
        if 1000.0 * (rep.get("hips_at_reference_m", math.inf) - hip) > HIPS_FIRST_MIN_RISE_MM:
            # The hips still going down: the bottom is later. A patient's descent reads as a
            # bottom wherever it pauses (the rendered box lift at 45 deg at a third of its
            # pace, several times a rep); the most upright moment of such a pause, 25 deg short
            # of the bottom, raised hips_rise_first as the hips rose from the real one. Not on
            # every new low: the height's noise then moved the reference into the ascent.
            rep["hips_at_reference_m"] = hip
            rep["trunk_height_max_m"] = trunk_height
        hips_lowest = rep["hips_lowest_m"] = min(rep.get("hips_lowest_m", math.inf), hip)
        most_upright = rep["trunk_height_max_m"] = max(rep["trunk_height_max_m"], trunk_height)
        if 1000.0 * (hip - hips_lowest) < HIPS_FIRST_MIN_RISE_MM:
            return 0.0
        return 1000.0 * float(most_upright - trunk_height)

    def _evaluate(self, t: float, a: FrameAngles) -> dict[str, tuple[Evaluation, bool]]:
        """Each check's evaluation and whether it applies in the current phase."""
        th = self.thresholds
        moving = self.phase in MOVING
        at_lockout = self.phase == "lockout" and self._finishing is not None
        out: dict[str, tuple[Evaluation, bool]] = {}

        knee, hip = a.knee_flexion_deg, a.hip_flexion_deg
        if math.isfinite(knee) and math.isfinite(hip) and hip > 1.0:
            ratio = knee / hip
            k_lim, r_lim = th["squat_knee_flexion_deg"], th["squat_knee_hip_ratio"]
            out["squat"] = (
                Evaluation(
                    True,
                    ratio,
                    knee >= k_lim and ratio >= r_lim,
                    knee < k_lim - 5.0 or ratio < r_lim - 0.1,
                    _severity(ratio, r_lim, 0.4),
                ),
                moving,
            )
        else:
            out["squat"] = (Evaluation(False), moving)

        # A rounded back: the upper back bends forward against the lower back, beyond standing.
        flexion = self._spine_bend_deg - self._baseline_of("spine_bend")
        rounded = _above(flexion, th["rounded_back_flexion_deg"], 4.0, 20.0)
        out["rounded_back"] = (rounded, moving)

        head = a.head_neck_deg - self._baseline_of("head_neck")  # positive: dropped, negative: cranked up
        head_down = _above(head, th["head_down_deg"], 5.0, 20.0)
        if rounded.raise_now:
            # The ear-shoulder line follows a rounding upper back: against the hip-shoulder
            # line a rounded back looks like a dropped head. With the back seen rounded, the
            # head is not faulted on its own (the back comes first, and is the cause; the
            # rep drops a head_down raised before the rounding was, see _finish_rep).
            head_down = replace(head_down, raise_now=False)
        out["head_down"] = (head_down, moving)
        out["head_up"] = (_above(-head, th["head_up_deg"], 5.0, 20.0), moving)

        out["toes"] = (_above(a.com_offset_mm, th["toes_com_offset_mm"], 10.0, 60.0), moving)
        out["heels"] = (_above(-a.com_offset_mm, th["heels_com_offset_mm"], 10.0, 60.0), moving)

        # Judged once, on the whole descent, when the rep ends (see _finish_rep): a pause on
        # the way down reads as a bottom, and a few frames of BlazePose throwing the hips too
        # deep read as a turn into the ascent and back, so neither end of the descent is
        # known before the ascent is over. Here: this rep's time so far, for the report.
        descent_s = _rep_descent_time_s(self._rep) if self.phase == "ascent" else math.nan
        out["fast_descent"] = (Evaluation(math.isfinite(descent_s), descent_s), False)

        # Pulls from the floor: the chest and the hips rise together. Hips first shows as
        # the hips rising from their lowest point while the shoulders do not follow (the back
        # angle goes more horizontal as the knees open).
        out["hips_rise_first"] = (
            _above(self._hips_lead_mm(t, a), th["hips_rise_first_lead_mm"], 5.0, 40.0),
            self.phase in ("bottom", "ascent"),
        )
        knee_deepest = self._rep.get("knee_at_deepest", math.nan) if self._rep else math.nan
        # Judged once the hips rise: a bottom may be a pause in a slow descent, and the knees
        # at the deepest point so far were then those of the first third of the descent (on
        # the rendered box lift at 45 deg at a third of its pace, on 3 of its 5 reps).
        out["hips_high"] = (
            _below(knee_deepest, th["hips_high_knee_flexion_deg"], 3.0, 15.0),
            self.phase == "ascent",
        )
        lean_back = self._baseline_of("trunk") - a.trunk_near_side_deg
        out["banana_back"] = (_above(lean_back, th["banana_back_lean_deg"], 2.0, 15.0), at_lockout)
        # Judged once at the end of the lockout hold (see _finish_rep), not frame by frame.
        out["incomplete_lockout"] = (Evaluation(math.isfinite(hip), hip), False)
        # Judged from the start of the descent through the bottom, not standing in the setup:
        # there clean setups read up to 56 mm on rendered depth (the back's plane is learned
        # from a hinge), not apart from the no-brace setups' 53-56; and the setup belongs to
        # no rep yet (the last one's lockout hold may still be open).
        out["no_brace"] = (
            _above(self._lumbar_hollow_mm, th["no_brace_lumbar_hollow_mm"], 3.0, 25.0),
            self.phase in ("descent", "bottom"),
        )
        for fault_id, parts in CHECK_PARTS.items():
            if not parts <= a.seen:
                out[fault_id] = (Evaluation(False), out[fault_id][1])
        return out

    def _hip_slope_dps(self, t: float, window_s: float) -> float:
        """Hip flexion's least-squares slope over the last ``window_s`` (deg/s); NaN until the
        frames span that long."""
        window = [(ti, h) for ti, h in self._recent_hip if t - ti <= window_s + 1e-6]
        if len(window) < 3 or t - window[0][0] < window_s - 0.05:
            return math.nan
        times, hips = np.array(window).T
        if len(window) >= 5:
            # On a 3-frame median: one frame of BlazePose throwing the hips back by 20 deg at the
            # window's end tilts a 0.3 s slope by about 30 deg/s (a slow ascent then read as
            # stalled). With frames missing (the person half lost) the few left are used as
            # they are: the rep still ends where they stopped rising.
            times, hips = times[1:-1], _median_of_3(hips)
        times = times - times.mean()
        return float(times @ (hips - hips.mean()) / (times @ times))

    def _check_faults(self, t: float, a: FrameAngles) -> tuple[dict[str, FaultStatus], set[str]]:
        """This frame's fault statuses, and the checks of JUDGED_FRAMES_FOR_REP measured where
        they apply."""
        judged = set()
        if self._rep is not None and self._rep["hips"][-1][0] < t:
            # Every frame of the rep, not only the descent's: a few frames read as a turn
            # into the ascent (BlazePose throwing the hips too deep, then back) belong to
            # the descent when it goes on.
            hips = self._rep["hips"]
            hips.append((t, a.hip_flexion_deg))
            if self.phase == "descent":
                self._rep["descent_end"] = len(hips)
                self._rep["descent_frames"] += 1
                self._rep["descent_frames_seen"] += CHECK_PARTS["fast_descent"] <= a.seen
            while t - hips[0][0] > REP_HIPS_S:
                # Bounded, for a person held in the bottom for minutes: a descent this long
                # is no fast one (its time is then not measurable).
                hips.popleft()
                # The descent's end, and the one kept from before a turn down (see _step_phase).
                for counts in filter(None, (self._rep, self._rep.get("descent_at_turn"))):
                    counts["descent_end"] = max(0, counts["descent_end"] - 1)
        statuses = {}
        exercise_checks = self.exercise_checks
        for fault_id, (ev, applies) in self._evaluate(t, a).items():
            if fault_id not in exercise_checks:
                continue
            min_s = self.thresholds["fault_min_duration_s"]
            if fault_id == "hips_high":
                min_s = 0.0  # judged on the whole descent: nothing left to wait out
            elif fault_id == "hips_rise_first":
                min_s = min(min_s, HIPS_FIRST_MIN_S)
            elif fault_id in ("head_up", "head_down"):
                min_s = max(min_s, HEAD_MIN_DURATION_S)
            check = self.checks[fault_id]
            active = check.update(t, applies and ev.raise_now, ev.clear_now or not applies, min_s)
            statuses[fault_id] = FaultStatus(
                fault_id, active, ev.measurable, ev.value, ev.severity if active else 0.0
            )
            if fault_id in JUDGED_FRAMES_FOR_REP and ev.measurable and applies:
                judged.add(fault_id)
        return statuses, judged

    def _unmeasured(self) -> dict[str, FaultStatus]:
        return {f: FaultStatus(f, self.checks[f].active, False, math.nan, 0.0) for f in self.exercise_checks}
