"""The protocol layer: the only thing the engine, the window and the controllers share.

It imports numpy and the foundation modules, never torch or Qt (tests/test_layering.py),
so every process can load it cheaply. One concern per module:

* `wire`: the strict OSC decoder, the one bundle walker (`unpack`), encoding, blobs;
* `commands`: into the engine: the command table, its checks, `parse_packet`;
* `messages`: out of the engine: `Tick`, `Status`, `Params`, `Hello`, ... each with encode and decode;
* `address`: the default address, HOST:PORT text, allow-lists;
* `ratelimit`: counting events and logging a few lines about them;
* `controls`: the control vocabulary every player speaks (`CONTROLS`, `ControlSink`);
* `client`: the Qt-free engine client (`EngineClient`, and `EngineConnection` on a UDP socket);
* `charset` (what a distribution index means), `puck_geometry` (the puck's weight law),
  `defaults` (runtime defaults).

docs/osc.md documents the wire for people; tests/protocol keeps the two in step. The names in
`__all__` are re-exported so `from textconductor import protocol; protocol.message(...)` reads as
before. They load lazily, each from the first module in `_MODULES` that has it: a command line
that only wants `DEFAULT_PORT` must not pay for numpy (`textconductor --help` stays instant).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the lazy loader below resolves, spelled out for readers and type checkers
    from textconductor.protocol.address import (
        DEFAULT_HOST,
        DEFAULT_PORT,
        AllowList,
        AllowListError,
        is_loopback,
        parse_address,
        resolve_allow_list,
    )
    from textconductor.protocol.client import EngineClient, EngineConnection
    from textconductor.protocol.commands import (
        ADDRESS,
        BUTTON_RELEASE,
        GUARD_STRENGTH_RANGE,
        INCOMING,
        MAX_PRIME_CHARS,
        MAX_STYLES,
        MIX_MODES,
        RATE_RANGE,
        STYLE_PREFIX,
        TEMPERATURE_RANGE,
        THRESHOLD_RANGE,
        TOP_P_RANGE,
        Command,
        is_error,
        parse_message,
        parse_packet,
    )
    from textconductor.protocol.controls import CONTROLS, ControlSink
    from textconductor.protocol.messages import (
        GUARDS_FIELDS,
        OUT_GUARDED,
        OUT_GUARDS,
        OUT_HELLO,
        OUT_PARAMS,
        OUT_PRIMED,
        OUT_REJECTED,
        OUT_STATUS,
        OUT_STYLES,
        OUT_TICK,
        OUTGOING,
        PARAM_FIELDS,
        STATUS_FIELDS,
        CrowdPoints,
        CrowdState,
        Guarded,
        Guards,
        Hello,
        Output,
        Params,
        Primed,
        RejectedCounts,
        Status,
        Tick,
        decode_output,
        rejected_counts_message,
    )
    from textconductor.protocol.ratelimit import FailureLog, RateLimitedLog
    from textconductor.protocol.wire import (
        MAX_BUNDLE_DEPTH,
        MAX_PACKET,
        Message,
        Rejected,
        blob_f32,
        blob_i32,
        bundle,
        decode_message,
        f32_blob,
        i32_blob,
        message,
        unpack,
        unpack_messages,
    )

__all__ = [
    "ADDRESS", "BUTTON_RELEASE", "CONTROLS", "DEFAULT_HOST", "DEFAULT_PORT", "GUARDS_FIELDS", "GUARD_STRENGTH_RANGE",
    "INCOMING", "MAX_BUNDLE_DEPTH", "MAX_PACKET", "MAX_PRIME_CHARS", "MAX_STYLES", "MIX_MODES", "OUTGOING",
    "OUT_GUARDED", "OUT_GUARDS", "OUT_HELLO", "OUT_PARAMS", "OUT_PRIMED",
    "OUT_REJECTED", "OUT_STATUS", "OUT_STYLES", "OUT_TICK", "PARAM_FIELDS", "RATE_RANGE", "STATUS_FIELDS",
    "STYLE_PREFIX", "TEMPERATURE_RANGE", "THRESHOLD_RANGE", "TOP_P_RANGE",
    "AllowList", "AllowListError", "Command", "ControlSink", "CrowdPoints", "CrowdState", "EngineClient",
    "EngineConnection", "FailureLog",
    "Guarded", "Guards", "Hello",
    "Message", "Output", "Params", "Primed", "RateLimitedLog", "Rejected", "RejectedCounts", "Status", "Tick",
    "blob_f32", "blob_i32", "bundle", "decode_message", "decode_output", "f32_blob", "i32_blob", "is_error",
    "is_loopback", "message", "parse_address", "parse_message", "parse_packet", "rejected_counts_message",
    "resolve_allow_list", "unpack", "unpack_messages",
]

# Cheapest first: address and ratelimit need no numpy.
_MODULES = ("address", "ratelimit", "wire", "commands", "messages", "controls", "client")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for module in _MODULES:
            mod = importlib.import_module(f"{__name__}.{module}")
            if hasattr(mod, name):
                value = getattr(mod, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
