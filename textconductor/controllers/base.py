"""The one small interface every controller speaks.

A controller turns some input (MIDI, a hand, a timer, an OSC tool) into calls on a `ControlSink`.
The frontend's main window is a sink (so a fader moves the on-screen slider too); `OscSink` in
`osc_sink.py` is a sink that talks straight to the engine, for running a controller headless.
Controllers run on their own thread or timer, never block the caller, and must survive their
own failures: `start` reports a missing device as `available() -> (False, reason)`, not a crash.

The vocabulary (`CONTROLS`, `ControlSink`) belongs to the protocol layer, which the window and the
controllers share; it is re-exported here because this is where a controller's author looks.
"""

from __future__ import annotations

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

from textconductor.protocol.controls import CONTROLS, ControlSink
from textconductor.protocol.ratelimit import FailureLog

__all__ = ["CONTROLS", "ControlSink", "Controller", "guarded", "start_safely", "stop_safely"]

T = TypeVar("T")


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

def guarded(fn: Callable[..., T], what: str, logger: logging.Logger | None = None) -> Callable[..., T | None]:
    """`fn` that logs (rate-limited) and returns None instead of raising; `.failures` counts errors."""
    limiter = FailureLog(logger or logging.getLogger("textconductor.controllers"), what)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return limiter.call(fn, *args, **kwargs)

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
