"""Rate-limited logging: count every event, log only a few lines about them.

A flood of bad packets (or a controller callback failing 60 times a second) must stay visible
without filling a disk or burying everything else in the log. Every receiver of foreign input,
the engine's socket, the osc-bridge, the controllers' `guarded` callbacks and the hand tracker,
uses this one policy: the first event of each kind is reported at once, later ones at most once
per `every_s` per kind, with how many came since the last report; everything is counted.
`RateLimitedLog` decides per kind of event; `FailureLog` applies it to one callback's exceptions.
It lives in the protocol layer because the engine, the window and the controllers all need it
and may share nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Due:
    """What `RateLimitedLog.add` decided. True when a report is due now."""

    n: int  # events of this key to report now, this one included (0: stay quiet)
    first: bool  # the first event of this key ever (worth a traceback, say)

    def __bool__(self) -> bool:
        return self.n > 0


class RateLimitedLog:
    """Counts events per key and says when one deserves a log line. Thread-safe.

    `add` decides and leaves the wording to the caller (the engine's rejection lines are read by
    operators and tests); `log` is the common case of a message with the count appended.
    """

    def __init__(self, every_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.counts: Counter[str] = Counter()
        self._clock = clock
        self._since: Counter[str] = Counter()
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: str = "") -> Due:
        """Count one event of `key`; a report is due for the first of a key, then every `every_s` at most."""
        with self._lock:
            self.counts[key] += 1
            self._since[key] += 1
            now = self._clock()
            last = self._last.get(key)
            if last is not None and now - last < self.every_s:
                return Due(0, False)
            self._last[key] = now
            return Due(self._since.pop(key), last is None)

    def log(self, logger: logging.Logger, level: int, key: str, msg: str, *args: object,
            exc_info: BaseException | bool | None = None) -> bool:
        """`add(key)`, and when due log `msg % args`, plus " (N more since the last report)"."""
        due = self.add(key)
        if due:
            more = f" ({due.n - 1} more since the last report)" if due.n > 1 else ""
            logger.log(level, msg + more, *args, exc_info=exc_info)
        return bool(due)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def snapshot(self) -> dict[str, int]:
        """Counts per key since start (a copy)."""
        with self._lock:
            return dict(self.counts)


class FailureLog:
    """Failures of one callback: the first logged with its traceback, then a count every `every_s` at most.

    For code that must survive its own exceptions on threads or timers it does not own (a MIDI
    callback, an autopilot tick at 20 Hz): an error there must neither vanish, nor kill the
    thread, nor flood the log. `call` runs a function under this policy; `count` is every failure.
    """

    def __init__(self, logger: logging.Logger, what: str, every_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.what = logger, what
        self._limit = RateLimitedLog(every_s, clock)

    @property
    def count(self) -> int:
        return self._limit.total

    def failed(self, exc: BaseException) -> None:
        due = self._limit.add()
        if due.first:
            self.logger.error("%s failed (continuing): %s", self.what, exc, exc_info=exc)
        elif due:
            self.logger.error("%s failed %d more time(s), last: %r", self.what, due.n, exc)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """`fn(*args, **kwargs)`, or None (logged, counted) if it raised."""
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - the point: nothing escapes into foreign threads
            self.failed(e)
            return None
