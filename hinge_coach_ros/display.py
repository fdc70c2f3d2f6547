"""The coaching screen: skeleton, virtual dowel line, current cue, reps and score.

ROS-free; returns an RGB image (H, W, 3) uint8 that the feedback node
publishes as sensor_msgs/Image.
"""

from __future__ import annotations

import cv2
import numpy as np

from .landmarks import BONES, INDEX

BACKGROUND = (24, 24, 32)
BONE_COLOUR = (230, 230, 230)
DOWEL_COLOUR = (80, 200, 255)
# Contact points of the virtual dowel, coloured by their gap to the line
# (RGB): on the line, a small gap (the low back's natural curve), off the line.
GAP_OK_M = 0.03
GAP_WARN_M = 0.06
GAP_COLOURS = {"ok": (0, 220, 0), "warn": (255, 160, 0), "off": (255, 0, 0), "unknown": (255, 200, 80)}


def drawable(text: str) -> str:
    """The screen font draws ASCII only: umlauts and accents lose their marks (ae for ae-umlaut)."""
    import unicodedata

    for src, dst in zip("äöüÄÖÜß", ("ae", "oe", "ue", "Ae", "Oe", "Ue", "ss")):
        text = text.replace(src, dst)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isascii())


def gap_class(gap_m: float | None) -> str:
    if gap_m is None or not np.isfinite(gap_m):
        return "unknown"
    return "ok" if abs(gap_m) < GAP_OK_M else "warn" if abs(gap_m) < GAP_WARN_M else "off"


def _to_bgr255(rgba: tuple[float, float, float, float]) -> tuple[int, int, int]:
    r, g, b, _ = rgba
    return int(b * 255), int(g * 255), int(r * 255)


def render(
    width: int,
    height: int,
    landmarks: np.ndarray | None,
    cue_text: str,
    led_rgba: tuple[float, float, float, float],
    rep_count: int,
    last_score: float | None,
    dowel_gaps_m: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """The coaching screen; ``dowel_gaps_m`` (head, mid back, tailbone) colours the contact points."""
    img = np.zeros((height, width, 3), np.uint8)
    img[:] = BACKGROUND[::-1]
    # LED state as a band on the left edge, so the screen and the strip agree.
    cv2.rectangle(img, (0, 0), (max(8, width // 40), height), _to_bgr255(led_rgba), -1)
    figure_w = width // 2
    if landmarks is not None and np.isfinite(landmarks[:, :2]).any():
        xy = landmarks[:, :2]
        seen = np.isfinite(xy).all(axis=1) & (landmarks[:, 3] > 0.3)
        if seen.sum() >= 2:
            lo, hi = xy[seen].min(axis=0), xy[seen].max(axis=0)
            scale = 0.8 * min(figure_w / max(hi[0] - lo[0], 0.3), height / max(hi[1] - lo[1], 0.3))
            centre = 0.5 * (lo + hi)
            pix = (xy - centre) * scale + np.array([figure_w / 2 + width // 40, height / 2])

            def p(name: str) -> tuple[int, int] | None:
                i = INDEX[name]
                return (int(pix[i, 0]), int(pix[i, 1])) if seen[i] else None

            for a, b in BONES:
                pa, pb = p(a), p(b)
                if pa and pb:
                    cv2.line(img, pa, pb, BONE_COLOUR, 3, cv2.LINE_AA)
            # Virtual dowel: head, mid back and tailbone.
            dowel = [p("left_ear") or p("right_ear"), p("left_shoulder") or p("right_shoulder")]
            dowel.append(p("left_hip") or p("right_hip"))
            if all(dowel):
                cv2.line(img, dowel[0], dowel[2], DOWEL_COLOUR, 2, cv2.LINE_AA)
                gaps = dowel_gaps_m if dowel_gaps_m is not None else (None, None, None)
                for q, gap in zip(dowel, gaps):
                    colour = GAP_COLOURS[gap_class(gap)][::-1]  # RGB -> BGR for drawing
                    cv2.circle(img, q, max(6, height // 45), colour, -1, cv2.LINE_AA)
    x0 = figure_w + width // 20
    font = cv2.FONT_HERSHEY_SIMPLEX
    text_scale = height / 360.0
    cv2.putText(
        img,
        f"Reps: {rep_count}",
        (x0, int(60 * text_scale)),
        font,
        1.2 * text_scale,
        (255, 255, 255),
        2,
        cv2.LINE_AA,
    )
    score = "-" if last_score is None else f"{last_score:.0f}"
    cv2.putText(
        img,
        f"Last score: {score}",
        (x0, int(110 * text_scale)),
        font,
        0.9 * text_scale,
        (255, 255, 255),
        2,
        cv2.LINE_AA,
    )
    # The cue, wrapped to the right half in large letters.
    words, line, y = drawable(cue_text).split(), "", int(180 * text_scale)
    for word in words + [None]:
        candidate = f"{line} {word}".strip() if word else line
        size = cv2.getTextSize(candidate, font, 1.1 * text_scale, 3)[0][0]
        if word is None or (size > width - x0 - 10 and line):
            cv2.putText(img, line, (x0, y), font, 1.1 * text_scale, _to_bgr255(led_rgba), 3, cv2.LINE_AA)
            y += int(46 * text_scale)
            line = word or ""
        else:
            line = candidate
    return np.ascontiguousarray(img[:, :, ::-1])  # BGR drawing -> RGB image


class DisplayWindow:
    """The coaching screen full screen on the station's monitor (display_backend 'window')."""

    def __init__(self, title: str = "hinge coach") -> None:
        import os

        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise RuntimeError("display window: no graphical display (DISPLAY is not set)")
        self.title = title
        try:
            cv2.namedWindow(title, cv2.WINDOW_NORMAL)
            cv2.setWindowProperty(title, cv2.WND_PROP_FULLSCREEN, cv2.WINDOW_FULLSCREEN)
        except cv2.error as exc:
            raise RuntimeError(f"display window: cannot open: {exc}") from None
        self.frames_shown = 0

    def show(self, rgb: np.ndarray) -> None:
        cv2.imshow(self.title, np.ascontiguousarray(rgb[:, :, ::-1]))
        cv2.waitKey(1)  # lets the GUI toolkit draw; returns at once
        self.frames_shown += 1

    def close(self) -> None:
        try:
            cv2.destroyWindow(self.title)
            cv2.waitKey(1)
        except cv2.error:
            pass
