"""The strict decoder and the bundle walker on hand-written bytes (python-osc's test_osc_message.py style).

Every literal is spelled out so a reader can check it against the OSC 1.0 spec: strings end in a
NUL and are padded to 4 bytes, numbers are big-endian, a blob is an int32 size, its bytes, padding.
Each rejection reason the walker and the decoder can give appears at least once (the engine
publishes the reasons in /tc/rejected, so they are wire data too).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from textconductor.protocol import wire
from textconductor.protocol.wire import Message, Rejected, decode_message, unpack

# -- well-formed messages: (datagram, address, args) --------------------------------------------
DGRAM_RATE = b"/tc/rate\x00\x00\x00\x00,f\x00\x00A\xa0\x00\x00"  # 20.0
DGRAM_NO_TYPE_TAGS = b"/tc/ping\x00\x00\x00\x00"  # OSC 1.0 allows a message without type tags
DGRAM_EMPTY_TAGS = b"/tc/ping\x00\x00\x00\x00,\x00\x00\x00"
DGRAM_WEIGHT = b"/tc/weight\x00\x00,sf\x00bible\x00\x00\x00?@\x00\x00"  # "bible", 0.75
DGRAM_BLOB = b"/b\x00\x00,b\x00\x00\x00\x00\x00\x05abcde\x00\x00\x00"  # 5 bytes + 3 padding
DGRAM_EMPTY_BLOB = b"/b\x00\x00,b\x00\x00\x00\x00\x00\x00"
DGRAM_EVERY_TYPE = (
    b"/all\x00\x00\x00\x00"
    b",ifdhtcrsSTFNI\x00\x00"
    b"\xff\xff\xff\xfe"  # i -2
    b"?\x80\x00\x00"  # f 1.0
    b"@\x04\x00\x00\x00\x00\x00\x00"  # d 2.5
    b"\x00\x00\x00\x01\x00\x00\x00\x00"  # h 2**32
    b"\x00\x00\x00\x00\x00\x00\x00\x01"  # t 1 (immediately)
    b"\x00\x00\x00a"  # c 97 (kept as its code)
    b"\x01\x02\x03\x04"  # r 0x01020304
    b"s\x00\x00\x00"  # s "s"
    b"sym\x00"  # S "sym"
)
DGRAM_UTF8 = b"/tc/prime\x00\x00\x00,s\x00\x00\xc3\xa9t\xc3\xa9\x00\x00\x00"  # "été"

WELL_FORMED = [
    (DGRAM_RATE, "/tc/rate", (20.0,)),
    (DGRAM_NO_TYPE_TAGS, "/tc/ping", ()),
    (DGRAM_EMPTY_TAGS, "/tc/ping", ()),
    (DGRAM_WEIGHT, "/tc/weight", ("bible", 0.75)),
    (DGRAM_BLOB, "/b", (b"abcde",)),
    (DGRAM_EMPTY_BLOB, "/b", (b"",)),
    (DGRAM_EVERY_TYPE, "/all", (-2, 1.0, 2.5, 2 ** 32, 1, 97, 0x01020304, "s", "sym", True, False, None, math.inf)),
    (DGRAM_UTF8, "/tc/prime", ("été",)),
]


@pytest.mark.parametrize(("dgram", "address", "args"), WELL_FORMED)
def test_decode_well_formed(dgram, address, args):
    assert decode_message(dgram) == (address, args)
    assert unpack(dgram) == [Message(address, args)]


@pytest.mark.parametrize(("dgram", "address", "args"), [w for w in WELL_FORMED if w[0] is not DGRAM_EVERY_TYPE])
def test_encoding_gives_the_same_bytes(dgram, address, args):
    """Our encoder writes what the decoder reads (for the types it writes: i, f, s, b)."""
    if dgram == DGRAM_NO_TYPE_TAGS:
        pytest.skip("the encoder always writes a type tag string")
    assert wire.message(address, *args) == dgram


# -- malformed messages: (datagram, the reason decode_message gives) -----------------------------
MALFORMED = [
    (b"tc/rate\x00,f\x00\x00A\xa0\x00\x00", "not an OSC message"),
    (b"/tc/rate", "unterminated string"),  # the address never ends
    (b"/tc/rate\x00\x00\x00\x00,f", "unterminated string"),  # nor do the type tags
    (b"/a\x00", "string padding runs past the end"),  # only reachable on an unaligned buffer
    (b"/\xff\xfe\x00", "string is not UTF-8"),
    (b"/tc/rate\x00\x00\x00\x00A\xa0\x00\x00", "missing type tags"),
    (b"/tc/rate\x00\x00\x00\x00,f\x00\x00", "argument data runs past the end"),  # truncated float
    (b"/x\x00\x00,d\x00\x00?\x80\x00\x00", "argument data runs past the end"),  # half a double
    (b"/x\x00\x00,s\x00\x00abcd", "unterminated string"),  # truncated string argument
    (b"/x\x00\x00,b\x00\x00", "blob size runs past the end"),
    (b"/x\x00\x00,b\x00\x00\x00\x00", "blob size runs past the end"),  # 2 of the 4 size bytes
    (b"/x\x00\x00,b\x00\x00\x00\x00\x00\x08abcd", "blob runs past the end"),  # truncated blob
    (b"/x\x00\x00,b\x00\x00\x7f\xff\xff\xffabcd", "blob runs past the end"),  # oversized: 2 GiB claimed
    (b"/x\x00\x00,b\x00\x00\xff\xff\xff\xfcabcd", "blob runs past the end"),  # negative size
    (b"/x\x00\x00,m\x00\x00\x90<\x7f\x00", "unsupported type tag 'm'"),  # MIDI is not supported
    (b"/tc/rate\x00\x00\x00\x00,f\x00\x00A\xa0\x00\x00\x00\x00\x00\x00", "trailing bytes after the arguments"),
    (b"/x\x00\x00,\x00\x00\x00junk", "trailing bytes after the arguments"),
]


@pytest.mark.parametrize(("dgram", "reason"), MALFORMED)
def test_decode_malformed(dgram, reason):
    with pytest.raises(ValueError) as e:
        decode_message(dgram)
    assert str(e.value) == reason


@pytest.mark.parametrize(("dgram", "reason"), [m for m in MALFORMED if len(m[0]) % 4 == 0])
def test_unpack_reports_malformed_messages_without_raising(dgram, reason):
    expected = "not an OSC message or bundle" if not dgram.startswith(b"/") else f"malformed message ({reason})"
    assert unpack(dgram) == [Rejected(expected)]


# -- packets and bundles --------------------------------------------------------------------------
TIMETAG = b"\x00\x00\x00\x00\x00\x00\x00\x01"
PING = b"/tc/ping\x00\x00\x00\x00,\x00\x00\x00"  # 16 bytes


def element(content: bytes) -> bytes:
    return len(content).to_bytes(4, "big", signed=True) + content


def bndl(*elements: bytes) -> bytes:
    return b"#bundle\x00" + TIMETAG + b"".join(element(e) for e in elements)


def nested(depth: int) -> bytes:
    """A ping inside `depth` bundles."""
    out = PING
    for _ in range(depth):
        out = bndl(out)
    return out


def test_bundle_literal_is_what_the_encoder_writes():
    assert bndl(PING, DGRAM_RATE) == (
        b"#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"
        b"\x00\x00\x00\x10/tc/ping\x00\x00\x00\x00,\x00\x00\x00"
        b"\x00\x00\x00\x14/tc/rate\x00\x00\x00\x00,f\x00\x00A\xa0\x00\x00")
    assert wire.bundle(PING, DGRAM_RATE) == bndl(PING, DGRAM_RATE)


def test_bundle_is_flattened_in_order():
    assert unpack(bndl(PING, bndl(DGRAM_RATE, DGRAM_WEIGHT), DGRAM_BLOB)) == [
        Message("/tc/ping", ()), Message("/tc/rate", (20.0,)), Message("/tc/weight", ("bible", 0.75)),
        Message("/b", (b"abcde",))]


def test_nesting_up_to_the_limit_is_accepted():
    assert unpack(nested(wire.MAX_BUNDLE_DEPTH)) == [Message("/tc/ping", ())]


def test_good_parts_of_a_bundle_survive_a_bad_one():
    got = unpack(bndl(DGRAM_RATE, b"/tc/rate\x00\x00\x00\x00,f\x00\x00", PING))
    assert got == [Message("/tc/rate", (20.0,)), Rejected("malformed message (argument data runs past the end)"),
                   Message("/tc/ping", ())]


PACKETS = [
    (b"", "empty packet"),
    (b"/tc", "packet length is not a multiple of 4"),
    (DGRAM_RATE + b"\x00", "packet length is not a multiple of 4"),
    (b"\x00\x00\x00\x00", "not an OSC message or bundle"),
    (b"abcd", "not an OSC message or bundle"),
    (nested(wire.MAX_BUNDLE_DEPTH + 1), "bundle nested too deep"),
    (b"#bundle\x00", "malformed bundle (no time tag)"),
    (b"#bundle\x00\x00\x00\x00\x00", "malformed bundle (no time tag)"),
    (b"#bundle\x00" + TIMETAG, "empty bundle"),
    (bndl(b"#bundle\x00" + TIMETAG), "empty bundle"),  # an empty bundle inside a bundle
    (b"#bundle\x00" + TIMETAG + b"\x00\x00\x00\x00", "malformed bundle (bad element size)"),  # size 0
    (b"#bundle\x00" + TIMETAG + b"\xff\xff\xff\xf4" + PING, "malformed bundle (bad element size)"),  # negative
    (b"#bundle\x00" + TIMETAG + b"\x00\x00\x00\x0e" + PING[:12], "malformed bundle (bad element size)"),  # not x4
    (b"#bundle\x00" + TIMETAG + b"\x00\x00\x00\x14" + PING, "malformed bundle (bad element size)"),  # oversized
    (b"#bundle\x00" + TIMETAG + b"\x7f\xff\xff\xfc" + PING, "malformed bundle (bad element size)"),  # 2 GiB claimed
    (b"#bundle\x00" + TIMETAG + b"\x00\x00\x00\x04abcd", "not an OSC message or bundle"),
]


@pytest.mark.parametrize(("dgram", "reason"), PACKETS)
def test_packet_rejections(dgram, reason):
    assert unpack(dgram) == [Rejected(reason)]


def test_bad_element_size_keeps_what_came_before():
    assert unpack(bndl(PING) + b"\x00\x00\x00\x40" + PING) == [
        Message("/tc/ping", ()), Rejected("malformed bundle (bad element size)")]


def test_unpack_messages_skips_damage():
    assert wire.unpack_messages(bndl(PING, b"abcd", DGRAM_RATE)) == [Message("/tc/ping", ()),
                                                                      Message("/tc/rate", (20.0,))]
    assert wire.unpack_messages(b"") == []


def test_message_is_a_tuple():
    address, args = unpack(DGRAM_RATE)[0]
    assert (address, args) == ("/tc/rate", (20.0,)) == unpack(DGRAM_RATE)[0]


# -- encoding ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "dgram"), [
    ((True,), b"/x\x00\x00,i\x00\x00\x00\x00\x00\x01"),  # bool -> int32
    ((False,), b"/x\x00\x00,i\x00\x00\x00\x00\x00\x00"),
    ((7,), b"/x\x00\x00,i\x00\x00\x00\x00\x00\x07"),
    ((0.5,), b"/x\x00\x00,f\x00\x00?\x00\x00\x00"),  # float -> float32
    (("ab",), b"/x\x00\x00,s\x00\x00ab\x00\x00"),
    ((bytearray(b"\x01"),), b"/x\x00\x00,b\x00\x00\x00\x00\x00\x01\x01\x00\x00\x00"),
    ((None,), b"/x\x00\x00,s\x00\x00None\x00\x00\x00\x00"),  # anything else -> its text
    ((), b"/x\x00\x00,\x00\x00\x00"),
])
def test_message_encoding(args, dgram):
    assert wire.message("/x", *args) == dgram


def test_blobs_are_little_endian():
    assert wire.f32_blob(np.array([1.0, 0.5])) == b"\x00\x00\x80?\x00\x00\x00?"
    assert wire.i32_blob([1, -1]) == b"\x01\x00\x00\x00\xff\xff\xff\xff"
    assert wire.blob_f32(b"\x00\x00\x80?\x00\x00\x00?").tolist() == [1.0, 0.5]
    assert wire.blob_i32(b"\x01\x00\x00\x00\xff\xff\xff\xff").tolist() == [1, -1]
    assert wire.blob_f32(b"").size == 0
