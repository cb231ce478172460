"""A real ControlSink that remembers every call, for asserting what a controller did."""

from __future__ import annotations

import threading
from collections.abc import Mapping


class RecordingSink:
    def __init__(self, styles: list[str] | None = None) -> None:
        self.styles = list(styles if styles is not None else ["bible", "linux", "austen"])
        self.calls: list[tuple] = []
        self.weights: dict[str, float] = {}
        self.puck: tuple[float, float] | None = None
        self.changed = threading.Event()
        self._lock = threading.Lock()

    def set_weights(self, weights: Mapping[str, float]) -> None:
        with self._lock:
            self.calls.append(("weights", dict(weights)))
            self.weights.update(weights)
        self.changed.set()

    def set_puck(self, x: float, y: float) -> None:
        with self._lock:
            self.calls.append(("puck", x, y))
            self.puck = (x, y)
        self.changed.set()

    def control(self, name: str, value: float | str | None = None) -> None:
        with self._lock:
            self.calls.append(("control", name, value))
        self.changed.set()

    def enabled_styles(self) -> list[str]:
        return list(self.styles)

    def take(self) -> list[tuple]:
        with self._lock:
            out, self.calls = self.calls, []
        self.changed.clear()
        return out
