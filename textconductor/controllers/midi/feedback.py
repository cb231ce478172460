"""MIDI feedback: the values someone else set, sent to a controller that can show them.

Why a sender of its own: a motorised fader or an LED ring should follow a preset, a morph or the
autopilot, but a controller's MIDI input is slow (31.25 kbit/s on DIN: ~1000 short messages a
second for all its controls) and a motor cannot follow a flood anyway. So each control gets at
most one message per `min_interval_s`, the newest value wins while it waits, and a value the
device already shows (sent before, or where its own fader was last seen) is not sent again.
What to send is decided by the pure `MidiMap.observe` (never the fader's own moves); this module
only does the I/O, on whatever port object it is given (`.send(mido message)`), so the tests use
a fake one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from textconductor.controllers.midi.mapping import Feedback
from textconductor.protocol.ratelimit import FailureLog

log = logging.getLogger(__name__)

FEEDBACK_INTERVAL_S = 0.04  # 25 messages a second per control: smooth on a motor fader, 16 faders < 1/2 of DIN


class FeedbackSender:
    """Control changes to one output port, newest value per control, rate-limited. Thread-safe."""

    def __init__(self, port: Any, min_interval_s: float = FEEDBACK_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        import mido  # the package's dependency; imported here so the mapping layer never needs it
        self.port = port
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.sent = 0
        self._message = mido.Message
        self._lock = threading.Lock()
        self._pending: dict[tuple[int, int], int] = {}
        self._shown: dict[tuple[int, int], int] = {}  # what the device shows, as far as we know
        self._when: dict[tuple[int, int], float] = {}
        self._failures = FailureLog(log, "MIDI feedback")

    def offer(self, items: Iterable[Feedback]) -> None:
        """Queue these values (the newest per control wins); `flush` sends them."""
        with self._lock:
            for f in items:
                key = (f.channel, f.control)
                if self._shown.get(key) == f.value:
                    self._pending.pop(key, None)  # already there: a newer change was undone
                else:
                    self._pending[key] = f.value

    def seen(self, channel: int, control: int, value: int) -> None:
        """The device's own control is at `value` (it sent it): feedback of that value is not needed."""
        with self._lock:
            self._shown[(channel, control)] = value

    def flush(self) -> float | None:
        """Send every queued value whose control may send again; seconds until the next is due, or None."""
        now = self.clock()
        due: list[tuple[tuple[int, int], int]] = []
        wait: float | None = None
        with self._lock:
            for key, value in list(self._pending.items()):
                left = self._when.get(key, -1e9) + self.min_interval_s - now
                if left > 0:
                    wait = left if wait is None else min(wait, left)
                    continue
                due.append((key, value))
                del self._pending[key]
                self._shown[key] = value
                self._when[key] = now
        for (channel, control), value in due:
            msg = self._message("control_change", channel=channel, control=control, value=value)
            try:
                self.port.send(msg)
                self.sent += 1
            except Exception as e:  # noqa: BLE001 - a device pulled mid-send fails in any way; the poll reopens
                self._failures.failed(e)
        return wait

    def forget(self) -> None:
        """The device was (re)plugged: it shows nothing we know of; send everything again."""
        with self._lock:
            self._shown.clear()
            self._when.clear()

    def close(self) -> None:
        try:
            self.port.close()
        except Exception as e:  # noqa: BLE001 - a pulled device may fail to close in any way
            log.debug("closing the MIDI feedback port: %s", e)
