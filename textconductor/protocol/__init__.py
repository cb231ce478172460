"""The OSC protocol between the engine and everything else: one table, validation, encoding.

Engine, frontends and controllers meet only here (this module imports neither torch nor Qt).
`docs/osc.md` documents the same table for people; `tests/test_protocol.py` keeps them in step.

Incoming messages are turned into `Command`s by `parse_packet`, which never raises: anything
malformed (bad bytes, wrong types or counts, out-of-range or non-finite values, unknown
addresses, OSC wildcards) becomes a `Rejected` with a reason, so the engine can count and log it.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 57130
MAX_PACKET = 65507
MAX_BUNDLE_DEPTH = 4
MAX_PRIME_CHARS = 2000
MAX_STYLES = 256

MIX_MODES = ("linear", "product")
TEMPERATURE_RANGE = (0.05, 5.0)
RATE_RANGE = (0.0, 1000.0)  # chars/s; 0 means as fast as possible
THRESHOLD_RANGE = (0.0, 0.5)
TOP_P_RANGE = (0.01, 1.0)

# Outgoing addresses (engine -> subscribers).
OUT_HELLO = "/tc/hello"
OUT_STYLES = "/tc/styles"
OUT_TICK = "/tc/tick"
OUT_STATUS = "/tc/status"
OUT_PARAMS = "/tc/params"
OUT_REJECTED = "/tc/rejected"
OUT_PRIMED = "/tc/primed"


@dataclass(frozen=True)
class Command:
    """A validated incoming instruction. `style` is a name or an index, resolved by the engine."""

    name: str
    args: tuple = ()
    sender: tuple[str, int] | None = None


@dataclass(frozen=True)
class Rejected:
    reason: str
    address: str = ""


# ---------------------------------------------------------------------------------------------
# Incoming table: address -> (command name, argument checker). Checkers get the raw argument
# tuple and return the validated tuple, or raise ValueError with a human-readable reason.

def _finite(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"expected a number, got {type(v).__name__}")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError("value is NaN or infinite")
    return f


def _in_range(v: Any, lo: float, hi: float, what: str) -> float:
    f = _finite(v)
    if not lo <= f <= hi:
        raise ValueError(f"{what} {f:g} outside [{lo:g}, {hi:g}]")
    return f


def _count(args: tuple, n: int) -> None:
    if len(args) != n:
        raise ValueError(f"expected {n} argument(s), got {len(args)}")


def _style_ref(v: Any) -> str | int:
    if isinstance(v, bool):
        raise ValueError("style must be a name or an index")
    if isinstance(v, int):
        if not 0 <= v < MAX_STYLES:
            raise ValueError(f"style index {v} out of range")
        return v
    if isinstance(v, str) and 0 < len(v) <= 64:
        return v
    raise ValueError("style must be a name or an index")


def _weights(args: tuple) -> tuple:
    if not 1 <= len(args) <= MAX_STYLES:
        raise ValueError(f"expected 1..{MAX_STYLES} weights, got {len(args)}")
    return tuple(_in_range(v, 0.0, 1.0, "weight") for v in args)


def _one_weight(args: tuple) -> tuple:
    _count(args, 2)
    return _style_ref(args[0]), _in_range(args[1], 0.0, 1.0, "weight")


def _enable(args: tuple) -> tuple:
    _count(args, 2)
    flag = args[1]
    if isinstance(flag, bool):
        flag = int(flag)
    if flag not in (0, 1, 0.0, 1.0):
        raise ValueError("enable flag must be 0 or 1")
    return _style_ref(args[0]), bool(flag)


def _number(lo: float, hi: float, what: str):
    def check(args: tuple) -> tuple:
        _count(args, 1)
        return (_in_range(args[0], lo, hi, what),)
    return check


def _mix(args: tuple) -> tuple:
    _count(args, 1)
    v = args[0]
    if isinstance(v, str) and v in MIX_MODES:
        return (v,)
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v in (0, 1):
        return (MIX_MODES[int(v)],)
    raise ValueError(f"mix must be one of {MIX_MODES} or 0/1")


def _none(args: tuple) -> tuple:
    # TouchOSC buttons send 1.0 on press and 0.0 on release: accept one numeric argument, act on press.
    if len(args) == 1 and isinstance(args[0], (int, float)) and not isinstance(args[0], bool):
        if not math.isfinite(args[0]):
            raise ValueError("value is NaN or infinite")
        return ("release",) if args[0] == 0 else ()
    _count(args, 0)
    return ()


def _prime(args: tuple) -> tuple:
    _count(args, 1)
    if not isinstance(args[0], str):
        raise ValueError("prime text must be a string")
    if not 0 < len(args[0]) <= MAX_PRIME_CHARS:
        raise ValueError(f"prime text must be 1..{MAX_PRIME_CHARS} characters")
    return (args[0],)


def _subscribe(args: tuple) -> tuple:
    """(port) -> reply to the sender's host; (host, port) -> explicit host."""
    if len(args) == 1:
        host, port = None, args[0]
    elif len(args) == 2 and isinstance(args[0], str):
        host, port = args
    else:
        raise ValueError("expected (port) or (host, port)")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError("port must be an integer 1..65535")
    if host is not None and not 0 < len(host) <= 253:
        raise ValueError("bad host")
    return host, port


