"""The gesture machine: (time, hand or None) -> sink actions and overlay state; pure logic, no threads.

Why apart from the tracking thread: every source of hands (the webcam through MediaPipe, a Leap
Motion, recorded frames in the tests) feeds this one machine, so a gesture means the same thing
whichever device saw it, and the timing rules can be tested deterministically with a fake clock.

It debounces gestures (a gesture must be held `hold_s` to count), filters the palm position with a
One Euro filter, maps it to the puck, and decides pause/resume (see docs/controllers.md, "Hand
gestures"):

* palm position -> the puck's cursor (the palm centre, not the fingertips, so closing the hand does not
  drag it); with `grab="pinch"` (default) the puck follows only while you pinch, and stays where you let
  go; with `grab="always"` it follows the palm whenever a hand is seen;
* fist held -> pause; open hand held after that -> resume.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from textconductor.controllers.hands.gestures import Gesture, GestureThresholds, classify, palm_center
from textconductor.controllers.hands.one_euro import OneEuroFilter, OneEuroParams

if TYPE_CHECKING:
    from textconductor.controllers.base import ControlSink


@dataclass(frozen=True)
class HandSettings:
    """How the hand maps onto the instrument; every field is a performer-facing knob.

    region: the central fraction of the camera frame that spans the puck's full range (0.6: you need not
    reach the frame's edge). mirror: flip left-right so the screen acts as a mirror (webcams face you).
    hold_s: how long fist/open must be held to pause/resume; grab_hold_s the same for pinch on/off
    (short, so grabbing feels immediate, but long enough to ignore a one-frame misdetection).
    lost_s: after this long without a hand the grab is released and the filter restarts.
    """

    grab: str = "pinch"
    mirror: bool = True
    region: float = 0.6
    hold_s: float = 0.4
    grab_hold_s: float = 0.08
    lost_s: float = 0.5
    pause_resume: bool = True
    filter: OneEuroParams = field(default_factory=OneEuroParams)
    thresholds: GestureThresholds = field(default_factory=GestureThresholds)

    def __post_init__(self) -> None:
        if self.grab not in ("pinch", "always"):
            raise ValueError(f"grab must be 'pinch' or 'always', got {self.grab!r}")
        if not 0.05 <= self.region <= 1.0:
            raise ValueError(f"region must be in 0.05..1, got {self.region}")
        for name in ("hold_s", "grab_hold_s", "lost_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass(frozen=True)
class HandInput:
    """One hand in one frame, source-independent.

    points: 21 landmarks in any unit that is the same on every axis (pixels, mm) for the classifier.
    position: the palm point in display coordinates, x right and y down, 0..1 (already mirrored).
    overlay: 21 (x, y) points in the same display coordinates, for drawing.
    """

    points: np.ndarray
    position: tuple[float, float]
    overlay: tuple[tuple[float, float], ...] = ()
    handedness: str = ""


@dataclass(frozen=True)
class HandOverlay:
    """What the UI draws over its puck area: immutable, safe to hand between threads.

    landmarks: 21 (x, y) in display coordinates (0..1, x right, y down, mirrored like the puck), empty
    when no hand. gesture: "open", "fist", "pinch", "other" or "none". palm: the filtered palm point in the
    same coordinates. puck: the puck position this controller last sent (x, y in -1..1, y up), if any.
    status: "tracking", "no hand", or why tracking is not running (no camera, no model, ...).
    latency_ms: landmark inference time of the last frame; fps: frames processed per second.
    """

    landmarks: tuple[tuple[float, float], ...] = ()
    gesture: str = "none"
    grabbed: bool = False
    paused: bool = False
    palm: tuple[float, float] | None = None
    puck: tuple[float, float] | None = None
    handedness: str = ""
    status: str = "not started"
    latency_ms: float = 0.0
    fps: float = 0.0
    t: float = 0.0


Action = tuple[str, object]  # ("puck", (x, y)) or ("control", "pause"/"resume")


def position_to_puck(pos: tuple[float, float], region: float) -> tuple[float, float]:
    """Display coordinates (0..1, y down) -> puck (-1..1, y up), clipped to the style circle (radius 1)."""
    half = region / 2.0
    x = (pos[0] - 0.5) / half
    y = -(pos[1] - 0.5) / half
    r = (x * x + y * y) ** 0.5
    if r > 1.0:
        x, y = x / r, y / r
    return x, y


class GestureMachine:
    """Debounced gestures, filtered palm, puck and pause/resume decisions; pure logic, one thread."""

    def __init__(self, settings: HandSettings | None = None) -> None:
        self.settings = settings or HandSettings()
        self._filter = OneEuroFilter(self.settings.filter, dims=2)
        self._raw: Gesture | None = None  # the per-frame gesture
        self._raw_since = 0.0
        self._stable: Gesture | None = None  # after debouncing
        self._last_seen: float | None = None
        self.grabbed = False
        self.paused = False
        self.puck: tuple[float, float] | None = None
        self.palm: tuple[float, float] | None = None

    def step(self, t: float, hand: HandInput | None) -> tuple[list[Action], str]:
        """Advance to time `t` with this frame's hand (None: no hand); returns (actions, gesture shown)."""
        s = self.settings
        actions: list[Action] = []
        if hand is None:
            if self._last_seen is None or t - self._last_seen >= s.lost_s:
                # The hand is gone: let go of the puck, and start the filter afresh next time (so the puck
                # does not glide from where the hand left to where it comes back).
                self.grabbed = False
                self._filter.reset()
                self._raw = self._stable = None
                self.palm = None
            return actions, "none"
        self._last_seen = t
        g = classify(hand.points, was_pinching=self._raw is Gesture.PINCH, thresholds=s.thresholds)
        if g is not self._raw:
            self._raw, self._raw_since = g, t
        held = t - self._raw_since
        need = s.grab_hold_s if (g is Gesture.PINCH or self._stable is Gesture.PINCH) else s.hold_s
        if g is not self._stable and held >= need:
            self._stable = g
            if s.pause_resume and g is Gesture.FIST and not self.paused:
                self.paused = True
                actions.append(("control", "pause"))
            elif s.pause_resume and g is Gesture.OPEN and self.paused:
                self.paused = False
                actions.append(("control", "resume"))
        self.grabbed = self._stable is Gesture.PINCH if s.grab == "pinch" else True
        fx, fy = self._filter(t, hand.position)
        self.palm = (fx, fy)
        # While a pinch is being released (raw gesture no longer a pinch, release not yet debounced) the puck
        # holds still: the hand moving as the fingers open must not drag it.
        if self.grabbed and (s.grab == "always" or g is Gesture.PINCH):
            puck = position_to_puck(self.palm, s.region)
            if self.puck is None or abs(puck[0] - self.puck[0]) > 1e-4 or abs(puck[1] - self.puck[1]) > 1e-4:
                self.puck = puck
                actions.append(("puck", puck))
        return actions, g.value

    def snapshot(self, hand: HandInput | None, gesture: str, t: float, latency_ms: float = 0.0,
                 fps: float = 0.0) -> HandOverlay:
        """The overlay after a step with `hand`: what every hand controller publishes per frame."""
        return HandOverlay(landmarks=hand.overlay if hand else (), gesture=gesture, grabbed=self.grabbed,
                           paused=self.paused, palm=self.palm, puck=self.puck,
                           handedness=hand.handedness if hand else "", status="tracking" if hand else "no hand",
                           latency_ms=latency_ms, fps=fps, t=t)


