"""Keep and reject: a performer's marks on passages, resolved to tick ranges, and their reader.

Why the engine resolves them (not the window): only the engine knows, for every tick, the
character and the mixture that made it, and only its record is what `replay` regenerates. So a
mark is turned here into a tick range, its exact text (generated characters and the performer's
primed words between them, as they entered the history) and the mean effective weights, and
written to the performance record as one JSON line:

  {"type": "mark", "id": 3, "kind": "keep", "start": 120, "end": 348, "text": "...",
   "weights": {"bible": 0.62, "austen": 0.38}, "temperature": 0.8, "mix": "linear",
   "seed": 1, "span": "default", "time": 1764509000.0}

`start` is inclusive, `end` exclusive, in ticks (one generated character per tick; a prime at tick
T entered before the character of tick T). `span` is "default" (the text since the previous mark
or paragraph break) or "selected" (a range the performer chose). `weights` are the effective
normalised weights the engine mixed with (the loop guard's shifts included), averaged over the
range, styles under 0.5% left out; `temperature` is its mean and `mix` the rule of most ticks.

Marking the same range again replaces its kind (press R right after K to turn a keep into a reject):
`read_marks` keeps the last mark of each range. Marks are not commands to the conductor: `replay`
skips the lines, and regenerating a passage (`replay --passage START:END`) reproduces its text.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from textconductor.engine.conductor import CommandError
from textconductor.protocol import Tick, bundle
from textconductor.protocol.messages import Marked

log = logging.getLogger(__name__)

KINDS = ("keep", "reject")
MAX_SPAN = 2000  # ticks: the longest default passage (and what a snapshot keeps for one)
BUFFER_TICKS = 20000  # ticks kept in memory: a selection anywhere in the window's scrollback resolves
RECENT_KEPT = 200  # ranges remembered for corrections and sent to a new subscriber
ANNOUNCED = 50  # marks sent to a subscriber when it joins (the window draws their margin marks)
MIN_WEIGHT = 0.005  # styles weighing less on average are left out of a mark's mixture
PARAGRAPH = "\n\n"


@dataclass
class Mark:
    """One marked passage, as the record holds it (see the module docstring)."""

    kind: str
    start_tick: int
    end_tick: int
    text: str
    weights: dict[str, float] = field(default_factory=dict)
    temperature: float = 0.0
    mix: str = ""
    time: float = 0.0
    seed: int = 0
    span: str = "default"
    id: int = 0
    record: Path | None = None  # set by read_marks

    def line(self) -> dict[str, Any]:
        """The record line (without `record`, which is where the line is)."""
        return {"type": "mark", "id": self.id, "kind": self.kind, "start": self.start_tick, "end": self.end_tick,
                "text": self.text, "weights": self.weights, "temperature": self.temperature, "mix": self.mix,
                "seed": self.seed, "span": self.span, "time": self.time}

    @classmethod
    def from_line(cls, line: Mapping[str, Any], record: Path | None = None) -> Mark:
        return cls(kind=str(line["kind"]), start_tick=int(line["start"]), end_tick=int(line["end"]),
                   text=str(line["text"]), weights={str(k): float(v) for k, v in line.get("weights", {}).items()},
                   temperature=float(line.get("temperature", 0.0)), mix=str(line.get("mix", "")),
                   time=float(line.get("time", 0.0)), seed=int(line.get("seed", 0)),
                   span=str(line.get("span", "default")), id=int(line.get("id", 0)), record=record)


def passage_text(chars: Mapping[int, str], primes: Mapping[int, list[str]], start: int, end: int) -> str:
    """The text of ticks [start, end): each tick's primed words (entered before it), then its character."""
    out: list[str] = []
    for t in range(start, end):
        out.extend(primes.get(t, ()))
        out.append(chars.get(t, ""))
    return "".join(out)


@dataclass
class Run:
    """From tick `start` on (until the next run): these effective weights, temperature and mix."""

    start: int
    weights: np.ndarray
    temperature: float
    mix: str
    key: bytes = b""  # the weights' bytes, to compare rows cheaply


