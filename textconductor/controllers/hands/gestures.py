"""Gestures as a pure function of the 21 hand landmarks (MediaPipe's layout; Leap hands are converted to it).

Why a pure function: it is the part most worth testing and tuning, and keeping it free of cameras, models
and threads lets the tests build hands by hand (see tests/controllers/test_hand_gestures.py) and lets the
Leap adapter reuse it unchanged.

Landmark layout (MediaPipe Hands): 0 wrist; thumb 1 CMC, 2 MCP, 3 IP, 4 tip; index 5 MCP, 6 PIP, 7 DIP,
8 tip; middle 9-12; ring 13-16; pinky 17-20.

The measures are invariant to translation, rotation, scale and handedness (mirror), so they work on any
coordinates with the same unit on every axis: MediaPipe image landmarks scaled to pixels (x*W, y*H, z*W;
what the hand controller uses: on the 20 real photos they separate straight (8-30 deg) from curled
(165-215 deg) fingers far better than MediaPipe's world landmarks, whose straight fingers read 30-80 deg),
world landmarks, and Leap's millimetres:

* a finger's *flexion* is the sum of its bend angles at MCP, PIP and DIP (0 deg when straight, about
  200-270 deg in a fist);
* the *pinch distance* is thumb tip to index tip divided by the palm size (wrist to middle-finger MCP).

Gestures (documented for performers in docs/controllers.md):

* ``fist``  - index, middle, ring and pinky all curled (pause);
* ``pinch`` - thumb tip touching the index tip, other fingers anything (grab the puck);
* ``open``  - index, middle, ring and pinky all straight (resume);
* ``other`` - anything else (pointing, rock, call-me...): no action.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from textconductor.protocol.hand_skeleton import CONNECTIONS  # noqa: F401 - re-exported: the controller's overlay names it

N_LANDMARKS = 21
WRIST = 0
THUMB_TIP = 4
INDEX_MCP, INDEX_TIP = 5, 8
MIDDLE_MCP = 9
PINKY_MCP = 17
# (MCP, PIP, DIP, TIP) of the four fingers; the thumb is handled by the pinch measure only.
FINGERS: dict[str, tuple[int, int, int, int]] = {
    "index": (5, 6, 7, 8),
    "middle": (9, 10, 11, 12),
    "ring": (13, 14, 15, 16),
    "pinky": (17, 18, 19, 20),
}
# Points averaged into the palm centre: wrist and the four MCPs (stable when fingers move, so pinching or
# closing the hand does not drag the puck).
PALM_POINTS = (0, 5, 9, 13, 17)


class Gesture(StrEnum):
    OPEN = "open"
    FIST = "fist"
    PINCH = "pinch"
    OTHER = "other"


@dataclass(frozen=True)
class GestureThresholds:
    """Tunable thresholds; the defaults were checked on hand-built hands and the real photos.

    ``pinch_on``/``pinch_off`` form a hysteresis band on the pinch distance (in palm sizes) so a pinch
    held near the threshold does not flicker between grabbed and released. ``pinch_index_max_deg``: in a
    real pinch the index finger meets the thumb, it is not curled back into the palm; without this rule a
    curled hand whose thumb tip happens to lie over the index tip in the picture (the "call me" photo
    call_3.jpg) reads as a pinch.
    """

    extended_max_deg: float = 60.0
    curled_min_deg: float = 120.0
    pinch_on: float = 0.28
    pinch_off: float = 0.40
    pinch_index_max_deg: float = 180.0


@dataclass(frozen=True)
class HandFeatures:
    """The measures a gesture is decided from, returned for display and tuning."""

    flexion_deg: dict[str, float]
    pinch_distance: float


def as_landmarks(points: object) -> np.ndarray:
    """Validate and convert to a float (21, D) array, D = 2 or 3."""
    a = np.asarray(points, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != N_LANDMARKS or a.shape[1] not in (2, 3):
        raise ValueError(f"expected 21 landmarks of 2 or 3 coordinates, got an array of shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError("landmarks contain NaN or infinite values")
    return a


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu == 0.0 or nv == 0.0:
        return 0.0
    c = float(np.dot(u, v)) / (nu * nv)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def palm_size(lm: np.ndarray) -> float:
    """Wrist to middle-finger MCP: the hand's own length unit, independent of distance to the camera."""
    return float(np.linalg.norm(lm[MIDDLE_MCP] - lm[WRIST]))


def features(points: object) -> HandFeatures:
    """Per-finger flexion (degrees) and the normalised thumb-index distance."""
    lm = as_landmarks(points)
    size = palm_size(lm)
    if size <= 0:
        raise ValueError("degenerate hand: wrist and middle-finger MCP coincide")
    flex = {}
    for name, (mcp, pip, dip, tip) in FINGERS.items():
        chain = [lm[WRIST], lm[mcp], lm[pip], lm[dip], lm[tip]]
        segs = [chain[i + 1] - chain[i] for i in range(4)]
        flex[name] = sum(_angle_deg(segs[i], segs[i + 1]) for i in range(3))
    pinch = float(np.linalg.norm(lm[THUMB_TIP] - lm[INDEX_TIP])) / size
    return HandFeatures(flexion_deg=flex, pinch_distance=pinch)


def classify(points: object, was_pinching: bool = False, thresholds: GestureThresholds | None = None) -> Gesture:
    """The gesture these 21 landmarks show.

    `was_pinching` selects the release threshold of the pinch hysteresis (pass True while a pinch is held);
    the function stays pure: same input, same answer.
    """
    th = thresholds or GestureThresholds()
    f = features(points)
    flex = list(f.flexion_deg.values())
    if all(a >= th.curled_min_deg for a in flex):
        return Gesture.FIST
    if (f.pinch_distance < (th.pinch_off if was_pinching else th.pinch_on)
            and f.flexion_deg["index"] <= th.pinch_index_max_deg):
        return Gesture.PINCH
    if all(a <= th.extended_max_deg for a in flex):
        return Gesture.OPEN
    return Gesture.OTHER


def palm_center(points: object) -> tuple[float, float]:
    """Mean of the wrist and the four finger MCPs in the landmarks' first two coordinates."""
    lm = as_landmarks(points)
    c = lm[list(PALM_POINTS), :2].mean(axis=0)
    return float(c[0]), float(c[1])
