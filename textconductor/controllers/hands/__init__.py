"""Hand gestures move the puck: a webcam through MediaPipe, or a Leap Motion, through one gesture machine.

* `gestures` (pure): the 21 landmarks -> open / fist / pinch / other.
* `one_euro`: the adaptive low-pass that steadies the palm position.
* `machine` (pure): `GestureMachine`, debounced gestures -> puck moves and pause/resume; `HandOverlay`.
* `tracking`: frames in, landmarks out (MediaPipe HandLandmarker, camera and image sources).
* `model`: getting the hand-landmark model onto the machine once (`textconductor hands setup`).
* `controller`: `HandController`, the webcam tracking thread.  `leap`: `LeapController`.

The names below are re-exported lazily (PEP 562): `from textconductor.controllers.hands import
HandController` works as it did when this was one module, yet importing a light part such as
`hands.one_euro` or `hands.model` (the command line's help and `hands setup`) does not pull in numpy
and the controller with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "HandController": "controller",
    "Action": "machine",
    "GestureMachine": "machine",
    "HandInput": "machine",
    "HandOverlay": "machine",
    "HandSettings": "machine",
    "observation_to_input": "machine",
    "position_to_puck": "machine",
    "CONNECTIONS": "gestures",
    "Gesture": "gestures",
    "GestureThresholds": "gestures",
    "classify": "gestures",
    "palm_center": "gestures",
    "OneEuroFilter": "one_euro",
    "OneEuroParams": "one_euro",
}

__all__ = [  # the keys of _EXPORTS, spelled out for readers and linters
    "CONNECTIONS", "Action", "Gesture", "GestureMachine", "GestureThresholds", "HandController", "HandInput",
    "HandOverlay", "HandSettings", "OneEuroFilter", "OneEuroParams", "classify", "observation_to_input",
    "palm_center", "position_to_puck",
]

if TYPE_CHECKING:
    from textconductor.controllers.hands.controller import HandController
    from textconductor.controllers.hands.gestures import CONNECTIONS, Gesture, GestureThresholds, classify, palm_center
    from textconductor.controllers.hands.machine import (
        Action,
        GestureMachine,
        HandInput,
        HandOverlay,
        HandSettings,
        observation_to_input,
        position_to_puck,
    )
    from textconductor.controllers.hands.one_euro import OneEuroFilter, OneEuroParams


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once resolved, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
