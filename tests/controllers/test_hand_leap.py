"""The Leap Motion adapter on recorded frames shaped like Ultraleap's Python bindings (`leap`).

No binding installs here, so the frames are plain objects with the bindings' attribute layout
(hand.palm.position.x, hand.digits[i].proximal.prev_joint, hand.arm.next_joint, event.timestamp in us),
built from the hand-made poses in millimetres.
"""

from __future__ import annotations

import importlib.util
import time
from types import SimpleNamespace

import numpy as np
import pytest

from tests.controllers.test_hand_gestures import FIST, OPEN, PINCH
from tests.fakes import RecordingSink
from textconductor.controllers.hands.gestures import Gesture, classify
from textconductor.controllers.hands.leap import LeapBox, LeapController, leap_available, leap_hand_points

PALM_MM = 85.0  # wrist to middle MCP


def vec(p: np.ndarray) -> SimpleNamespace:
    return SimpleNamespace(x=float(p[0]), y=float(p[1]), z=float(p[2]))


def leap_hand(pose: np.ndarray, palm_x: float, palm_y: float, kind: str = "HandType.Right") -> SimpleNamespace:
    """A hand as the bindings expose it: pose (palm size 1, fingers up) scaled to mm, palm at (x, y)."""
    pts = pose * PALM_MM
    centre = pts[[0, 5, 9, 13, 17]].mean(axis=0)
    pts = pts - centre + np.array([palm_x, palm_y, 0.0])
    digits = []
    for d in range(5):
        j = pts[1 + 4 * d: 5 + 4 * d]  # prev of proximal, next of proximal, next of intermediate, tip
        bone = lambda a, b: SimpleNamespace(prev_joint=vec(a), next_joint=vec(b))  # noqa: E731
        digits.append(SimpleNamespace(metacarpal=bone(j[0], j[0]), proximal=bone(j[0], j[1]),
                                      intermediate=bone(j[1], j[2]), distal=bone(j[2], j[3])))
    return SimpleNamespace(type=kind, palm=SimpleNamespace(position=vec(np.array([palm_x, palm_y, 0.0]))),
                           arm=SimpleNamespace(next_joint=vec(pts[0])), digits=digits)


def frame(i: int, hand: SimpleNamespace | None) -> SimpleNamespace:
    return SimpleNamespace(tracking_frame_id=i, timestamp=int(i * 1e6 / 60), hands=[hand] if hand else [])


def test_joints_map_to_the_21_landmarks() -> None:
    pts = leap_hand_points(leap_hand(OPEN, 0.0, 250.0))
    assert pts.shape == (21, 3)
    np.testing.assert_allclose(pts - pts[0], (OPEN - OPEN[0]) * PALM_MM, atol=1e-9)
    for pose, g in ((OPEN, Gesture.OPEN), (FIST, Gesture.FIST), (PINCH, Gesture.PINCH)):
        assert classify(leap_hand_points(leap_hand(pose, 30.0, 200.0))) is g


def test_recorded_frames_drive_the_puck_and_pause() -> None:
    sink = RecordingSink(["a", "b"])
    ctl = LeapController()
    ctl._sink = sink  # as start() would, without a connection
    recording = ([leap_hand(OPEN, -100.0, 250.0)] * 10 + [leap_hand(PINCH, -100.0 + 10 * i, 250.0) for i in range(20)]
                 + [leap_hand(OPEN, 100.0, 250.0)] * 10 + [None] * 5 + [leap_hand(FIST, 0.0, 250.0)] * 40)
    for i, h in enumerate(recording):
        ctl.feed(frame(i, h))
    assert ctl.errors == 0 and ctl.frames == len(recording)
    assert len(sink.pucks) >= 10
    xs = [p[0] for p in sink.pucks]
    assert xs == sorted(xs) and xs[-1] > xs[0]  # follows the pinching hand to the right
    assert all(abs(p[1]) < 0.05 for p in sink.pucks)  # at mid-height of the box
    assert sink.controls == ["pause"]
    assert ctl.overlay().gesture == "fist" and ctl.overlay().paused


def test_malformed_frames_are_counted_not_raised() -> None:
    ctl = LeapController()
    ctl.feed(SimpleNamespace(timestamp=0, hands=[SimpleNamespace(palm=None)]))
    ctl.feed(SimpleNamespace())
    assert ctl.errors == 2


def test_box_mapping() -> None:
    box = LeapBox()
    assert box.to_display(0.0, 250.0) == pytest.approx((0.5, 0.5))
    assert box.to_display(150.0, 400.0) == pytest.approx((1.0, 0.0))


def test_offered_only_with_the_bindings() -> None:
    ok, why = leap_available()
    assert ok == (importlib.util.find_spec("leap") is not None)
    if not ok:
        assert "Ultraleap" in why


def test_connection_events_reach_the_sink_and_failures_are_explained() -> None:
    class FakeConnection:
        def __init__(self) -> None:
            self.listeners: list = []
            self.disconnected = False

        def add_listener(self, listener: object) -> None:
            self.listeners.append(listener)

        def connect(self, auto_poll: bool = True) -> None:
            for i in range(15):  # the poll thread delivers tracking events (and a non-tracking one)
                for listener in self.listeners:
                    listener.on_event(SimpleNamespace(kind="device"))
                    listener.on_event(frame(i, leap_hand(PINCH, 50.0, 250.0)))

        def disconnect(self) -> None:
            self.disconnected = True

    conn = FakeConnection()
    sink = RecordingSink(["a", "b"])
    ctl = LeapController(connection_factory=lambda: conn)
    assert ctl.available() == (True, "")
    ctl.start(sink)
    for _ in range(500):
        if ctl._connection is not None:  # connect() returned: every recorded event was delivered
            break
        time.sleep(0.01)
    assert sink.pucks and sink.pucks[-1][0] > 0 and ctl.frames == 15
    assert ctl.overlay().status == "tracking" and ctl.overlay().grabbed
    ctl.stop()
    assert conn.disconnected

    def no_service() -> object:
        raise ConnectionError("Ultraleap tracking service not running")

    bad = LeapController(connection_factory=no_service)
    bad.start(sink)
    for _ in range(500):
        if bad.overlay().status.startswith("unavailable"):
            break
        time.sleep(0.01)
    assert "tracking service" in bad.overlay().status
