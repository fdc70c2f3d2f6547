"""The one-euro filter: smooth when still, little lag when moving."""

import numpy as np
import pytest

from hinge_coach_ros.filters import OneEuroFilter, zero_phase_lowpass


def test_jitter_is_reduced_when_still():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=0.5)
    raw = 1.0 + rng.normal(0, 0.01, 300)
    out = np.array([f(i / 30, np.array([x]))[0] for i, x in enumerate(raw)])
    assert np.std(out[30:]) < 0.4 * np.std(raw[30:])


def test_lag_stays_small_on_fast_motion():
    f = OneEuroFilter(min_cutoff_hz=1.0, beta=5.0)
    t = np.arange(90) / 30
    ramp = 2.0 * t  # 2 m/s, a fast hinge's shoulder speed
    out = np.array([f(ti, np.array([x]))[0] for ti, x in zip(t, ramp)])
    lag_s = (ramp[-1] - out[-1]) / 2.0
    assert lag_s < 0.05  # under 2 frames at 30 fps
    plain = OneEuroFilter(min_cutoff_hz=1.0, beta=0.0)
    out_plain = np.array([plain(ti, np.array([x]))[0] for ti, x in zip(t, ramp)])
    assert (ramp[-1] - out_plain[-1]) / 2.0 > 2 * lag_s  # beta is what keeps the lag down


def test_missing_values_pass_through_and_restart():
    f = OneEuroFilter()
    f(0.0, np.array([1.0, 1.0]))
    out = f(1 / 30, np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(1.0)
    out = f(2 / 30, np.array([5.0, 1.0]))
    assert np.isfinite(out[0])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff_hz=0.0)


def test_zero_phase_lowpass_smooths_without_lag():
    rng = np.random.default_rng(1)
    t = np.arange(300) / 30
    motion = 40.0 * (1 - np.cos(2 * np.pi * 0.25 * t))  # a 4 s rep, 0-80 deg
    raw = motion + rng.normal(0, 1.5, t.size)
    out = zero_phase_lowpass(raw[:, None], 30.0, 3.0)[:, 0]
    assert np.std(out - motion) < 0.4 * np.std(raw - motion)
    # No lag: the peak stays where it is, the error does not grow with speed.
    first = t < 4.0
    assert abs(t[np.argmax(out[first])] - t[np.argmax(motion[first])]) <= 1 / 30
    plain = OneEuroFilter(min_cutoff_hz=1.5, beta=0.0)
    causal = np.array([plain(ti, np.array([x]))[0] for ti, x in zip(t, raw)])
    fast = np.abs(np.gradient(motion, t)) > 40
    assert np.mean(np.abs(out - motion)[fast]) < 0.3 * np.mean(np.abs(causal - motion)[fast])


def test_zero_phase_lowpass_keeps_gaps_and_ends():
    x = np.linspace(0.0, 1.0, 90)[:, None, None] * np.ones((1, 2, 3))
    x[40:45, 1] = np.nan  # one landmark unseen for 5 frames
    out = zero_phase_lowpass(x, 30.0, 3.0)
    assert np.isnan(out[40:45, 1]).all() and np.isfinite(out[40:45, 0]).all()
    np.testing.assert_allclose(out[:, 0], x[:, 0], atol=1e-6)  # a ramp passes unchanged, ends included
    with pytest.raises(ValueError):
        zero_phase_lowpass(x, 30.0, 20.0)


@pytest.mark.parametrize("shared", [False, True])
def test_a_shared_cut_off_keeps_a_moving_skeleton_in_shape(shared):
    # A trunk hinging about the hips at 90 deg/s: hips, mid back and head on one line.
    f = OneEuroFilter(min_cutoff_hz=1.5, beta=5.0, shared=shared)
    radii = np.array([0.0, 0.3, 0.8])
    bend = []
    for i in range(30):
        a = np.radians(90.0 * i / 30)
        points = np.stack([radii * np.sin(a), radii * np.cos(a), np.zeros(3)], axis=1)
        out = f(i / 30, points)
        lower, upper = out[1] - out[0], out[2] - out[1]
        cross = lower[0] * upper[1] - lower[1] * upper[0]
        bend.append(np.degrees(np.arctan2(cross, lower[:2] @ upper[:2])))
    if shared:
        # One cut-off for all: every point lags by the same time, the line stays straight.
        assert np.max(np.abs(bend)) < 1e-6
    else:
        # Each its own: the head, fastest, lags least and the line bends while it moves.
        assert np.max(np.abs(bend)) > 1.0


def _run(f: OneEuroFilter, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.array([f(ti, np.array([xi]))[0] for ti, xi in zip(t, x)])


def test_lead_takes_back_the_lag_without_overshooting_the_turn():
    # A hip marker going down 0.5 m and back up in a 2 s rep, 30 frames/s, with jitter.
    rng = np.random.default_rng(2)
    t = np.arange(120) / 30
    motion = 0.25 * (1 - np.cos(np.pi * np.clip(t - 0.5, 0, 2)))
    raw = motion + rng.normal(0, 0.003, t.size)
    plain = _run(OneEuroFilter(min_cutoff_hz=1.5, beta=5.0), t, raw)
    led = _run(OneEuroFilter(min_cutoff_hz=1.5, beta=5.0, lead=0.5), t, raw)
    moving = np.abs(np.gradient(motion, t)) > 0.2
    assert np.mean(np.abs(led - motion)[moving]) < 0.6 * np.mean(np.abs(plain - motion)[moving])
    # At the turn the lead must not carry the marker far past where it went (1 cm).
    assert np.max(led) < np.max(motion) + 0.01
    still = t < 0.4
    assert np.std(led[still] - motion[still]) < np.std(raw[still] - motion[still])


def test_no_lead_is_the_plain_one_euro_filter():
    t = np.arange(60) / 30
    x = np.sin(3 * t)
    np.testing.assert_array_equal(_run(OneEuroFilter(lead=0.0), t, x), _run(OneEuroFilter(), t, x))
    with pytest.raises(ValueError):
        OneEuroFilter(lead=-0.1)
