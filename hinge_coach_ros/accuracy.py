"""Accuracy of the alignment engine against the synthetic athlete's truth.

For each exercise and camera placement, sessions with known faults run
through the engine; the table gives angle errors, rep counts, and for every
fault how often it was found on the reps that have it and raised on the reps
that do not. ``hinge-coach accuracy`` prints it; the tests assert on it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .alignment import HingeEngine
from .athlete import PRESETS, AthleteSpec, CameraPlacement, generate

# Magnitudes well past the default thresholds (a clear case of each fault).
FAULT_CASES: dict[str, float] = {
    "squat": 40.0,
    "head_up": 25.0,
    "head_down": 30.0,
    "banana_back": 15.0,
    "incomplete_lockout": 20.0,
    "fast_descent": 2.0,
    "toes": 70.0,
    "heels": 70.0,
    "hips_rise_first": 50.0,
    "hips_high": 25.0,
}
# Checks for pulls from the floor only (not the dowel drill, where straight-ish legs are the point).
FLOOR_ONLY = ("hips_rise_first", "hips_high")
# Checks that do not yet meet the bar (found on 95% of faulty reps, raised on at most 5% of
# clean ones) on every seed: printed in the table, not yet asserted by the tests.
NOT_YET_RELIABLE: tuple[str, ...] = ()
VIEWS = ("side", "oblique45")
ANGLES = ("trunk_inclination_deg", "hip_flexion_deg", "knee_flexion_deg")


@dataclass
class Tally:
    found: int = 0  # faulty reps where the engine raised the fault
    faulty: int = 0
    false_alarms: int = 0  # clean reps where it raised it anyway
    clean: int = 0

    @property
    def detection_rate(self) -> float:
        return self.found / self.faulty if self.faulty else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.clean if self.clean else float("nan")


@dataclass
class Result:
    tallies: dict[str, Tally] = field(default_factory=dict)
    by_view: dict[str, dict[str, Tally]] = field(default_factory=dict)  # view -> fault -> tally
    angle_errors: dict[str, list[float]] = field(default_factory=dict)
    sessions: int = 0
    rep_count_exact: int = 0

    def angle_mae(self, name: str) -> float:
        return float(np.mean(self.angle_errors[name]))


def _session_faults(faults: list[str]) -> dict[int, dict[str, float]]:
    """Reps 2, 4, ... carry the faults, reps 1, 3, ... are clean."""
    return {2 * i + 2: {f: FAULT_CASES[f]} for i, f in enumerate(faults)}


def evaluate(
    presets: tuple[str, ...] = tuple(sorted(PRESETS)),
    views: tuple[str, ...] = VIEWS,
    seeds: tuple[int, ...] = (1, 2),
    faults: tuple[str, ...] = tuple(FAULT_CASES),
) -> Result:
    result = Result(
        tallies={f: Tally() for f in faults},
        by_view={v: {f: Tally() for f in faults} for v in views},
        angle_errors={a: [] for a in ANGLES},
    )
    for preset, view, seed in itertools.product(presets, views, seeds):
        injected = [f for f in faults if PRESETS[preset].from_floor or f not in FLOOR_ONLY]
        fault_reps = _session_faults(injected)
        spec = AthleteSpec(
            preset=preset,
            reps=2 * len(injected) + 1,
            faults=fault_reps,
            camera=CameraPlacement(view=view),
            seed=seed,
        )
        session = generate(spec)
        engine = HingeEngine({"exercise": preset})
        reps = []
        measured = {a: [] for a in ANGLES}
        for t, lm in zip(session.times_s, session.landmarks):
            report = engine.update(float(t), lm)
            for a in ANGLES:
                measured[a].append(getattr(report.angles, a) if report.angles else np.nan)
            if report.completed_rep is not None:
                reps.append(report.completed_rep)
        result.sessions += 1
        result.rep_count_exact += int(len(reps) == spec.reps)
        settled = slice(int(session.fps), None)  # after the floor estimate settles (1 s)
        for a in ANGLES:
            error = np.abs(np.asarray(measured[a]) - getattr(session, a))[settled]
            result.angle_errors[a].append(float(np.nanmean(error)))
        if len(reps) != spec.reps:
            continue  # counted as a rep-count failure; fault rates need reps matched to truth
        for rep, truth in zip(reps, session.reps):
            for fault_id in faults:
                raised = fault_id in rep.faults
                for tally in (result.tallies[fault_id], result.by_view[view][fault_id]):
                    if fault_id in truth["faults"]:
                        tally.faulty += 1
                        tally.found += int(raised)
                    elif not truth["faults"]:
                        tally.clean += 1
                        tally.false_alarms += int(raised)
    return result


def format_result(result: Result) -> str:
    lines = [
        f"sessions: {result.sessions}, rep count exact in {result.rep_count_exact}",
        "angle mean absolute error: " + ", ".join(f"{a} {result.angle_mae(a):.2f} deg" for a in ANGLES),
        f"{'fault':<20} {'found':>12} {'rate':>6} {'false alarms':>14} {'rate':>6}",
    ]
    for fault_id, t in result.tallies.items():
        lines.append(
            f"{fault_id:<20} {t.found:>5} / {t.faulty:<4} {t.detection_rate:>6.0%} "
            f"{t.false_alarms:>7} / {t.clean:<4} {t.false_alarm_rate:>6.0%}"
        )
    views = list(result.by_view)
    lines.append("by camera placement, found rate / false alarm rate:")
    lines.append(f"{'fault':<20} " + " ".join(f"{v:>14}" for v in views))
    for fault_id in result.tallies:
        rates = [result.by_view[v][fault_id] for v in views]
        lines.append(
            f"{fault_id:<20} "
            + " ".join(f"{f'{t.detection_rate:.0%} / {t.false_alarm_rate:.0%}':>14}" for t in rates)
        )
    return "\n".join(lines)
