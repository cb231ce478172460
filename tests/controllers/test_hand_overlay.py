"""The overlay widget draws what the controller publishes, under the offscreen Qt platform."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")

from PySide6.QtGui import QColor  # noqa: E402

from tests.controllers.test_hand_gestures import OPEN  # noqa: E402
from tests.controllers.test_hands_controller import observation  # noqa: E402
from textconductor.controllers.hands import CONNECTIONS, HandOverlay, observation_to_input  # noqa: E402
from textconductor.frontend.hand_overlay import GESTURE_COLOURS, HAND_CONNECTIONS, HandOverlayWidget  # noqa: E402


def overlay(gesture: str = "open", grabbed: bool = False) -> HandOverlay:
    hand = observation_to_input(observation(OPEN, 0.5, 0.7, size_px=150), mirror=True)
    return HandOverlay(landmarks=hand.overlay, gesture=gesture, grabbed=grabbed, palm=hand.position,
                       status="tracking", latency_ms=12.0)


def colour_count(img: object, colour: str) -> int:
    want = QColor(colour)
    n = 0
    for y in range(0, img.height(), 2):  # type: ignore[attr-defined]
        for x in range(0, img.width(), 2):  # type: ignore[attr-defined]
            c = img.pixelColor(x, y)  # type: ignore[attr-defined]
            n += abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 30
    return n


def test_widget_polls_the_source_and_draws_the_hand(qtbot) -> None:
    current = [HandOverlay(status="no hand")]
    w = HandOverlayWidget(source=lambda: current[0], interval_ms=10)
    qtbot.addWidget(w)
    w.resize(320, 240)
    w.show()
    empty = w.grab().toImage()
    assert colour_count(empty, GESTURE_COLOURS["open"]) == 0
    current[0] = overlay("open")
    qtbot.waitUntil(lambda: w.overlay().gesture == "open", timeout=3000)
    drawn = w.grab().toImage()
    assert colour_count(drawn, GESTURE_COLOURS["open"]) > 30  # the skeleton, in the gesture's colour
    w.set_overlay(overlay("pinch", grabbed=True))
    assert colour_count(w.grab().toImage(), GESTURE_COLOURS["pinch"]) > 30


def test_the_frontends_skeleton_is_the_trackers() -> None:
    """The frontend cannot import the controllers; both take the 21-point topology from the protocol."""
    assert HAND_CONNECTIONS is CONNECTIONS  # one definition, in the protocol
