"""OSC 1.0 on the wire: the one strict decoder, the one bundle walker, encoding, and blobs.

Both directions go through here. The engine walks incoming datagrams with `unpack` before its
command table sees them (`commands.parse_packet`); the window, `OscSink`, the osc-bridge, the
examples and the test fakes walk the engine's output with the same `unpack`, so a bundle is
flattened, limited in depth and checked element by element in exactly one place.

Why our own decoder: python-osc's parser pads a truncated argument with zeros (so `/tc/rate` with
its float cut off reads as rate 0.0) and logs a warning per bad packet on the root logger. An
engine on stage must neither act on half a message nor flood its log. Encoding is ours too, a
few lines of `struct`: python-osc's builder refuses the empty blob that OSC 1.0 allows (a tick
with no active style, a hello from an empty bank) and costs 150-230 us for a 100-float message.
The bytes are the documented wire format, pinned in tests/protocol/test_bytes.py.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

MAX_PACKET = 65507  # the largest UDP payload over IPv4: a receive buffer of this size never truncates
MAX_BUNDLE_DEPTH = 4  # nesting beyond this is an attack or a bug, never a real controller
BUNDLE_TAG = b"#bundle\x00"
_BUNDLE_HEADER = 16  # "#bundle\0" + an 8-byte time tag
IMMEDIATELY = 1  # the OSC time tag that means "now"


class Message(NamedTuple):
    """One decoded OSC message. A tuple, so `address, args = m` reads it."""

    address: str
    args: tuple


@dataclass(frozen=True)
class Rejected:
    """Why a datagram, or one part of it, was not accepted.

    The reason is a short fixed phrase (never the offending value) because the engine counts
    rejections per reason and publishes those counts in `/tc/rejected`: the phrases are wire data.
    """

    reason: str
    address: str = ""


# ---------------------------------------------------------------------------------------------
# Decoding

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
    """Strict OSC 1.0 message decoding: every byte accounted for, or ValueError with the reason."""
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


def unpack(data: bytes) -> list[Message | Rejected]:
    """Every message in a datagram, in order, bundles flattened; never raises.

    Time tags are ignored: nothing here ever waits. A part that cannot be decoded becomes a
    `Rejected` in its place, so a receiver can act on the good parts of a bundle and count the
    bad ones. The length checks come first because every OSC element is 4-byte aligned: a
    datagram that is not is damaged, whatever it starts with.
    """
    if not data:
        return [Rejected("empty packet")]
    if len(data) % 4:
        return [Rejected("packet length is not a multiple of 4")]
    out: list[Message | Rejected] = []
    _walk(data, out, 0)
    return out


def unpack_messages(data: bytes) -> list[Message]:
    """The well-formed messages of a datagram, in order: `unpack` for readers that only skip damage."""
    return [m for m in unpack(data) if isinstance(m, Message)]


def _walk(data: bytes, out: list[Message | Rejected], depth: int) -> None:
    if data.startswith(BUNDLE_TAG):
        if depth >= MAX_BUNDLE_DEPTH:
            out.append(Rejected("bundle nested too deep"))
            return
        i, before = _BUNDLE_HEADER, len(out)
        if len(data) < i:
            out.append(Rejected("malformed bundle (no time tag)"))
            return
        while i < len(data):
            # `unpack` admits only 4-aligned datagrams and every element size is checked to be a
            # multiple of 4, so 4 bytes of size always remain here.
            n = struct.unpack_from(">i", data, i)[0]
            if n <= 0 or n % 4 or i + 4 + n > len(data):
                out.append(Rejected("malformed bundle (bad element size)"))
                return
            _walk(data[i + 4:i + 4 + n], out, depth + 1)
            i += 4 + n
        if len(out) == before:
            out.append(Rejected("empty bundle"))
        return
    try:
        out.append(Message(*decode_message(data)))
    except ValueError as e:
        out.append(Rejected(f"malformed message ({e})" if data.startswith(b"/") else "not an OSC message or bundle"))


# ---------------------------------------------------------------------------------------------
# Encoding (both directions)

def _osc_string(text: str) -> bytes:
    """UTF-8, NUL-terminated, padded with NULs to a multiple of 4 (always at least one NUL)."""
    raw = text.encode("utf-8")
    if b"\x00" in raw:
        raise ValueError("an OSC string cannot hold NUL")
    return raw + b"\x00" * (4 - len(raw) % 4)


def message(address: str, *args: Any) -> bytes:
    """One OSC message: bytes -> blob, bool and int -> int32, float -> float32, anything else -> string.

    A blob may be empty (size 0, no data): OSC 1.0 allows it, and an empty vector is real data here.
    """
    tags = [","]
    data: list[bytes] = []
    for a in args:
        if isinstance(a, (bytes, bytearray)):
            tags.append("b")
            data.append(struct.pack(">i", len(a)) + bytes(a) + b"\x00" * (-len(a) % 4))
        elif isinstance(a, (bool, int)):
            tags.append("i")
            data.append(struct.pack(">i", int(a)))
        elif isinstance(a, float):
            tags.append("f")
            data.append(struct.pack(">f", a))
        else:
            tags.append("s")
            data.append(_osc_string(str(a)))
    return _osc_string(address) + _osc_string("".join(tags)) + b"".join(data)


def bundle(*messages: bytes) -> bytes:
    """Encoded messages in one bundle, time tag 'immediately': one datagram, applied together."""
    return BUNDLE_TAG + struct.pack(">Q", IMMEDIATELY) + b"".join(struct.pack(">i", len(m)) + m for m in messages)


# ---------------------------------------------------------------------------------------------
# Blobs: little-endian, the documented encoding of every distribution, weight and index vector.

def f32_blob(values: np.ndarray) -> bytes:
    """Little-endian float32, the documented encoding of every distribution and weight vector."""
    return np.ascontiguousarray(values, dtype="<f4").tobytes()


def i32_blob(values) -> bytes:
    return np.ascontiguousarray(values, dtype="<i4").tobytes()


def blob_f32(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def blob_i32(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<i4")
