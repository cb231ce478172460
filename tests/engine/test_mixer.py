import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from textconductor.engine import mixer
from textconductor.engine.sampler import Sampler

V = 97


def random_logps(rng, a):
    x = rng.normal(size=(a, V)) * 3
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


weights = arrays(np.float64, st.integers(1, 6), elements=st.floats(0.01, 1.0))


@settings(max_examples=200, deadline=None)
@given(weights, st.sampled_from(["linear", "product"]), st.floats(0.05, 5), st.integers(0, 2**31))
def test_mixed_distribution_sums_to_one(w, mode, t, seed):
    logps = random_logps(np.random.default_rng(seed), len(w))
    p = mixer.mix(logps, w / w.sum(), mode, t)
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0) and np.all(np.isfinite(p))


@pytest.mark.parametrize("mode", ["linear", "product"])
def test_one_style_alone_is_that_style(mode):
    logps = random_logps(np.random.default_rng(0), 1)
    np.testing.assert_allclose(mixer.mix(logps, np.array([1.0]), mode), np.exp(logps[0]), rtol=1e-9)


def test_product_of_equal_distributions_is_that_distribution():
    logps = np.repeat(random_logps(np.random.default_rng(1), 1), 3, axis=0)
    np.testing.assert_allclose(mixer.mix_product(logps, np.array([0.2, 0.3, 0.5])), np.exp(logps[0]), rtol=1e-9)


def test_weights_are_invariant_to_scale():
    raw = np.array([0.2, 0.0, 0.6])
    np.testing.assert_allclose(mixer.normalise(raw), mixer.normalise(raw * 37.5))
    assert mixer.normalise(np.zeros(3)) is None
    assert mixer.normalise(np.array([1.0, 1.0]), np.array([True, False])).tolist() == [1.0, 0.0]


def test_linear_is_the_weighted_average():
    logps = random_logps(np.random.default_rng(2), 2)
    p = mixer.mix_linear(logps, np.array([0.25, 0.75]))
    np.testing.assert_allclose(p, 0.25 * np.exp(logps[0]) + 0.75 * np.exp(logps[1]))


@given(weights, st.integers(0, V - 1), st.integers(0, 2**31))
def test_attribution_sums_to_one(w, c, seed):
    logps = random_logps(np.random.default_rng(seed), len(w))
    a = mixer.attribution(logps, w / w.sum(), c)
    assert a.sum() == pytest.approx(1.0) and np.all(a >= 0)


def test_temperature_towards_zero_is_argmax_without_nan():
    p = np.exp(random_logps(np.random.default_rng(3), 1)[0])
    cold = mixer.apply_temperature(p, 1e-9)
    assert np.all(np.isfinite(cold)) and cold.argmax() == p.argmax() and cold.max() > 0.99
    np.testing.assert_allclose(mixer.apply_temperature(p, 1.0), p, rtol=1e-9)
    hot = mixer.apply_temperature(p, 1e9)
    assert hot.max() - hot.min() < p.max() - p.min()


def test_top_p_keeps_the_nucleus():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    np.testing.assert_allclose(mixer.top_p_filter(p, 0.7), [0.625, 0.375, 0, 0])
    np.testing.assert_allclose(mixer.top_p_filter(p, 1.0), p)


def test_active_set_threshold_and_fallback():
    assert mixer.active_set(np.array([0.5, 0.04, 0.46]), 0.05).tolist() == [0, 2]
    assert mixer.active_set(np.full(24, 1 / 24), 0.05).size == 24  # nobody clears 5%: the heaviest play


def test_sampler_is_seeded_and_follows_p():
    p = np.array([0.1, 0.0, 0.6, 0.3])
    a, b = Sampler(5), Sampler(5)
    draws = [a.draw(p) for _ in range(4000)]
    assert draws == [b.draw(p) for _ in range(4000)]
    assert 1 not in draws
    assert np.bincount(draws, minlength=4)[2] / 4000 == pytest.approx(0.6, abs=0.03)