class MarkBook:
    """What the engine wrote recently (per tick: character, weights, temperature, mix) and the marks.

    Pure: the runner feeds it ticks and applied commands and asks it to resolve a mark; it does no
    I/O, so the same logic serves the live engine and the tests. The weights are kept as runs of
    equal rows (they change only when the performer or the loop guard moves them), so a tick costs
    one comparison and a snapshot twice a second stays small.
    """

    def __init__(self, names: list[str], buffer_ticks: int = BUFFER_TICKS) -> None:
        self.names = list(names)
        self.buffer_ticks = buffer_ticks
        self.first = 0  # tick of chars[0]
        self.chars: deque[str] = deque(maxlen=buffer_ticks)
        self.runs: deque[Run] = deque()  # from its start tick on: these weights, temperature and mix
        self.primes: dict[int, list[str]] = {}
        self.boundary = 0  # no default passage starts before this tick (the last mark's end, a reset)
        self.recent: OrderedDict[tuple[int, int], str] = OrderedDict()  # (start, end) -> kind
        self.counts = dict.fromkeys(KINDS, 0)
        self.next_id = 1

    # -- feeding -----------------------------------------------------------------------------
    @property
    def end(self) -> int:
        """The tick after the last one seen."""
        return self.first + len(self.chars)

    def observe(self, tick: Tick, temperature: float, mix: str) -> None:
        """One generated character with the effective weights and settings that made it."""
        if tick.tick != self.end:  # a gap (a restored engine resumes elsewhere): start the buffer anew
            self.chars.clear()
            self.runs.clear()
            self.first = tick.tick
        if len(self.chars) == self.buffer_ticks:
            self.first += 1
            while len(self.runs) > 1 and self.runs[1].start <= self.first:
                self.runs.popleft()
            if self.primes and min(self.primes) < self.first:
                del self.primes[min(self.primes)]
        self.chars.append(tick.char)
        w = np.asarray(tick.weights, dtype=np.float32)
        key = w.tobytes()  # comparing bytes costs a fraction of np.array_equal's overhead
        last = self.runs[-1] if self.runs else None
        if last is None or last.key != key or last.temperature != temperature or last.mix != mix:
            self.runs.append(Run(tick.tick, w, float(temperature), str(mix), key))

    def applied(self, tick: int, name: str, primed: str = "") -> None:
        """A conductor command before `tick`: primed text joins the passage, a reset ends it."""
        if name == "prime" and primed:
            self.primes.setdefault(tick, []).append(primed)
        elif name == "reset":
            self.boundary = max(self.boundary, tick)

    # -- resolving ---------------------------------------------------------------------------
    def _chars(self, start: int, end: int) -> dict[int, str]:
        lo, hi = max(start, self.first), min(end, self.end)
        if hi <= lo:
            return {}
        return dict(zip(range(lo, hi), islice(self.chars, lo - self.first, hi - self.first), strict=True))

    def text(self, start: int, end: int) -> str:
        return passage_text(self._chars(start, end), self.primes, start, end)

    def default_start(self, now: int) -> int:
        """The first tick after the last paragraph break (trailing newlines aside), the last mark or
        reset, and at most MAX_SPAN ticks back."""
        lo = max(self.boundary, self.first, now - MAX_SPAN)
        hi = min(now, self.end)
        primes = sorted((t, p) for t, ps in self.primes.items() if lo <= t < now for p in ps)
        if not primes:  # the usual case: one character per tick
            text = "".join(islice(self.chars, lo - self.first, max(hi - self.first, lo - self.first)))
            ticks = list(range(lo, lo + len(text)))
        else:
            chars = self._chars(lo, now)
            pieces: list[tuple[int, str]] = []
            for t in range(lo, now):
                pieces.extend((t, p) for p in self.primes.get(t, ()))
                pieces.append((t, chars.get(t, "")))
            text = "".join(p for _, p in pieces)
            ticks = [t for t, p in pieces for _ in p]
        cut = text.rstrip("\n").rfind(PARAGRAPH)
        if cut < 0:
            return lo
        k = cut + len(PARAGRAPH)
        return ticks[k] if k < len(ticks) else now

    def resolve(self, kind: str, args: tuple, now: int, seed: int, clock: float | None = None) -> Mark:
        """The mark for a `keep`/`reject` command at tick `now`; CommandError when there is nothing to mark."""
        if kind not in KINDS:
            raise CommandError("not a mark", kind)
        span = "selected" if args else "default"
        if args:
            start, end = int(args[0]), min(int(args[1]), now)
            if end <= self.first or start >= end:
                raise CommandError("mark span not in memory", f"{args[0]}..{args[1]}")
            start = max(start, self.first)
        else:
            end = now
            start = self.default_start(now)
            if start >= end and self.recent:  # nothing new: a correction of the last mark
                start, end = next(reversed(self.recent))
        if start >= end:
            raise CommandError("nothing to mark")
        w, temperature, mix = self._mixture(start, end)
        m = Mark(kind, start, end, self.text(start, end), w, temperature, mix,
                 time=time.time() if clock is None else clock, seed=seed, span=span, id=self.next_id)
        self._remember(m)
        return m

    def _covering(self, start: int, end: int) -> list[tuple[Run, int]]:
        """The runs over ticks [start, end), each with how many of those ticks it covers."""
        runs = list(self.runs)
        out = []
        for k, r in enumerate(runs):
            stop = runs[k + 1].start if k + 1 < len(runs) else self.end
            n = min(stop, end) - max(r.start, start)
            if n > 0:
                out.append((r, n))
        return out

    def _mixture(self, start: int, end: int) -> tuple[dict[str, float], float, str]:
        cover = self._covering(start, end)
        if not cover:
            return {}, 0.0, ""
        total = sum(n for _, n in cover)
        size = max(len(r.weights) for r, _ in cover)  # a hot-loaded style makes later rows longer
        mean = sum(np.pad(r.weights.astype(np.float64), (0, size - len(r.weights))) * n for r, n in cover) / total
        weights = {self.names[i]: round(float(mean[i]), 4) for i in np.argsort(-mean)
                   if i < len(self.names) and mean[i] >= MIN_WEIGHT}
        temperature = round(sum(r.temperature * n for r, n in cover) / total, 4)
        by_mix: dict[str, int] = {}
        for r, n in cover:
            by_mix[r.mix] = by_mix.get(r.mix, 0) + n
        return weights, temperature, max(by_mix, key=lambda k: by_mix[k])

    def _remember(self, m: Mark) -> None:
        key = (m.start_tick, m.end_tick)
        old = self.recent.pop(key, None)
        if old is not None:
            self.counts[old] -= 1
        self.recent[key] = m.kind
        self.counts[m.kind] += 1
        while len(self.recent) > RECENT_KEPT:
            self.recent.popitem(last=False)
        self.boundary = max(self.boundary, m.end_tick)
        self.next_id += 1

    # -- telling subscribers -------------------------------------------------------------------
    def marked(self, kind: str, start: int, end: int) -> Marked:
        return Marked(kind, start, end, self.counts["keep"], self.counts["reject"])

    def announce(self) -> bytes | None:
        """The recent marks as one bundle (for a subscriber that has just joined), or None."""
        items = list(self.recent.items())[-ANNOUNCED:]
        if not items:
            return None
        return bundle(*(self.marked(kind, s, e).encode() for (s, e), kind in items))

    # -- surviving a restart -------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The marks so far and the last MAX_SPAN ticks (weights as runs), as JSON."""
        lo = max(self.first, self.end - MAX_SPAN)
        runs = [[max(r.start, lo), [round(float(x), 5) for x in r.weights], r.temperature, r.mix]
                for r, _ in self._covering(lo, self.end)]
        return {"version": 1, "boundary": self.boundary, "counts": dict(self.counts), "next_id": self.next_id,
                "recent": [[s, e, k] for (s, e), k in self.recent.items()], "first": lo,
                "text": "".join(islice(self.chars, lo - self.first, None)),
                "primes": [[t, p] for t, ps in sorted(self.primes.items()) if t >= lo for p in ps], "runs": runs}

    def restore(self, state: Mapping[str, Any] | None) -> None:
        """Carry on from `state()`; anything unreadable is logged and skipped (never fatal)."""
        if not state:
            return
        try:
            boundary = int(state["boundary"])
            counts = {k: int(state["counts"].get(k, 0)) for k in KINDS}
            recent = OrderedDict(((int(s), int(e)), str(k)) for s, e, k in state["recent"] if k in KINDS)
            runs = [Run(int(t), np.asarray(w, dtype=np.float32), float(temp), str(mix))
                    for t, w, temp, mix in sorted(state["runs"], key=lambda r: r[0])]
            for r in runs:
                r.key = r.weights.tobytes()
            primes: dict[int, list[str]] = {}
            for t, p in state.get("primes", []):
                primes.setdefault(int(t), []).append(str(p))
            text, first, next_id = str(state["text"]), int(state["first"]), int(state.get("next_id", 1))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            log.warning("cannot restore the marks (%s): starting with none", e)
            return
        self.boundary, self.counts, self.recent, self.next_id = boundary, counts, recent, next_id
        self.first, self.primes = first, primes
        self.chars.clear()
        self.chars.extend(text[-self.buffer_ticks:])
        self.first += len(text) - len(self.chars)
        self.runs = deque(runs)


# -- reading marks back ---------------------------------------------------------------------------

def marks_of(lines: Iterable[Mapping[str, Any]], record: Path | None = None) -> list[Mark]:
    """The marks of one record's lines, the last of each range winning, in order of their start."""
    by_range: dict[tuple[int, int], Mark] = {}
    for line in lines:
        if line.get("type") == "mark":
            m = Mark.from_line(line, record)
            by_range[(m.start_tick, m.end_tick)] = m
    return sorted(by_range.values(), key=lambda m: (m.start_tick, m.end_tick))


def read_marks(paths: Iterable[Path | str], kind: str | None = None) -> list[Mark]:
    """Every mark of these performance records (record by record, each in tick order).

    `kind`: only "keep" or only "reject". A file that is not a record is a UserError.
    """
    from textconductor.engine.record import read_record
    out: list[Mark] = []
    for p in paths:
        path = Path(p)
        out += [m for m in marks_of(read_record(path), path) if kind is None or m.kind == kind]
    return out
