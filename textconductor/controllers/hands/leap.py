"""Leap Motion / Ultraleap as a second hand source, with the same gestures and puck as the webcam.

Why so small: Ultraleap's Python bindings (`leap`, from github.com/ultraleap/leapc-python-bindings) need
Ultraleap's own tracking service and install from neither PyPI nor Debian, so this adapter is offered
only when `import leap` works. It converts each Leap hand into the 21-landmark layout, so the very same
`GestureMachine` (classifier, One Euro filter, pause/resume, puck mapping) drives the sink; tests feed
it recorded frames shaped like the bindings' objects.

Leap coordinates (desktop mode): millimetres, origin at the device, x right, y up (height above the
device), z towards the user. The interaction box below maps palm x/height onto the display square.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from textconductor.controllers.base import Controller, ControlSink
from textconductor.controllers.hands.machine import GestureMachine, HandInput, HandOverlay, HandSettings, apply_actions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeapBox:
    """The region above the device that spans the puck: palm x from x_min..x_max mm, height y_min..y_max."""

    x_min: float = -150.0
    x_max: float = 150.0
    y_min: float = 100.0
    y_max: float = 400.0

    def to_display(self, x_mm: float, y_mm: float) -> tuple[float, float]:
        """mm -> display coordinates (0..1, y down), not clipped (the puck mapping clips)."""
        return ((x_mm - self.x_min) / (self.x_max - self.x_min),
                1.0 - (y_mm - self.y_min) / (self.y_max - self.y_min))


# The Leap region already spans the display square, so the whole of it maps onto the puck (region 1).
LEAP_SETTINGS = HandSettings(region=1.0, mirror=False)


def leap_available() -> tuple[bool, str]:
    """Whether Ultraleap's bindings are importable (cheap: the module is located, not imported)."""
    if importlib.util.find_spec("leap") is None:
        return False, ("Ultraleap Python bindings (`leap`) are not installed: see "
                       "github.com/ultraleap/leapc-python-bindings and Ultraleap's tracking service")
    return True, ""


def _vec(v: object) -> list[float]:
    return [float(v.x), float(v.y), float(v.z)]  # type: ignore[attr-defined]


def leap_hand_points(hand: object) -> np.ndarray:
    """A Leap hand's joints as the 21 MediaPipe landmarks (mm).

    Leap digits have four bones (metacarpal, proximal, intermediate, distal); for the fingers MediaPipe's
    MCP/PIP/DIP/tip are the ends of proximal.prev, proximal.next, intermediate.next, distal.next. Leap's
    thumb metacarpal has zero length, so its proximal bone plays the anatomical metacarpal: CMC, MCP, IP,
    tip are proximal.prev, proximal.next, intermediate.next, distal.next as well. The wrist is the end of
    the arm bone.
    """
    pts = [_vec(hand.arm.next_joint)]  # type: ignore[attr-defined]
    for digit in hand.digits:  # type: ignore[attr-defined]
        pts += [_vec(digit.proximal.prev_joint), _vec(digit.proximal.next_joint),
                _vec(digit.intermediate.next_joint), _vec(digit.distal.next_joint)]
    a = np.asarray(pts, dtype=np.float64)
    if a.shape != (21, 3):
        raise ValueError(f"a Leap hand must have 5 digits, got joints of shape {a.shape}")
    return a


def leap_hand_to_input(hand: object, box: LeapBox | None = None) -> HandInput:
    """A Leap hand -> `HandInput`: landmarks for the classifier, palm position and overlay in display units."""
    box = box or LeapBox()
    pts = leap_hand_points(hand)
    p = hand.palm.position  # type: ignore[attr-defined]
    position = box.to_display(float(p.x), float(p.y))
    overlay = tuple(box.to_display(float(x), float(y)) for x, y, _ in pts)
    kind = str(getattr(hand, "type", ""))
    return HandInput(points=pts, position=position, overlay=overlay,
                     handedness="Left" if kind.endswith("Left") else "Right" if kind.endswith("Right") else "")