def apply_actions(sink: ControlSink, actions: Iterable[Action], on_error: Callable[[str], None]) -> None:
    """Play the machine's actions on `sink`; a raising sink (engine gone) calls `on_error(kind)` inside the
    except block (so the caller may log the traceback) and the next action still runs: tracking goes on."""
    for kind, arg in actions:
        try:
            if kind == "puck":
                sink.set_puck(*arg)  # type: ignore[misc]
            else:
                sink.control(str(arg))
        except Exception:  # noqa: BLE001 - a failing sink must not end tracking
            on_error(kind)


def observation_to_input(obs: object, mirror: bool = True) -> HandInput:
    """A MediaPipe `HandObservation` -> `HandInput` (display coordinates mirrored if asked)."""
    lm = obs.landmarks  # type: ignore[attr-defined]
    xs = 1.0 - lm[:, 0] if mirror else lm[:, 0]
    ys = lm[:, 1]
    overlay = tuple((float(x), float(y)) for x, y in zip(xs, ys, strict=True))
    cx, cy = palm_center(lm)
    position = (1.0 - cx if mirror else cx, cy)
    return HandInput(points=obs.pixel_landmarks(), position=position, overlay=overlay,  # type: ignore[attr-defined]
                     handedness=obs.handedness)  # type: ignore[attr-defined]
