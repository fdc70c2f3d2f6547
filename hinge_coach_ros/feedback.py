"""Feedback core: the cue policy, LED states, and pan-tilt aiming with limits.

ROS-free. The feedback node feeds it report and rep views and the head
position, and sends what it decides to the LED, pan-tilt and display drivers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .alignment import CUE_FOR_FAULT

# LED colour (r, g, b, a) per state; the README lists them.
LED_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "off": (0.0, 0.0, 0.0, 0.0),
    "no_person": (0.0, 0.0, 0.25, 1.0),  # dim blue: waiting for someone
    "ready": (0.8, 0.8, 0.8, 1.0),  # white: standing, set up
    "good": (0.0, 1.0, 0.0, 1.0),  # green: moving well / clean rep
    "cue": (1.0, 0.55, 0.0, 1.0),  # amber: technique cue
    "warning": (1.0, 0.0, 0.0, 1.0),  # red: back-safety fault
    "system_fault": (1.0, 0.0, 1.0, 1.0),  # magenta: the station itself has a problem
}

# Cue priority (lower first) and whether the cue is about back safety (red).
CUE_PRIORITY: dict[str, tuple[int, bool]] = {"hips_back": (3, False)}

# Cue words, in the article's language.
CUE_TEXT: dict[str, str] = {
    "hips_back": "Hips back, soft knees: hinge, don't squat",
    "good_rep": "Good rep!",
    "ready": "Brace: ribs down, then hinge",
    "no_person": "Step into the station, side-on",
}


@dataclass(frozen=True)
class ReportView:
    person: bool
    phase: str
    rep_count: int
    hip_flexion_deg: float
    active_cues: dict[str, str]  # fault id -> cue key


@dataclass(frozen=True)
class RepView:
    index: int
    score: float
    peak_hip_flexion_deg: float
    peak_trunk_inclination_deg: float
    peak_knee_flexion_deg: float
    duration_s: float
    faults: dict[str, float]  # id -> severity


@dataclass
class CuePolicy:
    """One cue at a time: priority by safety, a minimum dwell, a result hold after each rep."""

    cue_min_dwell_s: float = 1.0
    rep_result_hold_s: float = 1.5
    led_state: str = "no_person"
    cue_key: str = "no_person"
    _state_since: float = -math.inf
    _hold_until: float = -math.inf

    def _set(self, now: float, state: str, cue: str) -> None:
        if (state, cue) != (self.led_state, self.cue_key):
            self.led_state, self.cue_key, self._state_since = state, cue, now

    def on_report(self, now: float, report: ReportView) -> None:
        in_dwell = self.led_state in ("cue", "warning") and now - self._state_since < self.cue_min_dwell_s
        if report.active_cues:
            cue = min(report.active_cues.values(), key=lambda c: CUE_PRIORITY.get(c, (99, False))[0])
            safety = CUE_PRIORITY.get(cue, (99, False))[1]
            self._set(now, "warning" if safety else "cue", cue)
            return
        if in_dwell or now < self._hold_until:
            return  # keep the cue or the rep result visible: no flicker
        if not report.person:
            self._set(now, "no_person", "no_person")
        elif report.phase in ("descent", "bottom", "ascent"):
            self._set(now, "good", "")
        else:
            self._set(now, "ready", "ready")

    def on_rep(self, now: float, rep: RepView) -> None:
        if rep.faults:
            # Show the rep's most important fault, even if it cleared during the ascent.
            cues = [CUE_FOR_FAULT[f] for f in rep.faults if f in CUE_FOR_FAULT]
            cue = min(cues, key=lambda c: CUE_PRIORITY.get(c, (99, False))[0]) if cues else ""
            safety = CUE_PRIORITY.get(cue, (99, False))[1]
            self._set(now, "warning" if safety else "cue", cue)
        else:
            self._set(now, "good", "good_rep")
        self._hold_until = now + self.rep_result_hold_s

    @property
    def colour(self) -> tuple[float, float, float, float]:
        return LED_COLOURS[self.led_state]

    @property
    def cue_text(self) -> str:
        return CUE_TEXT.get(self.cue_key, "")


@dataclass(frozen=True)
class PanTiltLimits:
    pan_min_deg: float
    pan_max_deg: float
    tilt_min_deg: float
    tilt_max_deg: float
    home_pan_deg: float
    home_tilt_deg: float
    max_speed_dps: float
    dead_band_deg: float

    def clamp(self, pan: float, tilt: float) -> tuple[float, float]:
        return (
            min(max(pan, self.pan_min_deg), self.pan_max_deg),
            min(max(tilt, self.tilt_min_deg), self.tilt_max_deg),
        )


def aim_at(head_optical: np.ndarray, mount_position: np.ndarray, mount_yaw_deg: float) -> tuple[float, float]:
    """Pan and tilt (degrees) that point the display from the mount at the head.

    Both points are in the camera optical frame (x right, y down, z forward).
    Pan is positive to the camera's right, tilt positive upward.
    """
    v = np.asarray(head_optical, dtype=float) - np.asarray(mount_position, dtype=float)
    pan = math.degrees(math.atan2(v[0], v[2])) - mount_yaw_deg
    pan = (pan + 180.0) % 360.0 - 180.0
    tilt = math.degrees(math.atan2(-v[1], math.hypot(v[0], v[2])))
    return pan, tilt


@dataclass
class PanTiltController:
    """Rate-limited, dead-banded motion toward a target, always inside the limits."""

    limits: PanTiltLimits
    pan_deg: float = field(init=False)
    tilt_deg: float = field(init=False)
    target: tuple[float, float] = field(init=False)

    def __post_init__(self) -> None:
        self.pan_deg, self.tilt_deg = self.limits.clamp(self.limits.home_pan_deg, self.limits.home_tilt_deg)
        self.target = (self.pan_deg, self.tilt_deg)

    def set_target(self, pan: float, tilt: float) -> None:
        if not (math.isfinite(pan) and math.isfinite(tilt)):
            return  # a NaN head position never moves the mount
        pan, tilt = self.limits.clamp(pan, tilt)
        if max(abs(pan - self.target[0]), abs(tilt - self.target[1])) >= self.limits.dead_band_deg:
            self.target = (pan, tilt)

    def go_home(self) -> None:
        self.target = self.limits.clamp(self.limits.home_pan_deg, self.limits.home_tilt_deg)

    def step(self, dt_s: float) -> tuple[float, float]:
        """Advance by ``dt_s`` seconds; returns the new command."""
        max_step = self.limits.max_speed_dps * max(dt_s, 0.0)
        dp = float(np.clip(self.target[0] - self.pan_deg, -max_step, max_step))
        dt = float(np.clip(self.target[1] - self.tilt_deg, -max_step, max_step))
        self.pan_deg, self.tilt_deg = self.limits.clamp(self.pan_deg + dp, self.tilt_deg + dt)
        return self.pan_deg, self.tilt_deg


def format_rep_line(rep: RepView, led_state: str) -> str:
    faults = ", ".join(f"{f}({s:.2f})" for f, s in sorted(rep.faults.items())) or "none"
    return (
        f"rep {rep.index}: hip {rep.peak_hip_flexion_deg:.0f} deg, "
        f"trunk {rep.peak_trunk_inclination_deg:.0f} deg, knee {rep.peak_knee_flexion_deg:.0f} deg, "
        f"{rep.duration_s:.1f} s | faults: {faults} | score {rep.score:.0f} | LED {led_state}"
    )


def format_summary(reps: list[RepView]) -> str:
    if not reps:
        return "session: no reps"
    faulty = [r for r in reps if r.faults]
    counts: dict[str, int] = {}
    for r in faulty:
        for f in r.faults:
            counts[f] = counts.get(f, 0) + 1
    by_fault = ", ".join(f"{f} x{n}" for f, n in sorted(counts.items())) or "none"
    mean = sum(r.score for r in reps) / len(reps)
    clean = len(reps) - len(faulty)
    return f"session: {len(reps)} reps, {clean} clean, mean score {mean:.0f} | faults: {by_fault}"
