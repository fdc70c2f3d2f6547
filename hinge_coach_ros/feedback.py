"""Feedback core: the cue policy, LED states, and pan-tilt aiming with limits.

ROS-free. The feedback node feeds it report and rep views and the head
position, and sends what it decides to the LED, pan-tilt and display drivers.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .alignment import CUE_FOR_FAULT
from .cues import CueTable, load_cue_table

# LED colour (r, g, b, a) per state; the README lists them. The `led` topic
# carries these exact colours; the strip adds the pattern below.
LED_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "off": (0.0, 0.0, 0.0, 0.0),
    "no_person": (0.0, 0.0, 0.25, 1.0),  # dim blue: waiting for someone
    "ready": (0.8, 0.8, 0.8, 1.0),  # white: standing, set up
    "good": (0.0, 1.0, 0.0, 1.0),  # green: moving well / clean rep
    "cue": (1.0, 0.55, 0.0, 1.0),  # amber: technique cue
    "warning": (1.0, 0.0, 0.0, 1.0),  # red: back-safety fault
    "system_fault": (1.0, 0.0, 1.0, 1.0),  # magenta: the station itself has a problem
}


@dataclass(frozen=True)
class LedPattern:
    """How the strip shows a state: steady, blinking or breathing, with a period."""

    kind: str  # "solid", "blink", "breathe"
    period_s: float = 0.0


LED_PATTERNS: dict[str, LedPattern] = {
    "off": LedPattern("solid"),
    "no_person": LedPattern("breathe", 4.0),  # calm: the station is alive and waiting
    "ready": LedPattern("solid"),
    "good": LedPattern("solid"),
    "cue": LedPattern("solid"),
    "warning": LedPattern("blink", 0.5),  # back safety: hard to miss at the edge of vision
    "system_fault": LedPattern("blink", 1.0),
}
ESCALATED_PATTERN = LedPattern("blink", 1.0)  # a cue that keeps coming back rep after rep


def led_pattern(state: str, escalated: bool = False) -> LedPattern:
    if escalated and state == "cue":
        return ESCALATED_PATTERN
    return LED_PATTERNS[state]


def pattern_brightness(pattern: LedPattern, t_s: float) -> float:
    """Brightness factor 0-1 of a pattern at time t (what a strip shows; the simulated strip too)."""
    if pattern.kind == "solid" or pattern.period_s <= 0:
        return 1.0
    phase = (t_s / pattern.period_s) % 1.0
    if pattern.kind == "blink":
        return 1.0 if phase < 0.5 else 0.0
    return 0.15 + 0.85 * 0.5 * (1.0 - math.cos(2.0 * math.pi * phase))  # breathe, never fully dark


# Cue priority (lower first) and whether the cue is about back safety (red
# "warning" LED). Back safety first, then the brace that protects it, then
# the hinge pattern itself, then finish, balance, head and tempo.
CUE_PRIORITY: dict[str, tuple[int, bool]] = {
    "neutral_spine": (0, True),
    "no_banana_back": (1, True),
    "ribs_down": (2, False),
    "hips_back": (3, False),
    "chest_with_hips": (4, False),
    "soft_knees": (5, False),
    "finish_tall": (6, False),
    "whole_foot_toes": (7, False),
    "whole_foot_heels": (7, False),
    "chin_tucked": (8, False),
    "head_in_line": (8, False),
    "slow_down": (9, False),
}
_UNKNOWN_CUE = (99, False)


def cue_priority(key: str) -> int:
    return CUE_PRIORITY.get(key, _UNKNOWN_CUE)[0]


def is_safety_cue(key: str) -> bool:
    return CUE_PRIORITY.get(key, _UNKNOWN_CUE)[1]


@dataclass(frozen=True)
class ReportView:
    person: bool
    phase: str
    rep_count: int
    hip_flexion_deg: float
    active_cues: dict[str, str]  # fault id -> cue key
    dowel_gaps_m: tuple[float, float, float] = (math.nan, math.nan, math.nan)  # head, mid back, tailbone


@dataclass(frozen=True)
class RepView:
    index: int
    score: float
    peak_hip_flexion_deg: float
    peak_trunk_inclination_deg: float
    peak_knee_flexion_deg: float
    duration_s: float
    faults: dict[str, float]  # id -> severity
    # Checks this rep's input could not support (no depth, oblique view, hidden joints): a
    # clean rep with these was not judged on them, so its score says nothing about them.
    not_measurable: tuple[str, ...] = ()


def _default_table() -> CueTable:
    return load_cue_table("en")


@dataclass
class CuePolicy:
    """One cue at a time, chosen so the athlete can act on it.

    - Priority: back safety first (``CUE_PRIORITY``); a higher-priority cue
      replaces a lower one at once, a lower one waits for the dwell.
    - Dwell: a cue stays at least ``cue_min_dwell_s`` so nothing flickers.
    - Cooldown: after a cue ends, a *different* corrective cue waits
      ``cue_cooldown_s`` (back-safety cues never wait), so the athlete is not
      bombarded with changing instructions.
    - Escalation: a fault in ``escalate_after_reps`` reps in a row gets the
      more explicit wording and a blinking LED.
    - Praise: a clean rep shows "good"; ``praise_streak_reps`` clean reps in a
      row get the streak message.
    """

    cue_min_dwell_s: float = 1.0
    rep_result_hold_s: float = 1.5
    cue_cooldown_s: float = 0.0
    escalate_after_reps: int = 2
    praise_streak_reps: int = 3
    table: CueTable | None = None
    led_state: str = "no_person"
    cue_key: str = "no_person"
    escalated: bool = False
    _state_since: float = -math.inf
    _hold_until: float = -math.inf
    _cue_ended_at: float = -math.inf
    _last_cue: str = ""
    _fault_streak: dict[str, int] = field(default_factory=dict)
    _clean_streak: int = 0
    system_fault: bool = False

    def __post_init__(self) -> None:
        if self.table is None:
            self.table = _default_table()

    def _set(self, now: float, state: str, cue: str) -> None:
        if self.led_state in ("cue", "warning") and state not in ("cue", "warning"):
            self._cue_ended_at = now
        if state in ("cue", "warning"):
            self._last_cue = cue
        self.escalated = cue in CUE_PRIORITY and self._fault_streak.get(cue, 0) >= self.escalate_after_reps
        if (state, cue) != (self.led_state, self.cue_key):
            self.led_state, self.cue_key, self._state_since = state, cue, now

    def _set_cue(self, now: float, cue: str) -> None:
        self._set(now, "warning" if is_safety_cue(cue) else "cue", cue)

    def set_system_fault(self, now: float, fault: bool) -> None:
        """A driver or input problem: magenta until it clears; then the policy resumes."""
        if fault and not self.system_fault:
            self._set(now, "system_fault", "system_fault")
        elif not fault and self.system_fault:
            self._set(now, "ready", "ready")
        self.system_fault = fault

    def on_report(self, now: float, report: ReportView) -> None:
        if self.system_fault:
            return
        showing_cue = self.led_state in ("cue", "warning")
        in_dwell = showing_cue and now - self._state_since < self.cue_min_dwell_s
        if report.active_cues:
            best = min(report.active_cues.values(), key=cue_priority)
            if showing_cue:
                if best == self.cue_key or (in_dwell and cue_priority(best) >= cue_priority(self.cue_key)):
                    return  # same cue, or a less urgent one waiting for the dwell
                self._set_cue(now, best)
                return
            cooling = best != self._last_cue and now - self._cue_ended_at < self.cue_cooldown_s
            if cooling and not is_safety_cue(best):
                return
            self._set_cue(now, best)
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
        cues = {CUE_FOR_FAULT[f] for f in rep.faults if f in CUE_FOR_FAULT}
        self._fault_streak = {c: self._fault_streak.get(c, 0) + 1 for c in cues}
        self._clean_streak = 0 if rep.faults else self._clean_streak + 1
        if self.system_fault:
            return
        if rep.faults:
            # Show the rep's most important fault, even if it cleared during the ascent.
            self._set_cue(now, min(cues, key=cue_priority) if cues else "")
        else:
            streak = self._clean_streak >= self.praise_streak_reps
            self._set(now, "good", "good_streak" if streak else "good_rep")
        self._hold_until = now + self.rep_result_hold_s

    @property
    def colour(self) -> tuple[float, float, float, float]:
        return LED_COLOURS[self.led_state]

    @property
    def pattern(self) -> LedPattern:
        return led_pattern(self.led_state, self.escalated)

    @property
    def cue_text(self) -> str:
        assert self.table is not None
        return self.table.text(self.cue_key, self.escalated)


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
    # Acceleration cap: a display swinging on a mount next to a patient starts
    # and stops smoothly. Infinite means the speed cap alone.
    max_accel_dps2: float = math.inf

    def clamp(self, pan: float, tilt: float) -> tuple[float, float]:
        return (
            min(max(pan, self.pan_min_deg), self.pan_max_deg),
            min(max(tilt, self.tilt_min_deg), self.tilt_max_deg),
        )

    def inside(self, pan: float, tilt: float) -> bool:
        return self.pan_min_deg <= pan <= self.pan_max_deg and self.tilt_min_deg <= tilt <= self.tilt_max_deg


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


def _within(new_deg: float, old_deg: float, low_deg: float, high_deg: float) -> float:
    """One joint's next command, inside [low, high]; or, from outside them (limits narrowed at run
    time), no farther out than it already is: it comes back in under the speed and acceleration
    caps instead of jumping onto the limit in one step."""
    return min(max(new_deg, min(low_deg, old_deg)), max(high_deg, old_deg))


SETTLE_DEG = 1e-3  # the last step onto the target, far below what a servo resolves (0.088 deg)


def _axis_velocity(error: float, velocity: float, max_speed: float, max_accel: float, dt: float) -> float:
    """Next velocity of one joint: as fast as the caps allow while still able to stop at the target.

    The braking speed is the fastest speed from which decelerating by
    ``max_accel * dt`` per step stops within ``error``; the new velocity stays
    within ``max_accel * dt`` of the old one and within ``max_speed``.
    """
    dv = max_accel * dt
    distance = abs(error)
    if math.isinf(dv) or distance < SETTLE_DEG:
        braking = math.inf  # close enough to land in this step (a change far below the caps)
    else:
        # Stopping from v in steps of dv covers about v^2 / 2a + v dt; a margin of
        # one more step keeps it inside the error when the step length varies.
        braking = -1.5 * dv + math.sqrt(2.25 * dv * dv + 2.0 * max_accel * distance)
    desired = math.copysign(min(max_speed, braking, distance / dt), error) if error else 0.0
    new = min(max(desired, velocity - dv), velocity + dv)
    return min(max(new, -max_speed), max_speed)


@dataclass
class PanTiltController:
    """Speed- and acceleration-limited, dead-banded motion toward a target inside the limits.

    Limits narrowed at run time around the mount bring it back inside under the same caps; a joint
    already moving outward then stops where it is (the limit wins over the acceleration cap).
    """

    limits: PanTiltLimits
    pan_deg: float = field(init=False)
    tilt_deg: float = field(init=False)
    pan_dps: float = field(init=False, default=0.0)
    tilt_dps: float = field(init=False, default=0.0)
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

    def at_rest_on_target(self, tolerance_deg: float = 0.5) -> bool:
        """On the target and no longer moving: safe to drop the torque."""
        return (
            abs(self.pan_deg - self.target[0]) <= tolerance_deg
            and abs(self.tilt_deg - self.target[1]) <= tolerance_deg
            and abs(self.pan_dps) < 1.0
            and abs(self.tilt_dps) < 1.0
        )

    def reset(self, pan: float, tilt: float) -> None:
        """Take the mount's real position (after a reconnect, say) and stand still there.

        Not clamped: a mount found outside the limits (turned by hand while it had no torque,
        or the limits narrowed meanwhile) comes back in under the speed and acceleration caps,
        as from limits narrowed around it. Clamped, the controller took it to stand on the limit
        and its next command jumped there in one step."""
        if math.isfinite(pan) and math.isfinite(tilt):
            self.pan_deg, self.tilt_deg = pan, tilt
        self.pan_dps = self.tilt_dps = 0.0

    @property
    def moving(self) -> bool:
        return self.pan_dps != 0.0 or self.tilt_dps != 0.0

    def step(self, dt_s: float) -> tuple[float, float]:
        """Advance by ``dt_s`` seconds; returns the new command."""
        lim = self.limits
        if not (math.isfinite(dt_s) and dt_s > 0.0):
            return self.pan_deg, self.tilt_deg
        # Limits may have changed at run time: the target always lies inside them.
        self.target = lim.clamp(*self.target)
        pan_v = _axis_velocity(
            self.target[0] - self.pan_deg, self.pan_dps, lim.max_speed_dps, lim.max_accel_dps2, dt_s
        )
        tilt_v = _axis_velocity(
            self.target[1] - self.tilt_deg, self.tilt_dps, lim.max_speed_dps, lim.max_accel_dps2, dt_s
        )
        new_pan = _within(self.pan_deg + pan_v * dt_s, self.pan_deg, lim.pan_min_deg, lim.pan_max_deg)
        new_tilt = _within(self.tilt_deg + tilt_v * dt_s, self.tilt_deg, lim.tilt_min_deg, lim.tilt_max_deg)
        # The velocity is the step taken, so the next step's acceleration cap starts from the truth.
        self.pan_dps, self.tilt_dps = (new_pan - self.pan_deg) / dt_s, (new_tilt - self.tilt_deg) / dt_s
        self.pan_deg, self.tilt_deg = new_pan, new_tilt
        return self.pan_deg, self.tilt_deg


def format_rep_line(rep: RepView, led_state: str) -> str:
    faults = ", ".join(f"{f}({s:.2f})" for f, s in sorted(rep.faults.items())) or "none"
    unjudged = f" | not measurable: {', '.join(rep.not_measurable)}" if rep.not_measurable else ""

    def deg(value: float) -> str:  # NaN: the joints were hidden at the peak
        return f"{value:.0f} deg" if math.isfinite(value) else "not seen"

    return (
        f"rep {rep.index}: hip {deg(rep.peak_hip_flexion_deg)}, "
        f"trunk {deg(rep.peak_trunk_inclination_deg)}, knee {deg(rep.peak_knee_flexion_deg)}, "
        f"{rep.duration_s:.1f} s | faults: {faults}{unjudged} | score {rep.score:.0f} | LED {led_state}"
    )


def tally(ids_per_rep: Iterable[Iterable[str]]) -> dict[str, int]:
    """How many reps name each id (faults, or checks not measurable), sorted by id."""
    return dict(sorted(Counter(i for ids in ids_per_rep for i in ids).items()))


def format_summary(reps: list[RepView]) -> str:
    if not reps:
        return "session: no reps"

    def listed(counts: dict[str, int]) -> str:
        return ", ".join(f"{f} x{n}" for f, n in counts.items())

    by_fault = listed(tally(r.faults for r in reps)) or "none"
    unjudged = listed(tally(r.not_measurable for r in reps))
    mean = sum(r.score for r in reps) / len(reps)
    clean = sum(1 for r in reps if not r.faults)
    text = f"session: {len(reps)} reps, {clean} clean, mean score {mean:.0f} | faults: {by_fault}"
    return text + (f" | not measurable: {unjudged}" if unjudged else "")
