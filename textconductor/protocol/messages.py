"""Out of the engine: every message it publishes, each with `encode` and `decode`.

Encode and decode sit side by side so the two cannot drift: the engine encodes, the window,
`OscSink`, the examples and the tests decode, and tests/protocol/test_messages.py round-trips
each one. `decode` takes the argument tuple of a message already walked by `wire.unpack` and
raises ValueError or TypeError when it does not fit; `decode_output` dispatches on the address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from textconductor.protocol.defaults import (
    DEFAULT_GUARD_ESCAPE,
    DEFAULT_GUARD_STRENGTH,
    DEFAULT_MIX,
    DEFAULT_RATE,
    DEFAULT_SEED,
    DEFAULT_TEMPERATURE,
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_P,
)
from textconductor.protocol.wire import blob_f32, blob_i32, f32_blob, i32_blob, message

OUT_HELLO = "/tc/hello"
OUT_STYLES = "/tc/styles"
OUT_TICK = "/tc/tick"
OUT_STATUS = "/tc/status"
OUT_PARAMS = "/tc/params"
OUT_REJECTED = "/tc/rejected"
OUT_PRIMED = "/tc/primed"
OUT_GUARDS = "/tc/guards"
OUT_GUARDED = "/tc/guarded"
OUT_CROWD = "/tc/crowd_state"
OUT_CROWD_POINTS = "/tc/crowd_points"
OUT_MARKED = "/tc/marked"
OUT_VERBATIM = "/tc/verbatim"


@dataclass
class Tick:
    """One generated character with everything that explains it (engine -> subscribers)."""

    ADDRESS: ClassVar[str] = OUT_TICK
    tick: int
    char: str
    attribution: np.ndarray  # [n_styles] share of p(char) each style contributed; 0 when inactive
    mixed: np.ndarray  # [vocab] the distribution the character was sampled from
    active: np.ndarray  # [A] indices of the active styles
    dists: np.ndarray  # [A, vocab] their own next-character distributions
    weights: np.ndarray  # [n_styles] effective normalised weights (0 when inactive or disabled)

    def encode(self) -> bytes:
        return message(OUT_TICK, self.tick, self.char, f32_blob(self.attribution), f32_blob(self.mixed),
                       i32_blob(self.active), f32_blob(self.dists), f32_blob(self.weights))

    @classmethod
    def decode(cls, args: tuple) -> Tick:
        tick, char, attr, mixed, active, dists, weights = args
        mixed_a = blob_f32(mixed)
        act = blob_i32(active)
        return cls(int(tick), str(char), blob_f32(attr), mixed_a, act,
                   blob_f32(dists).reshape(len(act), len(mixed_a)), blob_f32(weights))


STATUS_FIELDS = ("tick", "rate", "step_ms", "step_ms_max", "active", "rejected", "paused", "subscribers")


@dataclass
class Status:
    """Once a second: how the engine keeps up (rates, step times) and how much it has rejected."""

    ADDRESS: ClassVar[str] = OUT_STATUS
    tick: int = 0
    rate: float = 0.0  # characters generated in the last second
    step_ms: float = 0.0  # median time of step + mix + sample over the last second
    step_ms_max: float = 0.0
    active: int = 0
    rejected: int = 0  # invalid messages since start
    paused: bool = False
    subscribers: int = 0

    def encode(self) -> bytes:
        return message(OUT_STATUS, *(getattr(self, f) for f in STATUS_FIELDS))

    @classmethod
    def decode(cls, args: tuple) -> Status:
        if len(args) != len(STATUS_FIELDS):
            raise ValueError("bad status message")
        s = cls(**dict(zip(STATUS_FIELDS, args, strict=True)))
        s.paused = bool(s.paused)
        return s


PARAM_FIELDS = ("temperature", "rate", "mix", "threshold", "top_p", "seed")


@dataclass
class Params:
    """The engine's settings; the defaults are the engine's own starting values."""

    ADDRESS: ClassVar[str] = OUT_PARAMS
    temperature: float = DEFAULT_TEMPERATURE
    rate: float = DEFAULT_RATE
    mix: str = DEFAULT_MIX
    threshold: float = DEFAULT_THRESHOLD
    top_p: float = DEFAULT_TOP_P
    seed: int = DEFAULT_SEED

    def encode(self) -> bytes:
        return message(OUT_PARAMS, float(self.temperature), float(self.rate), self.mix, float(self.threshold),
                       float(self.top_p), int(self.seed))

    @classmethod
    def decode(cls, args: tuple) -> Params:
        if len(args) != len(PARAM_FIELDS):
            raise ValueError("bad params message")
        return cls(**dict(zip(PARAM_FIELDS, args, strict=True)))


@dataclass
class Hello:
    """Sent to a new subscriber and every few seconds: what the engine has loaded and its state."""

    ADDRESS: ClassVar[str] = OUT_HELLO
    names: list[str] = field(default_factory=list)
    enabled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # raw, as set
    history: str = ""  # the last characters of the text, so a new frontend shows where we are

    def encode(self) -> bytes:
        return message(OUT_HELLO, ",".join(self.names), i32_blob(self.enabled.astype(np.int32)),
                       f32_blob(self.weights), self.history)

    @classmethod
    def decode(cls, args: tuple) -> Hello:
        names, enabled, weights, history = args
        return cls(str(names).split(",") if names else [], blob_i32(enabled).astype(bool), blob_f32(weights).copy(),
                   str(history))


@dataclass
class Primed:
    """Performer text as it entered the history (folded), before the character of tick `tick`."""

    ADDRESS: ClassVar[str] = OUT_PRIMED
    tick: int
    text: str

    def encode(self) -> bytes:
        return message(OUT_PRIMED, self.tick, self.text)

    @classmethod
    def decode(cls, args: tuple) -> Primed:
        tick, text = args
        return cls(int(tick), str(text))


GUARDS_FIELDS = ("on", "strength", "escape", "loop_acts", "loop_chars", "blocked", "prime_dropped", "blocklist")


@dataclass
class Guards:
    """The guards' settings and what they have done: beside /tc/status, once a second.

    A message of its own rather than more fields on /tc/status, so that every existing receiver
    of /tc/status keeps decoding it byte for byte.
    """

    ADDRESS: ClassVar[str] = OUT_GUARDS
    on: bool = True  # the loop guard
    strength: float = DEFAULT_GUARD_STRENGTH
    escape: str = DEFAULT_GUARD_ESCAPE
    loop_acts: int = 0  # times the loop guard started to act since start
    loop_chars: int = 0  # characters whose distribution it changed
    blocked: int = 0  # characters at which the blocklist took probability away
    prime_dropped: int = 0  # blocked words dropped from primes
    blocklist: int = 0  # entries in the blocklist now

    def encode(self) -> bytes:
        return message(OUT_GUARDS, int(bool(self.on)), float(self.strength), str(self.escape), int(self.loop_acts),
                       int(self.loop_chars), int(self.blocked), int(self.prime_dropped), int(self.blocklist))

    @classmethod
    def decode(cls, args: tuple) -> Guards:
        if len(args) != len(GUARDS_FIELDS):
            raise ValueError("bad guards message")
        g = cls(**dict(zip(GUARDS_FIELDS, args, strict=True)))
        g.on = bool(g.on)
        return g


@dataclass
class Guarded:
    """A guard acted before the character of tick `tick`: `kind` is loop, whitespace, repeat-char
    or blocklist. Sent before that tick, so a window can mark the place in the text."""

    ADDRESS: ClassVar[str] = OUT_GUARDED
    tick: int
    kind: str

    def encode(self) -> bytes:
        return message(OUT_GUARDED, self.tick, self.kind)

    @classmethod
    def decode(cls, args: tuple) -> Guarded:
        tick, kind = args
        return cls(int(tick), str(kind))


@dataclass
class CrowdState:
    """How much the audience counts (mode off | blend | crowd, blend 0..1) and the crowd's weights
    (normalised, bank order; all zeros while no phone plays): with /tc/status and after any change."""

    ADDRESS: ClassVar[str] = OUT_CROWD
    mode: str = "off"
    blend: float = 0.5
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def encode(self) -> bytes:
        return message(OUT_CROWD, str(self.mode), float(self.blend), f32_blob(self.weights))

    @classmethod
    def decode(cls, args: tuple) -> CrowdState:
        mode, blend, weights = args
        return cls(str(mode), float(blend), blob_f32(weights).copy())


@dataclass
class CrowdPoints:
    """The audience's puck positions (circle units, y up; at most MAX_CROWD_POINTS), the phones
    that count now and the phones connected: from the audience server, relayed by the engine."""

    ADDRESS: ClassVar[str] = OUT_CROWD_POINTS
    phones: int = 0
    connected: int = 0
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.float32))

    def encode(self) -> bytes:
        pts = np.asarray(self.points, dtype=np.float32).reshape(-1)
        return message(OUT_CROWD_POINTS, int(self.phones), int(self.connected), *([f32_blob(pts)] if pts.size else []))

    @classmethod
    def decode(cls, args: tuple) -> CrowdPoints:
        phones, connected, blob = args if len(args) == 3 else (*args, b"")  # no blob: no points
        pts = blob_f32(blob)
        if pts.size % 2:
            raise ValueError("crowd points must be x, y pairs")
        return cls(int(phones), int(connected), pts.reshape(-1, 2).copy())


@dataclass
class RejectedCounts:
    """/tc/rejected s reason, i count, ... : the totals since start, per reason."""

    ADDRESS: ClassVar[str] = OUT_REJECTED
    counts: dict[str, int] = field(default_factory=dict)

    def encode(self) -> bytes:
        args: list[Any] = []
        for reason, n in sorted(self.counts.items()):
            args += [reason, int(n)]
        return message(OUT_REJECTED, *args)

    @classmethod
    def decode(cls, args: tuple) -> RejectedCounts:
        return cls({str(args[i]): int(args[i + 1]) for i in range(0, len(args) - 1, 2)})


def rejected_counts_message(counts: dict[str, int]) -> bytes:
    """/tc/rejected s reason, i count, ... (the totals since start, per reason)."""
    return RejectedCounts(counts).encode()


@dataclass
class Marked:
    """The performer kept or rejected the text of ticks [start, end) (`/tc/keep`, `/tc/reject`);
    `kept` and `rejected` count the passages marked so far (a re-marked range counts once)."""

    ADDRESS: ClassVar[str] = OUT_MARKED
    kind: str  # "keep" or "reject"
    start: int
    end: int
    kept: int = 0
    rejected: int = 0

    def encode(self) -> bytes:
        return message(OUT_MARKED, str(self.kind), int(self.start), int(self.end), int(self.kept),
                       int(self.rejected))

    @classmethod
    def decode(cls, args: tuple) -> Marked:
        kind, start, end, kept, rejected = args
        if kind not in ("keep", "reject"):
            raise ValueError("bad mark kind")
        return cls(str(kind), int(start), int(end), int(kept), int(rejected))


@dataclass
class Verbatim:
    """The characters of ticks start_tick..end_tick (inclusive) occur word for word in the corpus of
    `style`, at character `offset` of its folded text (on `line`, 1-based). Sent at each tick that
    ends such a span; a later one with the same start_tick extends the earlier (engine/provenance.py)."""

    ADDRESS: ClassVar[str] = OUT_VERBATIM
    start_tick: int
    end_tick: int
    style: str
    offset: int
    line: int = 0

    def encode(self) -> bytes:
        return message(OUT_VERBATIM, int(self.start_tick), int(self.end_tick), str(self.style), int(self.offset),
                       int(self.line))

    @classmethod
    def decode(cls, args: tuple) -> Verbatim:
        start, end, style, offset, line = args
        if int(end) < int(start) or int(offset) < 0:
            raise ValueError("bad verbatim span")
        return cls(int(start), int(end), str(style), int(offset), int(line))


Output = (Tick | Status | Params | Hello | Primed | RejectedCounts | Guards | Guarded | CrowdState | CrowdPoints
          | Marked | Verbatim)
OUTGOING: dict[str, type[Output]] = {c.ADDRESS: c for c in (Tick, Status, Params, Hello, Primed, RejectedCounts,
                                                            Guards, Guarded, CrowdState, CrowdPoints,
                                                            Marked, Verbatim)}


def decode_output(address: str, args: tuple) -> Output | None:
    """The engine message at `address`; None for an address the engine does not publish.

    Raises ValueError or TypeError when the arguments do not fit the message.
    """
    cls = OUTGOING.get(address)
    return None if cls is None else cls.decode(args)
