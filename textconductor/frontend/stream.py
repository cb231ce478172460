"""What arrived from the engine and is not drawn yet, without Qt: tinted text runs and the latest tick.

Rendering is decoupled from arrival: ticks are decoded as they come and their characters queued
here; the window's display timer takes all queued runs and the latest tick once per frame, so an
engine running faster than the screen costs one repaint per frame. The recent runs are kept (a
bounded replay) so an output window opened mid-performance starts with the text the audience saw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from textconductor import protocol

OUTPUT_REPLAY_CHARS = 6000
Run = tuple[str, str | None]  # text, and its colour (None: the view's default)


class TickStream:
    """Queue of text runs (one colour per run) and the latest tick for the bars."""

    def __init__(self, replay_chars: int = OUTPUT_REPLAY_CHARS) -> None:
        self.replay_chars = replay_chars
        self.text_colours: list[str] = []  # per style, bank order: the tint of the characters it wrote
        self.pending: list[Run] = []
        self.latest: protocol.Tick | None = None
        self.bars_dirty = False
        self.ticks_received = 0
        self._recent: deque[Run] = deque()
        self._recent_len = 0

    def add_ticks(self, ticks: Sequence[protocol.Tick]) -> None:
        """Queue every character, tinted by its main contributor; keep only the latest tick for the bars."""
        n = len(self.text_colours)
        pend = self.pending
        for t in ticks:
            colour = None
            if n and len(t.attribution) == n and t.attribution.size and t.attribution.max() > 0:
                colour = self.text_colours[int(np.argmax(t.attribution))]
            if pend and pend[-1][1] == colour:
                pend[-1] = (pend[-1][0] + t.char, colour)
            else:
                pend.append((t.char, colour))
        self.ticks_received += len(ticks)
        if ticks:
            self.latest = ticks[-1]
            self.bars_dirty = True

    def add_text(self, text: str, colour: str | None) -> None:
        """Text that entered the stream without a tick (the performer's primed words)."""
        if text:
            self.pending.append((text, colour))

    def take_runs(self) -> list[Run]:
        """Every queued run (remembered for the replay); the queue is empty afterwards."""
        runs, self.pending = self.pending, []
        for r in runs:
            self._recent.append(r)
            self._recent_len += len(r[0])
        while self._recent_len > self.replay_chars and len(self._recent) > 1:
            self._recent_len -= len(self._recent.popleft()[0])
        return runs

    def take_tick(self) -> protocol.Tick | None:
        """The latest tick if the bars have not shown it yet, else None."""
        if not self.bars_dirty or self.latest is None:
            return None
        self.bars_dirty = False
        return self.latest

    def replay(self) -> list[Run]:
        """The recent runs, oldest first (at most about `replay_chars` characters)."""
        return list(self._recent)

    def clear(self) -> None:
        """Reset: nothing queued and nothing to replay (the latest tick stays for the bars)."""
        self.pending.clear()
        self._recent.clear()
        self._recent_len = 0
