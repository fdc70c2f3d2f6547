"""The full-screen coaching window, shown on a virtual display and checked in a screenshot."""

import os
import shutil
import struct
import subprocess
import time

import numpy as np
import pytest

from hinge_coach_ros.athlete import AthleteSpec, generate
from hinge_coach_ros.display import BACKGROUND, DisplayWindow, render
from hinge_coach_ros.feedback import LED_COLOURS

pytestmark = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xwd") is None,
    reason="needs Xvfb and xwd (Debian xvfb, x11-apps; make installs them)",
)


@pytest.fixture
def virtual_display(monkeypatch):
    display = f":{90 + os.getpid() % 100}"
    server = subprocess.Popen(["Xvfb", display, "-screen", "0", "800x600x24"], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    monkeypatch.setenv("DISPLAY", display)
    yield display
    server.terminate()
    server.wait(timeout=10)


def screenshot(display: str) -> np.ndarray:
    """The whole screen as RGB, read from xwd's dump (ZPixmap, 24 or 32 bits per pixel)."""
    raw = subprocess.run(
        ["xwd", "-root", "-silent", "-display", display], capture_output=True, check=True
    ).stdout
    header = struct.unpack(">25I", raw[:100])
    header_size, width, height = header[0], header[4], header[5]
    bits_per_pixel, bytes_per_line, ncolors, byte_order = header[11], header[12], header[19], header[7]
    step = bits_per_pixel // 8
    start = header_size + 12 * ncolors
    rows = np.frombuffer(raw[start : start + bytes_per_line * height], np.uint8).reshape(
        height, bytes_per_line
    )
    pixels = rows[:, : width * step].reshape(height, width, step)[:, :, :3]
    return pixels[:, :, ::-1] if byte_order == 0 else pixels  # least significant byte first: B, G, R


def test_window_shows_the_coaching_screen(virtual_display):
    session = generate(AthleteSpec(reps=1))
    image = render(640, 360, session.landmarks[60], "Hips back", LED_COLOURS["cue"], 2, 85.0)
    window = DisplayWindow()
    try:
        for _ in range(30):  # let the toolkit map and paint the window
            window.show(image)
            time.sleep(0.03)
        shot = screenshot(virtual_display)
    finally:
        window.close()
    assert window.frames_shown == 30

    def count(rgb):
        return int((np.abs(shot.astype(int) - np.array(rgb)).sum(axis=2) < 12).sum())

    assert count(BACKGROUND) > 20000  # the screen's background fills most of the window
    assert count((255, 140, 0)) > 500  # the amber LED band and the cue in amber letters
    assert count((255, 255, 255)) > 300  # the white skeleton and the rep count
