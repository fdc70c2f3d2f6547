"""Actuator drivers behind one interface each, chosen by a backend parameter.

LED: ``open()``, ``show(rgba, pattern)``, ``off()``, ``close()``.
Pan-tilt: ``open()``, ``command(pan_deg, tilt_deg)``, ``read_position()``,
``safe_stop()`` (home, then torque off), ``torque_off()``, ``close()``.
Every method raises ``DriverError`` (one line) when the device fails.

``DeviceWorker`` runs a driver's blocking I/O in its own thread, so the
node's callbacks never wait on a serial line or an HTTP request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..feedback import PanTiltLimits
from .errors import DriverError
from .sim import SimLed, SimPanTilt

__all__ = ["DeviceWorker", "DriverError", "SimLed", "SimPanTilt", "make_led", "make_pan_tilt"]


def make_led(params: dict[str, Any]) -> Any:
    backend = params["led_backend"]
    if backend == "sim":
        return SimLed()
    if backend == "serial":
        from .led_serial import SerialLed

        return SerialLed(params["led_port"], params["led_baud"], params["led_brightness"])
    if backend == "wled":
        from .wled import WledLed

        return WledLed(params["led_address"], params["led_brightness"])
    raise DriverError(f"unknown led_backend {backend!r}")


def make_pan_tilt(params: dict[str, Any], limits: PanTiltLimits) -> Any:
    backend = params["pan_tilt_backend"]
    if backend == "sim":
        return SimPanTilt(limits, *limits.clamp(limits.home_pan_deg, limits.home_tilt_deg))
    if backend == "dynamixel":
        from .dynamixel import DynamixelPanTilt, ServoMounting

        return DynamixelPanTilt(
            params["pan_tilt_port"],
            params["pan_tilt_baud"],
            params["pan_servo_id"],
            params["tilt_servo_id"],
            limits,
            ServoMounting(params["pan_servo_zero_deg"], params["pan_servo_reversed"]),
            ServoMounting(params["tilt_servo_zero_deg"], params["tilt_servo_reversed"]),
        )
    raise DriverError(f"unknown pan_tilt_backend {backend!r}")


class DeviceWorker:
    """A driver's own thread: runs the latest submitted job; a failing driver is reopened later.

    Only the newest job waits (a new one replaces it): a slow device skips
    stale commands instead of queueing them. A job that fails stays waiting
    (unless a newer one replaces it) and runs again after ``retry_s``, as
    does one submitted meanwhile: a park (safe stop), submitted once, is
    not lost to a failing device. ``error`` holds the last failure's message
    until a job succeeds again.
    """

    def __init__(self, name: str, driver: Any, retry_s: float, on_error: Callable[[Any], None] | None = None):
        self.name, self.driver, self.retry_s = name, driver, retry_s
        self._on_error = on_error  # called in the worker thread after a failure (e.g. torque off)
        self._job: Callable[[Any], None] | None = None
        self._cv = threading.Condition()
        self._stop = False
        self.opened = False
        self.error: str | None = None
        self.failures = 0
        self.jobs_done = 0
        self._retry_at = 0.0
        self._thread = threading.Thread(target=self._loop, name=f"driver-{name}", daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[Any], None]) -> None:
        with self._cv:
            self._job = job
            self._cv.notify()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._stop and (self._job is None or time.monotonic() < self._retry_at):
                    # A failed device waits before the next attempt; the job waits with it.
                    self._cv.wait(None if self._job is None else self._retry_at - time.monotonic())
                if self._stop:
                    return
                job, self._job = self._job, None
            try:
                if not self.opened:
                    self.driver.open()
                    self.opened = True
                job(self.driver)
                self.error = None
                self.jobs_done += 1
            except Exception as exc:  # any: an exception the driver let through must not end the thread
                self.failures += 1
                # Anything but the drivers' own one-line errors is named by its type: the message of
                # an unexpected exception may say little, or be empty (which would read as no error).
                self.error = str(exc) if isinstance(exc, (DriverError, OSError)) else f"{self.name}: {exc!r}"
                self._retry_at = time.monotonic() + self.retry_s
                if self.opened and self._on_error is not None:
                    try:
                        self._on_error(self.driver)
                    except Exception:
                        pass  # the device is gone; the error above already says so
                self.opened = False
                try:
                    self.driver.close()
                except Exception:
                    pass
                with self._cv:
                    if self._job is None:
                        self._job = job  # tried again after retry_s, unless a newer one comes first

    def stop(self) -> None:
        """Stop the thread; the caller then drives the device to its safe state directly."""
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._thread.join(timeout=10.0)
