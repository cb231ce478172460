"""Mixing the active styles' distributions: pure functions on numpy arrays, nothing else.

linear   p = sum_i w_i p_i            the classic mixture: any style can propose a character
product  p ~ prod_i p_i ** w_i        log-linear, sharper: only what the styles agree on survives

Temperature and top-p act on the mixed distribution. All work happens in log space where a
product or a low temperature could underflow, so T -> 0 approaches argmax without NaN.
"""

from __future__ import annotations

import numpy as np

from textconductor.protocol import TEMPERATURE_RANGE

# The wire's range, so clipping here can never disagree with what the server lets through.
TEMPERATURE_MIN, TEMPERATURE_MAX = TEMPERATURE_RANGE


def normalise(raw: np.ndarray, enabled: np.ndarray | None = None) -> np.ndarray | None:
    """Weights over enabled styles summing to 1, or None when there is no weight at all."""
    w = np.where(np.isfinite(raw), np.clip(raw, 0.0, None), 0.0).astype(np.float64)
    if enabled is not None:
        w = w * enabled
    total = w.sum()
    return w / total if total > 0 else None


def active_set(weights: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of styles above the threshold; if none clears it, the heaviest style(s) play."""
    idx = np.flatnonzero(weights > threshold)
    if idx.size == 0 and weights.max(initial=0.0) > 0:
        idx = np.flatnonzero(weights == weights.max())
    return idx


def _softmax_log(logp: np.ndarray) -> np.ndarray:
    z = logp - logp.max()
    e = np.exp(z)
    return e / e.sum()


def mix_linear(logps: np.ndarray, w: np.ndarray) -> np.ndarray:
    """logps [A, V] (log-probabilities), w [A] summing to 1 -> p [V]."""
    return (w[:, None] * np.exp(logps)).sum(axis=0)


def mix_product(logps: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _softmax_log((w[:, None] * logps).sum(axis=0))


MIXERS = {"linear": mix_linear, "product": mix_product}


def apply_temperature(p: np.ndarray, temperature: float) -> np.ndarray:
    t = float(np.clip(temperature, TEMPERATURE_MIN, TEMPERATURE_MAX))
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    return _softmax_log(logp / t)


def top_p_filter(p: np.ndarray, top_p: float) -> np.ndarray:
    """Keep the smallest set of most likely characters whose mass reaches top_p, renormalised."""
    if top_p >= 1.0:
        return p
    order = np.argsort(-p, kind="stable")
    cum = np.cumsum(p[order])
    keep = order[: int(np.searchsorted(cum, top_p * cum[-1])) + 1]
    out = np.zeros_like(p)
    out[keep] = p[keep]
    return out / out.sum()


def attribution(logps: np.ndarray, w: np.ndarray, char: int) -> np.ndarray:
    """Share of p(char) each style contributed: w_i p_i(c) / sum_j w_j p_j(c) (sums to 1).

    Used in both mix modes; for product it is the documented analogue (docs/osc.md).
    """
    contrib = w * np.exp(logps[:, char])
    total = contrib.sum()
    return contrib / total if total > 0 else np.full_like(w, 1.0 / len(w))


def mix(logps: np.ndarray, w: np.ndarray, mode: str = "linear", temperature: float = 1.0,
        top_p: float = 1.0) -> np.ndarray:
    """The distribution to sample from: mix, then temperature, then top-p."""
    return top_p_filter(apply_temperature(MIXERS[mode](logps, w), temperature), top_p)
