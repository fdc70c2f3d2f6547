"""The session log: one JSON line per rep, written and flushed when the rep ends.

ROS-free. One file per session, ``session-YYYYmmdd-HHMMSS.jsonl`` in the
log folder: a ``session_start`` line, one ``rep`` line per rep (time,
exercise, metrics, faults, the checks not measurable, score), a ``settings``
line when the cue language or file changes while running (the reps after
it were cued in that language), and a ``summary`` line at the end. Each
line is flushed and synced to disk as it is written, so killing the process
loses at most the rep in progress. No images are stored.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from .feedback import RepView, tally


class SessionLogError(OSError):
    """The log folder cannot be written."""


def session_stem(started: datetime) -> str:
    return "session-" + started.strftime("%Y%m%d-%H%M%S")


class SessionLog:
    def __init__(self, folder: Path, exercise: str, station: str = "", language: str = "") -> None:
        self.folder = Path(folder)
        self.exercise = exercise
        self.started = datetime.now().astimezone()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = session_stem(self.started)
            path = self.folder / f"{stem}.jsonl"
            n = 1
            while path.exists():  # two sessions in the same second
                n += 1
                path = self.folder / f"{stem}-{n}.jsonl"
            self.path = path
            self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept open for the session)
        except OSError as exc:
            raise SessionLogError(
                f"session log: cannot write to {self.folder}: {exc.strerror or exc}"
            ) from None
        self.reps: list[RepView] = []
        self._write(
            {
                "type": "session_start",
                "time": self.started.isoformat(timespec="seconds"),
                "exercise": exercise,
                "station": station,
                "language": language,
            }
        )

    def _write(self, row: dict[str, Any]) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())  # the rep survives a power cut or a kill

    def log_settings(self, **settings: str) -> None:
        """A change of what the session runs with (the cue language or file), from now on."""
        self._write(
            {
                "type": "settings",
                "time": datetime.now().astimezone().isoformat(timespec="seconds"),
                **settings,
            }
        )

    def log_rep(self, rep: RepView, cue_key: str, led_state: str, wall_time_s: float | None = None) -> None:
        self.reps.append(rep)

        def num(x: float) -> float | None:
            return round(float(x), 3) if math.isfinite(x) else None  # NaN and inf are not JSON

        self._write(
            {
                "type": "rep",
                "time": datetime.fromtimestamp(wall_time_s or time.time())
                .astimezone()
                .isoformat(timespec="milliseconds"),
                "exercise": self.exercise,
                "rep": rep.index,
                "duration_s": num(rep.duration_s),
                "peak_hip_flexion_deg": num(rep.peak_hip_flexion_deg),
                "peak_trunk_inclination_deg": num(rep.peak_trunk_inclination_deg),
                "peak_knee_flexion_deg": num(rep.peak_knee_flexion_deg),
                "faults": {k: num(v) for k, v in sorted(rep.faults.items())},
                "not_measurable": sorted(rep.not_measurable),
                "score": num(rep.score),
                "cue": cue_key,
                "led": led_state,
            }
        )

    def summary(self) -> dict[str, Any]:
        scores = [r.score for r in self.reps if math.isfinite(r.score)]
        return {
            "type": "summary",
            "time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "exercise": self.exercise,
            "reps": len(self.reps),
            "clean_reps": sum(1 for r in self.reps if not r.faults),
            "mean_score": round(sum(scores) / len(scores), 1) if scores else None,
            "faults": tally(r.faults for r in self.reps),
            "not_measurable": tally(r.not_measurable for r in self.reps),
        }

    def close(self) -> dict[str, Any]:
        summary = self.summary()
        if not self._file.closed:
            try:
                self._write(summary)
            finally:
                self._file.close()  # a full disk loses the summary, not the file handle
        return summary


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a session log (a line cut by a kill is skipped)."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows
