"""Into the engine: the command table, its argument checks, and `parse_packet`.

`parse_packet` turns a datagram into `Command`s and never raises: anything malformed (bad bytes,
wrong types or counts, out-of-range or non-finite values, unknown addresses, OSC wildcards)
becomes a `Rejected` with a short reason, so the engine can count and log it. docs/osc.md
documents the same table for people; tests/protocol/test_commands.py keeps the two in step.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textconductor.protocol.wire import Message, Rejected, unpack

MAX_PRIME_CHARS = 2000
MAX_STYLES = 256

MIX_MODES = ("linear", "product")
TEMPERATURE_RANGE = (0.05, 5.0)
RATE_RANGE = (0.0, 1000.0)  # chars/s; 0 means as fast as possible
THRESHOLD_RANGE = (0.0, 0.5)
TOP_P_RANGE = (0.01, 1.0)
GUARD_STRENGTH_RANGE = (0.0, 1.0)
MAX_ADVANCE = 64  # characters one /tc/advance may ask for (an external clock's beat, not a flood)

STYLE_PREFIX = "/style/"  # TouchOSC-style /style/<name> f  (one fader per style)
WILDCARDS = "*?[]{}"
# A TouchOSC button sends 1 on press and 0 on release; the release is not an error (see is_error).
BUTTON_RELEASE = "button release ignored"


@dataclass(frozen=True)
class Command:
    """A validated incoming instruction. `style` is a name or an index, resolved by the engine."""

    name: str
    args: tuple = ()
    sender: tuple[str, int] | None = None


# ---------------------------------------------------------------------------------------------
# Argument checkers: each gets the raw argument tuple and returns the validated tuple, or raises
# ValueError with a reason that is a fixed phrase plus, at most, the limits it broke.

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


def _number(lo: float, hi: float, what: str) -> Callable[[tuple], tuple]:
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
    if args == (None,):  # ,N: a momentary button of an OSCQuery client (protocol/namespace.py says TYPE "N")
        return ()
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


def _flag(v: Any, what: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    raise ValueError(f"{what} must be 0 or 1")


def _guard(args: tuple) -> tuple:
    """(on) or (on, strength): the loop guard on or off, and how hard it steers (0..1)."""
    if len(args) not in (1, 2):
        raise ValueError("expected (on) or (on, strength)")
    on = _flag(args[0], "guard on/off")
    strength = _in_range(args[1], *GUARD_STRENGTH_RANGE, "guard strength") if len(args) == 2 else None
    return on, strength


def _mark_span(args: tuple) -> tuple:
    """/tc/keep, /tc/reject: none (or a button's 1) for the passage since the last mark or paragraph
    break; (start, end) for the ticks [start, end), whole numbers (floats from TouchOSC-like senders)."""
    if len(args) > 2:
        raise ValueError("expected none, a button's value, or (start, end)")
    if len(args) != 2:
        return _none(args)
    ticks = []
    for v in args:
        f = _finite(v)
        if f != int(f) or not 0 <= f < 2 ** 62:
            raise ValueError("mark span ticks must be whole numbers >= 0")
        ticks.append(int(f))
    if ticks[0] >= ticks[1]:
        raise ValueError("mark span must have start < end")
    return tuple(ticks)


def _seed(args: tuple) -> tuple:
    _count(args, 1)
    if isinstance(args[0], bool) or not isinstance(args[0], int) or args[0] < 0:
        raise ValueError("seed must be a non-negative integer")
    return (args[0],)


CROWD_MODES = ("off", "blend", "crowd")  # how much the audience counts (docs/osc.md, /tc/crowd_mode)
MAX_CROWD_POINTS = 200  # phone positions relayed for the window's crowd cloud


def _crowd_mode(args: tuple) -> tuple:
    """(mode) or (mode, blend): mode a name of CROWD_MODES or its index 0..2; blend 0..1 (None: unchanged)."""
    if len(args) not in (1, 2):
        raise ValueError("expected (mode) or (mode, blend)")
    v = args[0]
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v in (0, 1, 2):
        v = CROWD_MODES[int(v)]
    if v not in CROWD_MODES:
        raise ValueError(f"crowd mode must be one of {CROWD_MODES} or 0..2")
    return v, (_in_range(args[1], 0.0, 1.0, "crowd blend") if len(args) == 2 else None)


def _crowd_points(args: tuple) -> tuple:
    """(phones, connected[, blob of float32 x, y pairs]): relayed to subscribers, never applied.
    No blob: no points (OSC has no empty blob)."""
    if len(args) not in (2, 3):
        raise ValueError("expected (phones, connected) or (phones, connected, points)")
    phones, connected, blob = args if len(args) == 3 else (*args, b"")
    for v in (phones, connected):
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1_000_000:
            raise ValueError("phone counts must be integers 0..1000000")
    if not isinstance(blob, bytes) or len(blob) % 8 or len(blob) > 8 * MAX_CROWD_POINTS:
        raise ValueError(f"points must be a blob of up to {MAX_CROWD_POINTS} float32 pairs")
    return phones, connected, blob


# A style the engine may load from its styles folder: a bare name, never a path (no slash, no dot).
STYLE_FILE_NAME = re.compile(r"[a-z0-9_-]{1,64}")


def _load(args: tuple) -> tuple:
    """(name) or (name, weight): load or reload a style from the engine's styles folder."""
    if len(args) not in (1, 2):
        raise ValueError("expected (name) or (name, weight)")
    if not isinstance(args[0], str) or not STYLE_FILE_NAME.fullmatch(args[0]):
        raise ValueError("style file name must match [a-z0-9_-]{1,64} (a name, not a path)")
    weight = _in_range(args[1], 0.0, 1.0, "weight") if len(args) == 2 else 0.0
    return args[0], weight


def _advance(args: tuple) -> tuple:
    """() -> 1 character; (n) -> n characters now (0 only holds the engine's own clock); floats with
    an integral value pass (Max and TouchOSC send floats)."""
    if not args:
        return (1,)
    _count(args, 1)
    n = _finite(args[0])
    if n != int(n) or not 0 <= n <= MAX_ADVANCE:
        raise ValueError(f"advance must be a whole number 0..{MAX_ADVANCE}")
    return (int(n),)


# Address -> (command name, argument checker).
INCOMING: dict[str, tuple[str, Callable[[tuple], tuple]]] = {
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
    "/tc/guard": ("guard", _guard),
    "/tc/subscribe": ("subscribe", _subscribe),
    "/tc/unsubscribe": ("unsubscribe", _subscribe),
    "/tc/ping": ("ping", _none),
    "/tc/crowd": ("crowd", _weights),
    "/tc/crowd_mode": ("crowd_mode", _crowd_mode),
    "/tc/crowd_points": ("crowd_points", _crowd_points),
    "/tc/advance": ("advance", _advance),
    "/tc/load": ("load", _load),
    "/tc/keep": ("keep", _mark_span),
    "/tc/reject": ("reject", _mark_span),
}
# The address each command is sent to (the first in the table wins: /tc/weights, not /wek/outputs).
ADDRESS: dict[str, str] = {name: address for address, (name, _) in reversed(INCOMING.items())}


def parse_message(address: str, args: tuple, sender: tuple[str, int] | None = None) -> Command | Rejected:
    """One decoded message through the table; never raises."""
    if any(ch in address for ch in WILDCARDS):
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
            return Rejected(BUTTON_RELEASE, address)  # not an error: see is_error()
        return Command(name, checked, sender)
    except ValueError as e:
        return Rejected(str(e), address[:64])


def is_error(r: Rejected) -> bool:
    """False for what is rejected on purpose but is no fault of the sender (a button's release)."""
    return r.reason != BUTTON_RELEASE


def parse_packet(data: bytes, sender: tuple[str, int] | None = None) -> list[Command | Rejected]:
    """Every message in a datagram (bundles flattened, timetags ignored: we never wait)."""
    return [parse_message(m.address, m.args, sender) if isinstance(m, Message) else m for m in unpack(data)]
