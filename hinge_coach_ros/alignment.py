"""The alignment engine: frame angles -> phase, reps, fault checks and scores.

ROS-free. ``HingeEngine.update`` takes one skeleton frame at a time (time in
seconds, BlazePose landmarks in a metric frame) and returns a
``FrameReport``; when a rep ends the report carries its ``RepSummary``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from .geometry import FrameAngles, frame_angles
from .landmarks import INDEX
from .params import Value, defaults

PHASES = ("setup", "descent", "bottom", "ascent", "lockout")
NO_PERSON = "no_person"

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

# Score penalty (points out of 100) for a fault at full severity.
FAULT_PENALTY = {"squat": 40.0}
SHALLOW_PENALTY = 10.0
LOCKOUT_HOLD_S = 0.5  # how long "lockout" is shown before the next setup


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
    end_s: float
    peak_hip_flexion_deg: float
    peak_trunk_inclination_deg: float
    peak_knee_flexion_deg: float
    faults: dict[str, float]  # id -> severity 0-1
    score: float
    score_breakdown: dict[str, float]  # what was taken off, in points

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class FrameReport:
    time_s: float
    person: bool
    phase: str
    rep_count: int
    angles: FrameAngles | None
    faults: dict[str, FaultStatus] = field(default_factory=dict)
    completed_rep: RepSummary | None = None

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
        self.fallback = fallback / np.linalg.norm(fallback)
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
                pts = np.array(self._points)
                _, s, vt = np.linalg.svd(pts - pts.mean(axis=0))
                normal = vt[2]
                # Degenerate when the feet are seen as a line (both feet hidden behind each other).
                if s[1] > 5.0 * s[2] and s[1] > 1e-3 * math.sqrt(len(pts)):
                    head_side = lm[INDEX["left_shoulder"], :3] - pts.mean(axis=0)
                    if np.isfinite(head_side).all() and normal @ head_side < 0:
                        normal = -normal
                    self.up = normal if np.isfinite(head_side).all() else None
                if self.up is None:
                    self._frames = 0
                    self._points.clear()
        return self.up if self.up is not None else self.fallback


class FaultCheck:
    """One fault with hysteresis and a minimum duration."""

    def __init__(self, fault_id: str, min_duration_s: float) -> None:
        self.fault_id = fault_id
        self.min_duration_s = min_duration_s
        self.active = False
        self._pending_since: float | None = None

    def update(self, t: float, raise_now: bool, clear_now: bool) -> bool:
        if self.active:
            if clear_now:
                self.active = False
                self._pending_since = None
        elif raise_now:
            if self._pending_since is None:
                self._pending_since = t
            if t - self._pending_since >= self.min_duration_s:
                self.active = True
        else:
            self._pending_since = None
        return self.active

    def reset(self) -> None:
        self.active = False
        self._pending_since = None


class HingeEngine:
    def __init__(self, params: dict[str, Value] | None = None) -> None:
        self.p = {**defaults("alignment_node"), **(params or {})}
        fallback = np.asarray(self.p["up_vector"], dtype=float)
        self.up = UpFromFeet(fallback) if self.p["up_source"] == "feet" else None
        self.fixed_up = fallback / np.linalg.norm(fallback)
        self.phase = "setup"
        self.rep_count = 0
        self._squat = FaultCheck("squat", float(self.p["fault_min_duration_s"]))
        self._last_seen_s: float | None = None
        self._prev: tuple[float, float] | None = None  # (time, hip flexion)
        self._speed_dps = 0.0
        self._lockout_since = 0.0
        self._rep: dict | None = None

    def set_params(self, params: dict[str, Value]) -> None:
        """Apply validated parameter changes at run time."""
        self.p.update(params)
        self._squat.min_duration_s = float(self.p["fault_min_duration_s"])
        fallback = np.asarray(self.p["up_vector"], dtype=float)
        self.fixed_up = fallback / np.linalg.norm(fallback)
        if "up_source" in params or "up_vector" in params:
            self.up = UpFromFeet(fallback) if self.p["up_source"] == "feet" else None

    def _no_person(self, t: float) -> FrameReport:
        if self._last_seen_s is None or t - self._last_seen_s > float(self.p["person_timeout_s"]):
            # The person left: drop the rep in progress rather than count half of it.
            self._rep = None
            self.phase = "setup"
            self._prev = None
            self._squat.reset()
            return FrameReport(t, False, NO_PERSON, self.rep_count, None, self._fault_statuses(None))
        return FrameReport(t, True, self.phase, self.rep_count, None, self._fault_statuses(None))

    def update(self, t: float, landmarks: np.ndarray) -> FrameReport:
        lm = np.asarray(landmarks, dtype=float)
        if lm.shape != (33, 4):
            raise ValueError(f"landmarks must be (33, 4), got {lm.shape}")
        up = self.up.update(lm) if self.up is not None else self.fixed_up
        angles = frame_angles(lm, up)
        if angles is None or not math.isfinite(angles.hip_flexion_deg):
            return self._no_person(t)
        self._last_seen_s = t
        hip = angles.hip_flexion_deg
        if self._prev is not None and t > self._prev[0]:
            raw = (hip - self._prev[1]) / (t - self._prev[0])
            self._speed_dps = 0.6 * self._speed_dps + 0.4 * raw  # light smoothing of landmark noise
        self._prev = (t, hip)
        completed = self._step_phase(t, angles)
        faults = self._check_faults(t, angles)
        if self._rep is not None:
            self._track_rep(angles, faults)
        return FrameReport(t, True, self.phase, self.rep_count, angles, faults, completed)

    def _step_phase(self, t: float, a: FrameAngles) -> RepSummary | None:
        p = self.p
        hip = a.hip_flexion_deg
        if self.phase in ("setup", "lockout"):
            if self.phase == "lockout" and t - self._lockout_since > LOCKOUT_HOLD_S:
                self.phase = "setup"
            if hip > p["descent_start_hip_flexion_deg"]:
                self.phase = "descent"
                self._rep = {"start_s": t, "peak": {}, "faults": {}}
        elif self.phase == "descent":
            if hip < p["descent_start_hip_flexion_deg"] - 5.0:
                self.phase, self._rep = "setup", None  # a dip, not a rep
                self._squat.reset()
            elif abs(self._speed_dps) < p["bottom_speed_dps"] and hip >= p["min_rep_hip_flexion_deg"]:
                self.phase = "bottom"
            elif self._speed_dps < -p["bottom_speed_dps"] and hip >= p["min_rep_hip_flexion_deg"]:
                self.phase = "ascent"  # turned around without a pause
        elif self.phase == "bottom":
            if self._speed_dps < -p["bottom_speed_dps"]:
                self.phase = "ascent"
            elif self._speed_dps > p["bottom_speed_dps"]:
                self.phase = "descent"
        elif self.phase == "ascent":
            if hip < p["lockout_hip_flexion_deg"]:
                return self._finish_rep(t)
            if self._speed_dps > p["bottom_speed_dps"]:
                self.phase = "descent"  # went back down: same rep, deeper
        return None

    def _finish_rep(self, t: float) -> RepSummary | None:
        rep, self._rep = self._rep, None
        self.phase = "lockout"
        self._lockout_since = t
        self._squat.reset()
        if rep is None:
            return None
        self.rep_count += 1
        peak = rep["peak"]
        breakdown = {f"fault:{f}": round(FAULT_PENALTY[f] * s, 1) for f, s in rep["faults"].items()}
        if peak.get("hip", 0.0) < self.p["min_rep_hip_flexion_deg"] + 10.0:
            breakdown["depth"] = SHALLOW_PENALTY
        score = max(0.0, 100.0 - sum(breakdown.values()))
        return RepSummary(
            index=self.rep_count,
            start_s=rep["start_s"],
            end_s=t,
            peak_hip_flexion_deg=peak.get("hip", math.nan),
            peak_trunk_inclination_deg=peak.get("trunk", math.nan),
            peak_knee_flexion_deg=peak.get("knee", math.nan),
            faults=dict(rep["faults"]),
            score=round(score, 1),
            score_breakdown=breakdown,
        )

    def _squat_metric(self, a: FrameAngles) -> tuple[bool, float, float, bool, bool]:
        """(measurable, ratio, severity, raise, clear) for squatting instead of hinging."""
        knee, hip = a.knee_flexion_deg, a.hip_flexion_deg
        if not (math.isfinite(knee) and math.isfinite(hip)) or hip < 1.0:
            return False, math.nan, 0.0, False, True
        ratio = knee / hip
        knee_limit = float(self.p["squat_knee_flexion_deg"])
        ratio_limit = float(self.p["squat_knee_hip_ratio"])
        raise_now = knee >= knee_limit and ratio >= ratio_limit
        # Hysteresis: clear only once clearly back inside both limits.
        clear_now = knee < knee_limit - 5.0 or ratio < ratio_limit - 0.1
        severity = float(np.clip((ratio - ratio_limit) / 0.4 + 0.5, 0.0, 1.0)) if raise_now else 0.0
        return True, ratio, severity, raise_now, clear_now

    def _check_faults(self, t: float, a: FrameAngles | None) -> dict[str, FaultStatus]:
        if a is None:
            return self._fault_statuses(None)
        measurable, ratio, severity, raise_now, clear_now = self._squat_metric(a)
        in_rep = self.phase in ("descent", "bottom", "ascent")
        active = self._squat.update(t, in_rep and raise_now, clear_now or not in_rep)
        return {"squat": FaultStatus("squat", active, measurable, ratio, severity if active else 0.0)}

    def _fault_statuses(self, _: None) -> dict[str, FaultStatus]:
        return {"squat": FaultStatus("squat", self._squat.active, False, math.nan, 0.0)}

    def _track_rep(self, a: FrameAngles, faults: dict[str, FaultStatus]) -> None:
        assert self._rep is not None
        peak = self._rep["peak"]
        for key, value in (
            ("hip", a.hip_flexion_deg),
            ("trunk", a.trunk_inclination_deg),
            ("knee", a.knee_flexion_deg),
        ):
            if math.isfinite(value):
                peak[key] = max(peak.get(key, -math.inf), value)
        for fault_id, status in faults.items():
            if status.active:
                self._rep["faults"][fault_id] = max(self._rep["faults"].get(fault_id, 0.0), status.severity)
