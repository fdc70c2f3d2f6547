"""The coaching screen shows the LED state, the skeleton with its dowel line, and the cue."""

import numpy as np

from hinge_coach_ros.athlete import AthleteSpec, generate
from hinge_coach_ros.display import DOWEL_COLOUR, render
from hinge_coach_ros.feedback import LED_COLOURS


def test_render_draws_band_figure_dowel_and_text():
    s = generate(AthleteSpec(reps=1))
    img = render(640, 360, s.landmarks[60], "Hips back", LED_COLOURS["cue"], 3, 80.0)
    assert img.shape == (360, 640, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(img[180, 5], [255, 140, 0])  # amber band on the left edge
    left, right = img[:, 16:320], img[:, 330:]
    dowel_rgb = np.array(DOWEL_COLOUR[::-1])
    assert (np.abs(left.astype(int) - dowel_rgb).sum(axis=2) < 30).sum() > 100  # dowel line and points
    assert (left.min(axis=2) > 200).sum() > 300  # white bones
    assert (right.min(axis=2) > 200).sum() > 200  # white text: reps and score
    amber_text = (np.abs(right.astype(int) - [255, 140, 0]).sum(axis=2) < 60).sum()
    assert amber_text > 100  # the cue, in the LED colour


def test_render_without_a_person_has_no_figure():
    img = render(320, 180, None, "", LED_COLOURS["no_person"], 0, None)
    figure = img[:, 20:160]
    assert (figure.min(axis=2) > 200).sum() == 0


def test_contact_points_are_coloured_by_their_gap():
    from hinge_coach_ros.display import GAP_COLOURS, gap_class

    s = generate(AthleteSpec(reps=1))
    img = render(640, 360, s.landmarks[60], "Hips back", LED_COLOURS["cue"], 3, 80.0, (0.01, 0.045, 0.09))
    left = img[:, 16:320].astype(int)
    for name in ("ok", "warn", "off"):
        near = (np.abs(left - np.array(GAP_COLOURS[name])).sum(axis=2) < 30).sum()
        assert near > 40, name  # one filled dot per contact point
    assert [gap_class(g) for g in (0.0, 0.04, -0.2, float("nan"))] == ["ok", "warn", "off", "unknown"]


def test_cue_in_german_is_drawn_without_missing_glyphs():
    from hinge_coach_ros.display import drawable

    assert drawable("Hüfte nach hinten, Gesäß anspannen") == "Huefte nach hinten, Gesaess anspannen"
    assert drawable("¡Buena repetición!") == "Buena repeticion!"


def test_window_without_a_display_is_a_clear_error(monkeypatch):
    import pytest

    from hinge_coach_ros.display import DisplayWindow

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(RuntimeError, match="no graphical display"):
        DisplayWindow()
