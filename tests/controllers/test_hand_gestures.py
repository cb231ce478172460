"""Gesture classification as a pure function of 21 landmarks, on hands built joint by joint.

`make_hand` is a small forward-kinematics model of a right hand (palm in the x-y plane facing +z, fingers
up): the flexion angles at MCP, PIP and DIP are set by hand per finger, so every test hand is a
physically plausible pose, not a set of tuned numbers. Other hand tests import it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from textconductor.controllers.hands.gestures import (
    Gesture,
    GestureThresholds,
    as_landmarks,
    classify,
    features,
    palm_center,
)

# MCP positions (palm size 1: wrist to middle MCP) and segment lengths (proximal, middle, distal).
_MCPS = {"index": (-0.32, 0.95), "middle": (0.0, 1.0), "ring": (0.26, 0.93), "pinky": (0.48, 0.82)}
_LENGTHS = {"index": (0.42, 0.25, 0.20), "middle": (0.46, 0.29, 0.21), "ring": (0.42, 0.27, 0.20),
            "pinky": (0.33, 0.20, 0.18)}
STRAIGHT = (0.0, 0.0, 0.0)
RELAXED = (10.0, 12.0, 6.0)
CURLED = (85.0, 100.0, 60.0)
NORMAL = np.array([0.0, 0.0, 1.0])  # fingers curl towards +z (the camera)


def _chain(base: np.ndarray, direction: np.ndarray, lengths: tuple[float, ...], angles: tuple[float, ...]) -> list:
    pts, p, phi = [], base, 0.0
    for length, a in zip(lengths, angles, strict=True):
        phi += math.radians(a)
        p = p + length * (math.cos(phi) * direction + math.sin(phi) * NORMAL)
        pts.append(p)
    return pts


def make_hand(fingers: dict[str, tuple[float, float, float]] | None = None, thumb_tip: np.ndarray | None = None,
              thumb_angles: tuple[float, float, float] = (10.0, 10.0, 10.0)) -> np.ndarray:
    """21 landmarks (3-D, palm size 1). `fingers` maps finger -> (MCP, PIP, DIP) flexion in degrees
    (default straight); `thumb_tip` forces the thumb's tip there (its IP joint placed between), for pinches."""
    fingers = {**{k: STRAIGHT for k in _MCPS}, **(fingers or {})}
    wrist = np.zeros(3)
    out = [wrist]
    cmc = np.array([-0.25, 0.25, 0.0])
    tdir = np.array([-0.6, 0.8, 0.0])
    mcp_t = cmc + 0.35 * tdir
    ip_tip = _chain(mcp_t, tdir, (0.32, 0.28), thumb_angles[1:])
    if thumb_tip is not None:
        ip = (mcp_t + thumb_tip) / 2 + np.array([0.0, 0.0, 0.1])
        ip_tip = [ip, np.asarray(thumb_tip, float)]
    out += [cmc, mcp_t, *ip_tip]
    for name in ("index", "middle", "ring", "pinky"):
        mcp = np.array([*_MCPS[name], 0.0])
        direction = mcp / np.linalg.norm(mcp)
        out += [mcp, *_chain(mcp, direction, _LENGTHS[name], fingers[name])]
    a = np.array(out)
    assert a.shape == (21, 3)
    return a


def pinch_hand(others: tuple[float, float, float] = STRAIGHT, gap: float = 0.05) -> np.ndarray:
    """Index bent towards the thumb, thumb tip `gap` palm sizes from the index tip (an 'OK' sign)."""
    index = (35.0, 50.0, 30.0)
    base = make_hand({"index": index, "middle": others, "ring": others, "pinky": others})
    tip = base[8] + np.array([-gap, 0.0, 0.0])
    return make_hand({"index": index, "middle": others, "ring": others, "pinky": others}, thumb_tip=tip)


def rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


