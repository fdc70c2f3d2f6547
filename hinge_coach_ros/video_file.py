"""Writing mp4 videos the way a phone stores them: frames plus a display rotation.

ROS-free. A phone held upright records landscape sensor frames and writes a
display matrix into the mp4 track header (``tkhd``) saying how to turn them
for display; players and ``sources.VideoSource`` apply it. OpenCV's video
writer cannot set that matrix, so ``set_display_rotation`` patches it into
the written file: the synthetic athlete can then be stored exactly as a
phone would store a portrait clip, with no extra dependency.

The matrix (ISO/IEC 14496-12, 8.3.2) is nine 32-bit numbers ``a b u c d v x
y w`` (16.16 fixed point, ``u v w`` 2.30) mapping a stored pixel (p, q) to
display (a p + c q + x, b p + d q + y). A clockwise turn by r is
``a = cos r, b = sin r, c = -sin r, d = cos r``; the translation, which
players ignore when they read the rotation, is left at zero.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np


def _boxes(data: bytes | bytearray, start: int, end: int):
    """(type, offset, size) of each ISO-BMFF box between start and end."""
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:  # 64-bit size follows the type
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:  # the box runs to the end
            size = end - offset
        if size < 8:
            raise ValueError(f"corrupt mp4: box {kind!r} of size {size} at {offset}")
        yield kind, offset, size
        offset += size


def _track_headers(data: bytearray) -> list[int]:
    """Offsets of every tkhd box (one per track)."""
    found = []
    for kind, offset, size in _boxes(data, 0, len(data)):
        if kind != b"moov":
            continue
        for kind2, offset2, size2 in _boxes(data, offset + 8, offset + size):
            if kind2 != b"trak":
                continue
            found += [o for k, o, _ in _boxes(data, offset2 + 8, offset2 + size2) if k == b"tkhd"]
    return found


def set_display_rotation(path: Path, clockwise_deg: int) -> None:
    """Write the display matrix for a clockwise turn of 0, 90, 180 or 270 deg into every track."""
    if clockwise_deg % 90:
        raise ValueError(f"display rotation must be a multiple of 90 deg, not {clockwise_deg}")
    data = bytearray(Path(path).read_bytes())
    headers = _track_headers(data)
    if not headers:
        raise ValueError(f"{path}: no mp4 track header (tkhd) found")
    r = math.radians(clockwise_deg)
    cos, sin = round(math.cos(r)), round(math.sin(r))
    fixed = 1 << 16
    matrix = struct.pack(">9i", cos * fixed, sin * fixed, 0, -sin * fixed, cos * fixed, 0, 0, 0, 1 << 30)
    for offset in headers:
        version = data[offset + 8]
        # size, type, version+flags; times, track id, reserved, duration; reserved,
        # layer, alternate group, volume, reserved: then the matrix.
        times = 32 if version == 1 else 20
        start = offset + 12 + times + 16
        data[start : start + 36] = matrix
    Path(path).write_bytes(bytes(data))


def write_video(
    path: Path, frames_rgb: Iterable[np.ndarray], fps: float, display_rotation_deg: int = 0
) -> int:
    """Write upright RGB frames to an mp4 (MPEG-4 part 2) stored as a phone would store them.

    With ``display_rotation_deg`` the frames are stored turned the other way
    and the track header says to turn them back for display. Returns the
    number of frames written.
    """
    import cv2

    writer = None
    count = 0
    try:
        for rgb in frames_rgb:
            stored = np.ascontiguousarray(np.rot90(rgb, k=display_rotation_deg // 90))  # counterclockwise
            if writer is None:
                h, w = stored.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
                if not writer.isOpened():
                    raise RuntimeError(f"OpenCV cannot write {path}")
            writer.write(cv2.cvtColor(stored, cv2.COLOR_RGB2BGR))
            count += 1
    finally:
        if writer is not None:
            writer.release()
    if display_rotation_deg % 360:
        set_display_rotation(path, display_rotation_deg % 360)
    return count
