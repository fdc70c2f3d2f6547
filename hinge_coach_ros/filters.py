"""The one-euro filter (Casiez, Roussel and Vogel, CHI 2012) for landmark jitter.

It smooths hard when a joint is still (jitter is what shows then) and little
when it moves fast (lag is what shows then), so the feedback stays immediate.
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Element-wise one-euro filter over an array (e.g. (33, 3) landmarks); NaN entries pass through."""

    def __init__(self, min_cutoff_hz: float = 1.5, beta: float = 0.5, d_cutoff_hz: float = 1.0) -> None:
        if min_cutoff_hz <= 0 or d_cutoff_hz <= 0 or beta < 0:
            raise ValueError("cut-off frequencies must be positive and beta non-negative")
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def reset(self) -> None:
        self._x = self._dx = self._t = None

    def __call__(self, t_s: float, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self._x is None or self._t is None or t_s <= self._t or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), t_s
            return x.copy()
        dt = t_s - self._t
        self._t = t_s
        prev = np.where(np.isfinite(self._x), self._x, x)  # a joint seen again starts fresh
        dx = (x - prev) / dt
        a_d = _alpha(self.d_cutoff_hz, dt)
        self._dx = np.where(np.isfinite(dx), a_d * dx + (1 - a_d) * np.nan_to_num(self._dx), 0.0)
        cutoff = self.min_cutoff_hz + self.beta * np.abs(self._dx)
        tau = 1.0 / (2.0 * np.pi * cutoff)
        a = 1.0 / (1.0 + tau / dt)
        out = np.where(np.isfinite(x), a * x + (1 - a) * prev, np.nan)
        self._x = np.where(np.isfinite(out), out, self._x)
        return out
