"""Figures for the hand controller: the One Euro filter's jitter and lag, and landmark inference time.

Behind `textconductor hands bench-filter` and `textconductor hands check`; a tool, not part of the
controller, so the controllers package carries no benchmark code.

Why a synthetic trace: jitter and lag need the true hand position, which a recording never has. The trace
is a deterministic, seeded palm path in normalised image units: still holds (where jitter shows) and
minimum-jerk moves of various speeds (where lag shows), sampled at a camera's frame rate with slightly
uneven frame times, plus Gaussian noise of the size MediaPipe's palm centre shows on a still hand
(about 0.3% of the frame, 2 px at 640 wide). The truth is analytic, so lag is measured at 1 ms
resolution, not in whole frames.

* jitter: RMS frame-to-frame displacement during the holds (after 0.3 s of settling): the visible shake
  of a still hand; reduction = raw jitter / filtered jitter.
* lag: the delay d (ms) that minimises the RMS distance between the output and truth(t - d) during the
  moves; the raw signal's lag comes out ~0, which checks the estimator.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.controllers.hands.one_euro import OneEuroFilter, OneEuroParams

# (target x, target y, move duration s, hold duration s): a still start, slow and fast sweeps, small nudges.
_WAYPOINTS: tuple[tuple[float, float, float, float], ...] = (
    (0.50, 0.50, 0.0, 2.0),
    (0.70, 0.40, 1.2, 1.5),
    (0.30, 0.60, 0.5, 1.5),
    (0.32, 0.58, 0.3, 1.5),
    (0.65, 0.65, 0.35, 1.5),
    (0.45, 0.30, 0.9, 1.5),
    (0.50, 0.50, 0.25, 2.0),
)


@dataclass(frozen=True)
class Trace:
    """Samples of the synthetic trace: times (s), noisy positions (N, 2), and which samples are holds."""

    t: np.ndarray
    noisy: np.ndarray
    truth: np.ndarray
    still: np.ndarray  # bool: in a hold, past the settling time
    moving: np.ndarray  # bool: during a move


def _segments() -> list[tuple[float, float, np.ndarray, np.ndarray, float]]:
    """(start, end, from, to, hold_end) per move: the path as a list of timed pieces."""
    segs, t = [], 0.0
    prev = np.array(_WAYPOINTS[0][:2])
    t += _WAYPOINTS[0][3]
    segs.append((0.0, 0.0, prev, prev, t))
    for x, y, move, hold in _WAYPOINTS[1:]:
        to = np.array([x, y])
        segs.append((t, t + move, prev, to, t + move + hold))
        t += move + hold
        prev = to
    return segs


def truth_at(t: float | np.ndarray) -> np.ndarray:
    """The true palm position at time(s) t: minimum-jerk moves between holds (analytic, smooth)."""
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    out = np.empty((ts.size, 2))
    segs = _segments()
    for i, ti in enumerate(ts):
        pos = segs[0][2]
        for start, end, a, b, _hold_end in segs:
            if ti < start:
                break
            if end > start and ti < end:
                s = (ti - start) / (end - start)
                pos = a + (b - a) * (10 * s**3 - 15 * s**4 + 6 * s**5)
            else:
                pos = b
        out[i] = pos
    return out


def synthetic_trace(fps: float = 30.0, noise: float = 0.003, seed: int = 0, settle_s: float = 0.3) -> Trace:
    """The seeded noisy trace (see the module docstring); same arguments, same trace."""
    rng = np.random.default_rng(seed)
    segs = _segments()
    duration = segs[-1][4]
    n = int(duration * fps)
    t = np.arange(n) / fps + rng.uniform(-0.1, 0.1, n) / fps  # frame times jitter by +-10% of a period
    t[0] = 0.0
    t = np.maximum.accumulate(t)
    truth = truth_at(t)
    noisy = truth + rng.normal(0.0, noise, truth.shape)
    moving = np.zeros(n, bool)
    still = np.zeros(n, bool)
    for start, end, _a, _b, hold_end in segs:
        moving |= (t >= start) & (t < end) & (end > start)
        still |= (t >= end + settle_s) & (t < hold_end)
    return Trace(t=t, noisy=noisy, truth=truth, still=still, moving=moving)


def run_filter(trace: Trace, params: OneEuroParams) -> np.ndarray:
    f = OneEuroFilter(params, dims=2)
    return np.array([f(float(ti), xi) for ti, xi in zip(trace.t, trace.noisy, strict=True)])


def jitter(trace: Trace, out: np.ndarray) -> float:
    """RMS frame-to-frame displacement while the hand is held still (normalised units): the shake the eye
    sees. Frame-to-frame rather than distance to the truth, so a slow filter still settling after a move
    is counted as lag, not as jitter."""
    pair = trace.still[1:] & trace.still[:-1]
    d = np.diff(out, axis=0)[pair]
    return float(np.sqrt(np.mean(np.sum(d * d, axis=1))))


def lag_ms(trace: Trace, out: np.ndarray, max_ms: int = 400) -> float:
    """Delay (ms, 1 ms steps) that best aligns the output with the truth during the moves."""
    tm, om = trace.t[trace.moving], out[trace.moving]
    best, best_err = 0, math.inf
    for d in range(0, max_ms + 1):
        ref = truth_at(tm - d / 1000.0)
        err = float(np.mean(np.sum((om - ref) ** 2, axis=1)))
        if err < best_err:
            best, best_err = d, err
    return float(best)


@dataclass(frozen=True)
class FilterFigures:
    label: str
    jitter: float
    reduction: float
    lag_ms: float


def filter_figures(params_list: Sequence[tuple[str, OneEuroParams | None]], fps: float = 30.0,
                   noise: float = 0.003, seed: int = 0) -> list[FilterFigures]:
    """Jitter, its reduction against the raw signal, and lag for each labelled filter (None = raw)."""
    trace = synthetic_trace(fps, noise, seed)
    raw_j = jitter(trace, trace.noisy)
    out = []
    for label, params in params_list:
        y = trace.noisy if params is None else run_filter(trace, params)
        j = jitter(trace, y)
        out.append(FilterFigures(label, j, raw_j / j, lag_ms(trace, y)))
    return out


@dataclass(frozen=True)
class ImageCheck:
    path: str
    found: bool
    gesture: str
    handedness: str
    puck: tuple[float, float] | None
    image_ms: float  # median detection time, image mode
    video_ms: float  # median per-frame time in video (tracking) mode, after the first frame


def check_images(paths: Sequence[str | Path], model: str | None = None, repeats: int = 5) -> list[ImageCheck]:
    """Landmarks, gesture and puck for each image, with inference time in image and in video mode.

    Video mode is measured by feeding the same image as `repeats` consecutive frames: after the first,
    the landmarker tracks the hand from the previous frame instead of running the palm detector.
    """
    from textconductor.controllers.hands.gestures import classify
    from textconductor.controllers.hands.machine import HandSettings, observation_to_input, position_to_puck
    from textconductor.controllers.hands.tracking import MediaPipeHandTracker, load_rgb

    results = []
    with MediaPipeHandTracker(model, mode="image") as img_tracker:
        for p in paths:
            rgb = load_rgb(p)
            times, obs = [], None
            for _ in range(repeats):
                t0 = time.perf_counter()
                obs = img_tracker.process(rgb, 0.0)
                times.append((time.perf_counter() - t0) * 1000.0)
            # A fresh video-mode landmarker per image, so each image starts untracked.
            with MediaPipeHandTracker(model, mode="video") as vid_tracker:
                vtimes = []
                for i in range(repeats + 1):
                    t0 = time.perf_counter()
                    vid_tracker.process(rgb, i / 30.0)
                    vtimes.append((time.perf_counter() - t0) * 1000.0)
            gesture, puck, hand = "none", None, ""
            if obs is not None:
                gesture = classify(obs.pixel_landmarks()).value
                hi = observation_to_input(obs, mirror=True)
                puck = position_to_puck(hi.position, HandSettings().region)
                hand = obs.handedness
            results.append(ImageCheck(str(p), obs is not None, gesture, hand, puck,
                                      statistics.median(times), statistics.median(vtimes[1:])))
    return results