def _seed(args: tuple) -> tuple:
    _count(args, 1)
    if isinstance(args[0], bool) or not isinstance(args[0], int) or args[0] < 0:
        raise ValueError("seed must be a non-negative integer")
    return (args[0],)


INCOMING: dict[str, tuple[str, Any]] = {
    "/tc/weights": ("weights", _weights),
    "/wek/outputs": ("weights", _weights),
    "/tc/weight": ("weight", _one_weight),
    "/tc/enable": ("enable", _enable),
    "/tc/temperature": ("temperature", _number(*TEMPERATURE_RANGE, "temperature")),
    "/tc/rate": ("rate", _number(*RATE_RANGE, "rate")),
    "/tc/mix": ("mix", _mix),
    "/tc/threshold": ("threshold", _number(*THRESHOLD_RANGE, "threshold")),
    "/tc/top_p": ("top_p", _number(*TOP_P_RANGE, "top_p")),
    "/tc/pause": ("pause", _none),
    "/tc/resume": ("resume", _none),
    "/tc/reset": ("reset", _none),
    "/tc/prime": ("prime", _prime),
    "/tc/seed": ("seed", _seed),
    "/tc/subscribe": ("subscribe", _subscribe),
    "/tc/unsubscribe": ("unsubscribe", _subscribe),
    "/tc/ping": ("ping", _none),
}
STYLE_PREFIX = "/style/"  # TouchOSC-style /style/<name> f  (one fader per style)


def _read_string(data: bytes, i: int) -> tuple[str, int]:
    end = data.find(b"\x00", i)
    if end < 0:
        raise ValueError("unterminated string")
    nxt = (end + 4) & ~3
    if nxt > len(data):
        raise ValueError("string padding runs past the end")
    try:
        return data[i:end].decode("utf-8"), nxt
    except UnicodeDecodeError:
        raise ValueError("string is not UTF-8") from None


_FIXED = {"i": (">i", 4), "f": (">f", 4), "d": (">d", 8), "h": (">q", 8), "t": (">Q", 8), "c": (">I", 4),
          "r": (">I", 4)}
_CONST = {"T": True, "F": False, "N": None, "I": math.inf}


def decode_message(data: bytes) -> tuple[str, tuple]:
    """Strict OSC 1.0 message decoding: every byte accounted for, or ValueError.

    python-osc's parser pads a truncated argument with zeros (so "/tc/rate" with its float cut off
    reads as rate 0.0) and logs a warning per bad packet on the root logger; an engine on stage
    must neither act on half a message nor flood its log, so incoming packets are decoded here.
    """
    if not data.startswith(b"/"):
        raise ValueError("not an OSC message")
    address, i = _read_string(data, 0)
    if i == len(data):
        return address, ()  # OSC 1.0 allows a message without a type tag string
    if data[i:i + 1] != b",":
        raise ValueError("missing type tags")
    tags, i = _read_string(data, i)
    args: list[Any] = []
    for tag in tags[1:]:
        if tag in _FIXED:
            fmt, n = _FIXED[tag]
            if i + n > len(data):
                raise ValueError("argument data runs past the end")
            args.append(struct.unpack_from(fmt, data, i)[0])
            i += n
        elif tag in ("s", "S"):
            value, i = _read_string(data, i)
            args.append(value)
        elif tag == "b":
            if i + 4 > len(data):
                raise ValueError("blob size runs past the end")
            n = struct.unpack_from(">i", data, i)[0]
            end = i + 4 + n
            if n < 0 or end > len(data):
                raise ValueError("blob runs past the end")
            args.append(data[i + 4:end])
            i = (end + 3) & ~3
        elif tag in _CONST:
            args.append(_CONST[tag])
        else:
            raise ValueError(f"unsupported type tag {tag!r}")
    if i != len(data):
        raise ValueError("trailing bytes after the arguments")
    return address, tuple(args)