class LeapController(Controller):
    """Ultraleap hands -> the puck, through the shared `GestureMachine`.

    `connection_factory` builds the bindings' `leap.Connection` (default); it is opened on a background
    thread (the bindings wait up to 10 s for the service) and its poll thread calls `feed` per tracking
    frame. `feed` can also be called directly with recorded frames.
    """

    name = "leap"

    def __init__(self, settings: HandSettings | None = None, box: LeapBox | None = None,
                 connection_factory: Callable[[], object] | None = None,
                 on_overlay: Callable[[HandOverlay], None] | None = None) -> None:
        self.settings = settings or LEAP_SETTINGS
        self.box = box or LeapBox()
        self._connection_factory = connection_factory
        self._on_overlay = on_overlay
        self._machine = GestureMachine(self.settings)
        self._lock = threading.Lock()
        self._overlay = HandOverlay()
        self._sink: ControlSink | None = None
        self._connection: object | None = None
        self.frames = 0
        self.errors = 0

    def available(self) -> tuple[bool, str]:
        if self._connection_factory is not None:
            return True, ""
        return leap_available()

    def start(self, sink: ControlSink) -> None:
        self._sink = sink
        threading.Thread(target=self._connect, name="leap-connect", daemon=True).start()

    def _connect(self) -> None:
        try:
            if self._connection_factory is not None:
                conn = self._connection_factory()
            else:
                import leap  # optional, only when offered

                conn = leap.Connection()
            conn.add_listener(_Listener(self))  # type: ignore[attr-defined]
            conn.connect(auto_poll=True)  # type: ignore[attr-defined]
            self._connection = conn
            if self.overlay().status == "not started":  # no frame yet: say we are connected
                self._set_overlay(replace(self.overlay(), status="no hand"))
        except Exception as e:  # noqa: BLE001 - no service/device: explain, keep the app running
            log.warning("Leap tracking unavailable: %s", e)
            self._set_overlay(replace(self.overlay(), status=f"unavailable: {e}"))

    def stop(self) -> None:
        conn, self._connection = self._connection, None
        if conn is not None:
            try:
                conn.disconnect()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001
                log.debug("Leap disconnect failed", exc_info=True)
        self._sink = None

    def overlay(self) -> HandOverlay:
        with self._lock:
            return self._overlay

    def _set_overlay(self, ov: HandOverlay) -> None:
        with self._lock:
            self._overlay = ov
        if self._on_overlay is not None:
            try:
                self._on_overlay(ov)
            except Exception:  # noqa: BLE001
                log.warning("hand overlay callback raised", exc_info=True)

    def feed(self, event: object, t: float | None = None) -> None:
        """One tracking frame (anything with `.hands`; `.timestamp` in microseconds is used as its time).

        Never raises: a malformed frame is counted and logged.
        """
        try:
            ts = getattr(event, "timestamp", None)
            t = t if t is not None else (float(ts) / 1e6 if ts is not None else time.monotonic())
            hands = list(event.hands)  # type: ignore[attr-defined]
            hand = leap_hand_to_input(hands[0], self.box) if hands else None
            actions, gesture = self._machine.step(t, hand)
        except Exception:  # noqa: BLE001 - one bad frame must not end tracking
            self.errors += 1
            log.warning("bad Leap frame", exc_info=True)
            return
        self.frames += 1
        sink = self._sink
        if sink is not None:
            apply_actions(sink, actions, lambda kind: log.warning("control sink raised on %s", kind, exc_info=True))
        self._set_overlay(self._machine.snapshot(hand, gesture, t))


class _Listener:
    """Duck-typed `leap.Listener`: the bindings' poll thread calls on_event/on_error on every listener."""

    def __init__(self, controller: LeapController) -> None:
        self._c = controller

    def on_event(self, event: object) -> None:
        if hasattr(event, "hands"):  # tracking events only
            self._c.feed(event)

    def on_error(self, error: object) -> None:
        log.warning("Leap error: %s", error)
