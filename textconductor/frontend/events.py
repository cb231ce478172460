"""A minimal observable event: a list of callbacks, called in order on `emit`.

Why not Qt signals: the performer's state (`performer.py`) must run and be tested without a
QApplication, and the window is only one of its observers. Emission is synchronous on the caller's
thread (the GUI thread in the window); the window marshals foreign threads before touching the model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Event:
    """Callbacks to call with the same arguments whenever the event happens (napari/psygnal style, tiny)."""

    def __init__(self, name: str = "event") -> None:
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call `callback` on every emit (returned, so this can be used as a decorator)."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling `callback`; a callback never connected is ignored (teardown order must not matter)."""
        try:
            self._callbacks.remove(callback)
        except ValueError:
            log.debug("%s: disconnect of a callback that was not connected", self.name)

    def emit(self, *args: Any) -> None:
        # A copy: a callback may disconnect itself (or another) while we iterate.
        for callback in list(self._callbacks):
            callback(*args)

    def __len__(self) -> int:
        return len(self._callbacks)
