"""Where in the text a guard acted, without Qt: from `/tc/guarded` tick numbers to character offsets.

The engine says "a guard acted before the character of tick N" (`protocol.Guarded`) just before it
publishes tick N. The window draws text in batches, once per display frame (`stream.TickStream`),
so a mark has to become "the k-th character of the batch about to be drawn". This class follows
what the stream queues (ticks and primed text, in the order the link emits them) and answers, at
each frame, the offsets of the marked characters within the text taken for that frame.

Why not a tick number on every character: the text view keeps only characters, and trimming its
scrollback shifts every position; offsets counted back from the end of a freshly appended batch
stay right whatever was trimmed before it.
"""

from __future__ import annotations

from collections.abc import Sequence

from textconductor import protocol

MAX_WAITING = 256  # /tc/guarded whose tick has not come yet; more means ticks were lost (or an engine restarted)


class GuardMarks:
    """Marked characters of the text queued since the last `take`, as (offset, kind)."""

    def __init__(self) -> None:
        self._waiting: dict[int, str] = {}  # tick number -> kind, announced but not arrived yet
        self._queued = 0  # characters queued since the last take (ticks and primed text)
        self._marks: list[tuple[int, str]] = []
        self.marked = 0  # characters marked since start (for the status tooltip and tests)

    def guarded(self, g: protocol.Guarded) -> None:
        """A guard acted on tick `g.tick` (comes before the tick). Several kinds on one tick: the first wins."""
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.clear()
        self._waiting.setdefault(g.tick, g.kind)

    def ticks(self, ticks: Sequence[protocol.Tick]) -> None:
        """Ticks the stream just queued (one character each)."""
        if not ticks:
            return
        for i, t in enumerate(ticks):
            kind = self._waiting.pop(t.tick, None)
            if kind is not None:
                self._marks.append((self._queued + i, kind))
        self._queued += len(ticks)
        last = ticks[-1].tick
        # an announced tick at or before the latest one that never came was lost on the wire
        for n in [n for n in self._waiting if n <= last]:
            del self._waiting[n]

    def text(self, text: str) -> None:
        """Text the stream queued without a tick (the performer's primed words)."""
        self._queued += len(text)

    def take(self) -> tuple[int, list[tuple[int, str]]]:
        """(characters queued since the last take, the marks among them as (offset, kind)); both reset."""
        queued, marks = self._queued, self._marks
        self._queued, self._marks = 0, []
        self.marked += len(marks)
        return queued, marks

    def clear(self) -> None:
        """Reset: the queued text is gone (the stream was cleared)."""
        self._queued, self._marks = 0, []
        self._waiting.clear()
