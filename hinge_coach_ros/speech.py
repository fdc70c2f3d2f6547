"""Spoken cues through espeak-ng: never two at once, never too often.

ROS-free. ``Speaker.say`` starts the speech command in a subprocess and
returns at once; while it speaks, or within ``min_interval_s`` of the last
start, a new cue waits as the one pending cue (a newer cue replaces it, a
cleared cue is dropped), and ``poll`` starts it when the line is free. When
the command is not installed the speaker is off and says so once, in
``status``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field


@dataclass
class Speaker:
    command: list[str] = field(default_factory=lambda: ["espeak-ng"])
    voice: str = "en"
    words_per_minute: int = 150
    min_interval_s: float = 4.0
    extra_args: list[str] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list, init=False)
    _process: subprocess.Popen | None = field(default=None, init=False)
    _pending: str | None = field(default=None, init=False)
    _last_start_s: float = field(default=-float("inf"), init=False)
    _failure: str = field(default="", init=False)  # why speech is off; "" while it is on

    def __post_init__(self) -> None:
        if shutil.which(self.command[0]) is None:
            self._failure = f"speech off: {self.command[0]} is not installed"

    @property
    def available(self) -> bool:
        """Speech is on: the program is installed and has not failed to start."""
        return not self._failure

    @property
    def status(self) -> str:
        """One line for the diagnostics: on with its voice (the current one: a live language
        change sets it), or why it is off."""
        return self._failure or f"speech on ({self.command[0]}, voice {self.voice})"

    @property
    def speaking(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def say(self, text: str, now_s: float) -> None:
        """Speak this cue as soon as the line is free and the rate limit allows."""
        if not self.available or not text:
            return
        self._pending = text
        self.poll(now_s)

    def cancel_pending(self) -> None:
        self._pending = None

    def poll(self, now_s: float) -> bool:
        """Start the pending cue if nothing is speaking and the interval has passed; True if started."""
        if self._pending is None or self.speaking or now_s - self._last_start_s < self.min_interval_s:
            return False
        text, self._pending = self._pending, None
        args = [*self.command, "-v", self.voice, "-s", str(self.words_per_minute), *self.extra_args, text]
        try:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        except OSError as exc:
            self._failure = f"speech off: {self.command[0]} failed to start ({exc})"
            return False
        self._last_start_s = now_s
        self.spoken.append(text)
        return True

    def close(self, timeout_s: float = 2.0) -> None:
        """Let the current cue finish (bounded), then stop."""
        self._pending = None
        if self._process is not None:
            try:
                self._process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
