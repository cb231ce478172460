"""The One Euro filter (Casiez, Roussel, Vogel, CHI 2012): an adaptive low-pass for noisy pointers.

Why this filter: a tracked hand jitters by a few pixels when held still, yet a performer expects no lag
when sweeping it. A fixed low-pass trades one for the other. The One Euro filter lowers its cutoff when
the signal is slow (kills jitter) and raises it with speed (kills lag), and has two intuitive knobs:

* ``min_cutoff`` (Hz): the cutoff at rest. Lower it to remove more jitter when still.
* ``beta``: how fast the cutoff grows with speed. Raise it to remove lag when moving.
* ``d_cutoff`` (Hz): cutoff of the speed estimate itself (1 Hz in the paper; rarely changed).

The equations, as in the paper (section "The 1 Euro filter"):

    tau = 1 / (2 pi fc),  alpha = 1 / (1 + tau / Te)          smoothing factor for cutoff fc, period Te
    dx_i = (x_i - x^_{i-1}) / Te                               raw speed
    dx^_i = alpha(d_cutoff) dx_i + (1 - alpha(d_cutoff)) dx^_{i-1}
    fc_i = min_cutoff + beta |dx^_i|
    x^_i = alpha(fc_i) x_i + (1 - alpha(fc_i)) x^_{i-1}

Te comes from the samples' timestamps, so frames dropped by a busy camera thread do not change the
filter's behaviour in time. Each coordinate is filtered independently (as the paper does for 2-D).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def smoothing_factor(cutoff_hz: float, period_s: float) -> float:
    """alpha = 1 / (1 + tau / Te) with tau = 1 / (2 pi fc): the paper's exponential-smoothing factor."""
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / period_s)


@dataclass(frozen=True)
class OneEuroParams:
    """The filter's tuning; see the module docstring for what each knob does.

    Defaults are tuned for a palm position in normalised image units (0..1) at about 30 frames/s, on the
    synthetic trace of `textconductor.tools.bench_hands` (`textconductor hands bench-filter` prints the
    trade-off): they cut still-hand jitter about 9x for about 20 ms of added lag during moves, less than
    one camera frame.
    """

    min_cutoff: float = 0.5
    beta: float = 10.0
    d_cutoff: float = 1.0

    def __post_init__(self) -> None:
        for name in ("min_cutoff", "d_cutoff"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0, got {self.beta!r}")


class OneEuroFilter:
    """One Euro filter over a fixed-size vector of coordinates (1 for a scalar, 2 for a point).

    Not thread-safe: one filter belongs to one tracking loop.
    """

    def __init__(self, params: OneEuroParams | None = None, dims: int = 2) -> None:
        if dims < 1:
            raise ValueError(f"dims must be >= 1, got {dims}")
        self.params = params or OneEuroParams()
        self.dims = dims
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample passes through unchanged (e.g. after the hand was lost)."""
        self._x: list[float] | None = None
        self._dx: list[float] = [0.0] * self.dims
        self._t: float | None = None

    def __call__(self, t: float, x: Sequence[float]) -> tuple[float, ...]:
        """Filter sample `x` taken at time `t` (seconds); returns the filtered sample.

        A sample whose time is not after the previous one (a duplicate frame, a clock step back) returns
        the previous estimate unchanged rather than dividing by zero. Non-finite input is rejected.
        """
        if len(x) != self.dims:
            raise ValueError(f"expected {self.dims} coordinates, got {len(x)}")
        xs = [float(v) for v in x]
        if not all(math.isfinite(v) for v in xs) or not math.isfinite(t):
            raise ValueError(f"non-finite sample {x!r} at t={t!r}")
        if self._x is None or self._t is None:
            self._x, self._t = xs, t
            return tuple(xs)
        te = t - self._t
        if te <= 0:
            return tuple(self._x)
        p = self.params
        a_d = smoothing_factor(p.d_cutoff, te)
        out = []
        for i, xi in enumerate(xs):
            dx = (xi - self._x[i]) / te
            self._dx[i] = a_d * dx + (1.0 - a_d) * self._dx[i]
            a = smoothing_factor(p.min_cutoff + p.beta * abs(self._dx[i]), te)
            out.append(a * xi + (1.0 - a) * self._x[i])
        self._x, self._t = out, t
        return tuple(out)
