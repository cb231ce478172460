"""The One Euro filter against the paper's own algorithm, analytic cases, and the jitter/lag benchmark."""

from __future__ import annotations

import math

import numpy as np
import pytest

from textconductor.controllers.hands.one_euro import OneEuroFilter, OneEuroParams, smoothing_factor
from textconductor.tools.bench_hands import filter_figures, jitter, lag_ms, run_filter, synthetic_trace


class _PaperLowPass:
    """Casiez et al. 2012, Algorithm 1: LowPassFilter with hatxprev."""

    def __init__(self) -> None:
        self.first = True
        self.hatxprev = 0.0

    def filter(self, x: float, alpha: float) -> float:
        if self.first:
            self.first = False
            self.hatxprev = x
        hatx = alpha * x + (1 - alpha) * self.hatxprev
        self.hatxprev = hatx
        return hatx


class _PaperOneEuro:
    """Casiez et al. 2012, Algorithm 1, transcribed independently of the implementation under test."""

    def __init__(self, mincutoff: float, beta: float, dcutoff: float) -> None:
        self.mincutoff, self.beta, self.dcutoff = mincutoff, beta, dcutoff
        self.x, self.dx = _PaperLowPass(), _PaperLowPass()
        self.first = True
        self.last_t = 0.0

    @staticmethod
    def alpha(rate: float, cutoff: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        te = 1.0 / rate
        return 1.0 / (1.0 + tau / te)

    def filter(self, x: float, t: float) -> float:
        if self.first:
            self.first = False
            dx = 0.0
            rate = 1.0  # unused for the first sample: both low-passes just take it as their state
        else:
            rate = 1.0 / (t - self.last_t)
            dx = (x - self.x.hatxprev) * rate
        self.last_t = t
        edx = self.dx.filter(dx, self.alpha(rate, self.dcutoff))
        cutoff = self.mincutoff + self.beta * abs(edx)
        return self.x.filter(x, self.alpha(rate, cutoff))


@pytest.mark.parametrize("params", [OneEuroParams(), OneEuroParams(1.0, 0.0, 1.0), OneEuroParams(0.3, 50.0, 2.0)])
def test_matches_the_papers_algorithm_on_the_noisy_trace(params: OneEuroParams) -> None:
    trace = synthetic_trace()
    ours = run_filter(trace, params)
    for axis in range(2):
        ref = _PaperOneEuro(params.min_cutoff, params.beta, params.d_cutoff)
        expected = [ref.filter(float(x), float(t)) for t, x in zip(trace.t, trace.noisy[:, axis], strict=True)]
        np.testing.assert_allclose(ours[:, axis], expected, rtol=0, atol=1e-12)


def test_smoothing_factor_formula() -> None:
    # alpha = 1 / (1 + tau/Te), tau = 1/(2 pi fc): at fc = 1 Hz, 60 Hz sampling, alpha = 1/(1 + 60/(2 pi)).
    assert smoothing_factor(1.0, 1 / 60) == pytest.approx(1 / (1 + 60 / (2 * math.pi)), rel=1e-12)
    assert smoothing_factor(1e9, 1 / 60) == pytest.approx(1.0, abs=1e-6)  # infinite cutoff passes through


def test_beta_zero_is_a_first_order_low_pass() -> None:
    f = OneEuroFilter(OneEuroParams(min_cutoff=2.0, beta=0.0), dims=1)
    te = 1 / 30
    a = smoothing_factor(2.0, te)
    assert f(0.0, [0.0]) == (0.0,)
    for n in range(1, 20):
        (y,) = f(n * te, [1.0])
        assert y == pytest.approx(1 - (1 - a) ** n, abs=1e-12)


def test_constant_first_sample_duplicates_and_reset() -> None:
    f = OneEuroFilter(dims=2)
    assert f(0.0, (0.3, 0.7)) == (0.3, 0.7)  # first sample passes unchanged
    for i in range(1, 50):
        assert f(i / 30, (0.3, 0.7)) == pytest.approx((0.3, 0.7), abs=1e-15)
    before = f(2.0, (0.9, 0.9))
    assert f(2.0, (0.1, 0.1)) == before  # same timestamp: previous estimate, no division by zero
    assert f(1.0, (0.1, 0.1)) == before  # clock stepped back: same
    f.reset()
    assert f(3.0, (0.1, 0.2)) == (0.1, 0.2)


def test_rejects_bad_input_and_params() -> None:
    f = OneEuroFilter(dims=2)
    with pytest.raises(ValueError):
        f(0.0, (1.0,))
    with pytest.raises(ValueError):
        f(0.0, (float("nan"), 0.0))
    for bad in (dict(min_cutoff=0.0), dict(d_cutoff=-1.0), dict(beta=-0.1), dict(min_cutoff=float("inf"))):
        with pytest.raises(ValueError):
            OneEuroParams(**bad)


def test_speed_raises_the_cutoff() -> None:
    """On a fast ramp the adaptive filter trails far less than the same filter with beta = 0."""
    te = 1 / 30
    fixed, adaptive = OneEuroFilter(OneEuroParams(0.5, 0.0), 1), OneEuroFilter(OneEuroParams(0.5, 10.0), 1)
    for n in range(60):
        x = 2.0 * n * te  # 2 units/s
        (yf,) = fixed(n * te, [x])
        (ya,) = adaptive(n * te, [x])
    assert (x - ya) < 0.25 * (x - yf)


def test_trace_is_deterministic_and_the_lag_estimator_is_sound() -> None:
    a, b = synthetic_trace(seed=3), synthetic_trace(seed=3)
    np.testing.assert_array_equal(a.noisy, b.noisy)
    assert a.still.sum() > 100 and a.moving.sum() > 50
    assert lag_ms(a, a.truth) == 0.0  # the truth has no lag
    assert lag_ms(a, a.noisy) <= 2.0  # noise alone adds none
    delayed = np.array([np.interp(a.t - 0.05, a.t, a.truth[:, i]) for i in range(2)]).T
    assert lag_ms(a, delayed) == pytest.approx(50.0, abs=3.0)  # a known 50 ms delay is found
    assert jitter(a, a.truth) < 0.2 * jitter(a, a.noisy)


def test_default_tuning_cuts_jitter_with_little_lag() -> None:
    raw, default, fixed = filter_figures([("raw", None), ("default", OneEuroParams()),
                                          ("fixed", OneEuroParams(OneEuroParams().min_cutoff, 0.0))])
    assert raw.reduction == 1.0
    assert default.reduction >= 5.0, default
    assert default.lag_ms <= 34.0, default  # less than one frame at 30 frames/s
    assert fixed.lag_ms >= 4 * default.lag_ms  # what beta buys
