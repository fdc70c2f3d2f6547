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
) -> np.ndarray:
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
                for q in dowel:
                    cv2.circle(img, q, 6, DOWEL_COLOUR, -1, cv2.LINE_AA)
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
    words, line, y = cue_text.split(), "", int(180 * text_scale)
    for word in words + [None]:
        candidate = f"{line} {word}".strip() if word else line
        size = cv2.getTextSize(candidate, font, 0.9 * text_scale, 2)[0][0]
        if word is None or (size > width - x0 - 10 and line):
            cv2.putText(img, line, (x0, y), font, 0.9 * text_scale, _to_bgr255(led_rgba), 2, cv2.LINE_AA)
            y += int(40 * text_scale)
            line = word or ""
        else:
            line = candidate
    return np.ascontiguousarray(img[:, :, ::-1])  # BGR drawing -> RGB image
