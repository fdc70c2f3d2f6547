"""Simulated backends. They are full backends: they keep state, enforce the
same limits a real device would, and record what they were told.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..feedback import LedPattern, PanTiltLimits


@dataclass
class SimLed:
    """A simulated LED strip: holds one colour and its pattern."""

    colour: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    pattern: LedPattern = field(default_factory=lambda: LedPattern("solid"))
    history: list[tuple[float, float, float, float]] = field(default_factory=list)
    name = "sim"

    def open(self) -> None:
        pass

    def set_colour(self, rgba: tuple[float, float, float, float]) -> None:
        if rgba != self.colour:
            self.history.append(rgba)
        self.colour = rgba

    def show(self, rgba: tuple[float, float, float, float], pattern: LedPattern) -> None:
        self.set_colour(rgba)
        self.pattern = pattern

    def off(self) -> None:
        self.show((0.0, 0.0, 0.0, 0.0), LedPattern("solid"))

    def close(self) -> None:
        pass


@dataclass
class SimPanTilt:
    """A simulated pan-tilt mount that, like a servo with limits set, refuses to pass them."""

    limits: PanTiltLimits
    pan_deg: float = 0.0
    tilt_deg: float = 0.0
    torque_on: bool = True
    rejected_commands: int = 0
    name = "sim"

    def open(self) -> None:
        self.torque_on = True

    def command(self, pan_deg: float, tilt_deg: float) -> None:
        if not self.torque_on:
            return
        if not (math.isfinite(pan_deg) and math.isfinite(tilt_deg)):
            self.rejected_commands += 1
            return
        clamped = self.limits.clamp(pan_deg, tilt_deg)
        if clamped != (pan_deg, tilt_deg):
            self.rejected_commands += 1
        self.pan_deg, self.tilt_deg = clamped

    def read_position(self) -> tuple[float, float]:
        return self.pan_deg, self.tilt_deg

    def safe_stop(self) -> None:
        """Home, then torque off: the state the mount is left in on exit or error."""
        self.torque_on = True
        self.command(self.limits.home_pan_deg, self.limits.home_tilt_deg)
        self.torque_on = False

    def torque_off(self) -> None:
        self.torque_on = False

    def torque_enable(self) -> None:
        self.torque_on = True

    def close(self) -> None:
        pass