def parse_message(address: str, args: tuple, sender: tuple[str, int] | None = None) -> Command | Rejected:
    if any(ch in address for ch in "*?[]{}"):
        return Rejected("OSC wildcards are not accepted", address[:64])
    try:
        if address.startswith(STYLE_PREFIX):
            name = address[len(STYLE_PREFIX):]
            _count(args, 1)
            return Command("weight", (_style_ref(name), _in_range(args[0], 0.0, 1.0, "weight")), sender)
        entry = INCOMING.get(address)
        if entry is None:
            return Rejected("unknown address", address[:64])
        name, check = entry
        checked = check(args)
        if checked == ("release",):
            return Rejected("button release ignored", address)  # not an error: see is_error()
        return Command(name, checked, sender)
    except ValueError as e:
        return Rejected(str(e), address[:64])


def is_error(r: Rejected) -> bool:
    return r.reason != "button release ignored"


def parse_packet(data: bytes, sender: tuple[str, int] | None = None) -> list[Command | Rejected]:
    """Every message in a datagram (bundles flattened, timetags ignored: we never wait)."""
    if not data:
        return [Rejected("empty packet")]
    if len(data) % 4:
        return [Rejected("packet length is not a multiple of 4")]
    out: list[Command | Rejected] = []
    _parse_element(data, sender, out, 0)
    return out


def _parse_element(data: bytes, sender, out: list, depth: int) -> None:
    if data.startswith(b"#bundle\x00"):
        if depth >= MAX_BUNDLE_DEPTH:
            out.append(Rejected("bundle nested too deep"))
            return
        i, before = 16, len(out)
        if len(data) < i:
            out.append(Rejected("malformed bundle (no time tag)"))
            return
        while i < len(data):
            if i + 4 > len(data):
                out.append(Rejected("malformed bundle (element size runs past the end)"))
                return
            n = struct.unpack_from(">i", data, i)[0]
            if n <= 0 or n % 4 or i + 4 + n > len(data):
                out.append(Rejected("malformed bundle (bad element size)"))
                return
            _parse_element(data[i + 4:i + 4 + n], sender, out, depth + 1)
            i += 4 + n
        if len(out) == before:
            out.append(Rejected("empty bundle"))
        return
    try:
        address, args = decode_message(data)
    except ValueError as e:
        out.append(Rejected(f"malformed message ({e})" if data.startswith(b"/") else "not an OSC message or bundle"))
        return
    out.append(parse_message(address, args, sender))


# ---------------------------------------------------------------------------------------------
# Building messages (both directions).

def message(address: str, *args: Any) -> bytes:
    b = OscMessageBuilder(address)
    for a in args:
        if isinstance(a, (bytes, bytearray)):
            b.add_arg(bytes(a), OscMessageBuilder.ARG_TYPE_BLOB)
        elif isinstance(a, bool):
            b.add_arg(int(a), OscMessageBuilder.ARG_TYPE_INT)
        elif isinstance(a, int):
            b.add_arg(a, OscMessageBuilder.ARG_TYPE_INT)
        elif isinstance(a, float):
            b.add_arg(a, OscMessageBuilder.ARG_TYPE_FLOAT)
        else:
            b.add_arg(str(a), OscMessageBuilder.ARG_TYPE_STRING)
    return b.build().dgram


def bundle(*messages: bytes) -> bytes:
    b = OscBundleBuilder(IMMEDIATELY)
    for m in messages:
        b.add_content(OscMessage(m))
    return b.build().dgram


def f32_blob(values: np.ndarray) -> bytes:
    """Little-endian float32, the documented encoding of every distribution and weight vector."""
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


def i32_blob(values) -> bytes:
    return np.ascontiguousarray(values, dtype="<i4").tobytes()


def blob_f32(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def blob_i32(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<i4")


@dataclass
class Tick:
    """One generated character with everything that explains it (engine -> subscribers)."""

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
    temperature: float = 0.8
    rate: float = 15.0
    mix: str = "linear"
    threshold: float = 0.05
    top_p: float = 1.0
    seed: int = 0

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


def rejected_counts_message(counts: dict[str, int]) -> bytes:
    """/tc/rejected s reason, i count, ... (the totals since start, per reason)."""
    args: list[Any] = []
    for reason, n in sorted(counts.items()):
        args += [reason, int(n)]
    return message(OUT_REJECTED, *args)

