"""The one small interface every controller speaks.

A controller turns some input (MIDI, a hand, a timer, an OSC tool) into calls on a `ControlSink`.
The frontend's main window is a sink (so a fader moves the on-screen slider too); `OscSink` in
`osc_sink.py` is a sink that talks straight to the engine, for running a controller headless.
Controllers run on their own thread or timer, never block the caller, and must survive their
own failures: `start` reports a missing device as `available() -> (False, reason)`, not a crash.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

T = TypeVar("T")

# Names accepted by ControlSink.control(), with the value each takes.
CONTROLS: dict[str, str] = {
    "temperature": "float 0.05..5",
    "rate": "float chars/s, 0..1000 (0 = unthrottled)",
    "mix": "'linear' or 'product'",
    "pause": "no value",
    "resume": "no value",
    "toggle_pause": "no value",
    "reset": "no value",
    "preset_recall": "int 1..9",
    "preset_save": "int 1..9",
}


class ControlSink(Protocol):
    def set_weights(self, weights: Mapping[str, float]) -> None:
        """Set these styles' raw weights (0..1) by name; styles not named keep theirs."""

    def set_puck(self, x: float, y: float) -> None:
        """Move the puck; x, y in [-1, 1] (the style circle has radius 1, y up)."""

    def control(self, name: str, value: float | str | None = None) -> None:
        """One of CONTROLS."""

    def enabled_styles(self) -> list[str]:
        """Names of the styles currently enabled (on the sliders and the puck), in order."""


class Controller(ABC):
    """Start/stop lifecycle; `available` says why a controller cannot run here, in words."""

    name: str = "controller"

    @abstractmethod
    def start(self, sink: ControlSink) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    def available(self) -> tuple[bool, str]:
        return True, ""


# ---------------------------------------------------------------------------------------------
# Surviving failures. A controller's callbacks run on threads we do not own (rtmidi's, a socket
# reader's, a timer's); an exception there would either vanish or kill that thread, and on stage
# either is worse than a logged, counted error. Every callback a controller hands to foreign code
# goes through `guarded`; hosts start controllers through `start_safely`.

class _RateLimitedLog:
    """The first failure of each kind with its traceback, then a count at most every `every_s`."""

    def __init__(self, logger: logging.Logger, what: str, every_s: float = 10.0) -> None:
        self.logger, self.what, self.every_s = logger, what, every_s
        self.count = 0
        self._suppressed = 0
        self._last = -math.inf
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            self.count += 1
            now = time.monotonic()
            if self.count == 1:
                self._last = now
                self.logger.error("%s failed (continuing): %s", self.what, exc, exc_info=exc)
            elif now - self._last >= self.every_s:
                n, self._suppressed, self._last = self._suppressed + 1, 0, now
                self.logger.error("%s failed %d more time(s), last: %r", self.what, n, exc)
            else:
                self._suppressed += 1


def guarded(fn: Callable[..., T], what: str, logger: logging.Logger | None = None) -> Callable[..., T | None]:
    """`fn` that logs (rate-limited) and returns None instead of raising; `.failures` counts errors."""
    limiter = _RateLimitedLog(logger or logging.getLogger("textconductor.controllers"), what)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the point: nothing escapes into foreign threads
            limiter.failed(e)
            return None

    wrapper.failures = limiter  # type: ignore[attr-defined]
    return wrapper


def start_safely(controller: Controller, sink: ControlSink, logger: logging.Logger | None = None) -> bool:
    """Start `controller` if it can run here; False (logged once, in words) if not or if it raised."""
    logger = logger or logging.getLogger("textconductor.controllers")
    try:
        ok, reason = controller.available()
        if not ok:
            logger.warning("%s unavailable: %s", controller.name, reason)
            return False
        controller.start(sink)
        return True
    except Exception as e:  # noqa: BLE001
        logger.error("%s failed to start (the rest keeps running): %s", controller.name, e, exc_info=e)
        return False


def stop_safely(controller: Controller, logger: logging.Logger | None = None) -> None:
    """Stop `controller`; an error while stopping is logged, never raised (shutdown must finish)."""
    try:
        controller.stop()
    except Exception as e:  # noqa: BLE001
        (logger or logging.getLogger("textconductor.controllers")).error("%s failed to stop: %s", controller.name, e)