OPEN = make_hand()
RELAXED_OPEN = make_hand({k: RELAXED for k in _MCPS})
FIST = make_hand({k: CURLED for k in _MCPS}, thumb_angles=(10.0, 40.0, 40.0))
FIST_THUMB_ON_INDEX = make_hand({k: CURLED for k in _MCPS}, thumb_tip=make_hand({k: CURLED for k in _MCPS})[8])
PINCH = pinch_hand()
PINCH_CURLED_OTHERS = pinch_hand(CURLED)
POINT = make_hand({"middle": CURLED, "ring": CURLED, "pinky": CURLED})
ROCK = make_hand({"middle": CURLED, "ring": CURLED})
HALF = make_hand({k: (45.0, 45.0, 20.0) for k in _MCPS})  # a claw: neither open nor a fist


@pytest.mark.parametrize(("hand", "expected"), [
    (OPEN, Gesture.OPEN), (RELAXED_OPEN, Gesture.OPEN), (FIST, Gesture.FIST), (FIST_THUMB_ON_INDEX, Gesture.FIST),
    (PINCH, Gesture.PINCH), (PINCH_CURLED_OTHERS, Gesture.PINCH), (POINT, Gesture.OTHER), (ROCK, Gesture.OTHER),
    (HALF, Gesture.OTHER),
])
def test_hand_made_poses(hand: np.ndarray, expected: Gesture) -> None:
    assert classify(hand) is expected


def test_features_measure_what_they_claim() -> None:
    f = features(OPEN)
    assert all(v == pytest.approx(0.0, abs=1e-4) for v in f.flexion_deg.values())
    f = features(FIST)
    assert all(v == pytest.approx(245.0, abs=1e-6) for v in f.flexion_deg.values())  # 85 + 100 + 60
    assert features(pinch_hand(gap=0.05)).pinch_distance == pytest.approx(0.05, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("hand", [OPEN, FIST, PINCH, ROCK])
def test_invariant_to_rotation_scale_translation_and_mirroring(seed: int, hand: np.ndarray) -> None:
    expected = classify(hand)
    rng = np.random.default_rng(100 + seed)
    scale = 10 ** rng.uniform(-2, 3)  # normalised units .. millimetres .. pixels
    moved = hand @ rotation(seed).T * scale + rng.normal(0, 50, 3)
    assert classify(moved) is expected
    mirrored = moved * np.array([-1.0, 1.0, 1.0])  # a left hand
    assert classify(mirrored) is expected


def test_pinch_hysteresis() -> None:
    th = GestureThresholds()
    between = pinch_hand(gap=(th.pinch_on + th.pinch_off) / 2)
    assert classify(between) is not Gesture.PINCH  # not close enough to start a pinch...
    assert classify(between, was_pinching=True) is Gesture.PINCH  # ...but close enough to keep one
    assert classify(pinch_hand(gap=th.pinch_off + 0.05), was_pinching=True) is not Gesture.PINCH


def test_curled_index_over_thumb_is_not_a_pinch() -> None:
    """A curled hand whose thumb lies on the index tip (the "call me" photo) is no pinch unless all four curl."""
    curled = {"index": CURLED, "middle": CURLED, "ring": CURLED, "pinky": STRAIGHT}
    tip = make_hand(curled)[8]
    assert classify(make_hand(curled, thumb_tip=tip)) is Gesture.OTHER


def test_two_dimensional_landmarks_are_accepted() -> None:
    assert classify(OPEN[:, :2]) is Gesture.OPEN


def test_bad_landmarks_are_rejected() -> None:
    with pytest.raises(ValueError, match="21 landmarks"):
        classify(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="NaN"):
        bad = OPEN.copy()
        bad[3, 1] = np.nan
        classify(bad)
    with pytest.raises(ValueError, match="degenerate"):
        classify(np.zeros((21, 3)))
    assert as_landmarks(OPEN.tolist()).shape == (21, 3)


def test_palm_center_is_the_mean_of_wrist_and_mcps() -> None:
    cx, cy = palm_center(OPEN)
    pts = OPEN[[0, 5, 9, 13, 17], :2].mean(axis=0)
    assert (cx, cy) == pytest.approx(tuple(pts))
    # Closing the hand does not move the palm centre (the fingers are not part of it).
    assert palm_center(FIST) == pytest.approx(palm_center(OPEN))
