"""The wire format, pinned: these bytes were produced by the encoders before the protocol was split.

Any change to them breaks every engine, frontend, controller and TouchOSC layout already out
there, so a failure here means "do not ship", never "update the literal". Each literal is also
decoded back, so the pins hold for both directions.
"""

from __future__ import annotations

import numpy as np

from textconductor import protocol
from textconductor.protocol import (
    Guarded,
    Guards,
    Hello,
    Params,
    Primed,
    RejectedCounts,
    Status,
    Tick,
    bundle,
    message,
)

TICK = (
    b"/tc/tick\x00\x00\x00\x00,isb"
    b"bbbb\x00\x00\x00\x00\x00\x00\x00\x07a\x00\x00\x00"
    b"\x00\x00\x00\x08\x00\x00\x80>\x00\x00@?\x00\x00\x00\x0c"
    b"\x00\x00\x00?\x00\x00\x00?\x00\x00\x00\x00\x00\x00\x00\x08"
    b"\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x18\x00\x00\x80?"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80?"
    b"\x00\x00\x00\x00\x00\x00\x00\x08\xcd\xcc\xcc>\x9a\x99\x19?"
)
STATUS = (
    b"/tc/status\x00\x00,iff"
    b"fiiii\x00\x00\x00\x00\x00\x00\x03Ah\x00\x00"
    b"?\x00\x00\x00?\xa0\x00\x00\x00\x00\x00\x02\x00\x00\x00\x01"
    b"\x00\x00\x00\x01\x00\x00\x00\x01"
)
PARAMS = (
    b"/tc/params\x00\x00,ffs"
    b"ffi\x00?L\xcc\xcdAp\x00\x00line"
    b"ar\x00\x00=L\xcc\xcd?\x80\x00\x00\x00\x00\x00\x00"
)
HELLO = (
    b"/tc/hello\x00\x00\x00,sbb"
    b"s\x00\x00\x00bible,linux\x00"
    b"\x00\x00\x00\x08\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08"
    b"\x00\x00\x00?\x00\x00\x80?In\x00\x00"
)
BUNDLE = (
    b"#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    b"\x00\x00\x00\x1c/tc/weight\x00\x00"
    b",sf\x00bible\x00\x00\x00>\x80\x00\x00"
    b"\x00\x00\x00\x10/tc/ping\x00\x00\x00\x00"
    b",\x00\x00\x00"
)
REJECTED = (
    b"/tc/rejected\x00\x00\x00\x00"
    b",sisi\x00\x00\x00bad\x00\x00\x00\x00\x01"
    b"unknown address\x00"
    b"\x00\x00\x00\x03"
)
PRIMED = (
    b"/tc/primed\x00\x00,is\x00"
    b"\x00\x00\x00\x0cAnd\x00"
)
# Added with the guards (issue #13): new addresses, so nothing that decoded the messages above changes.
GUARDS = (
    b"/tc/guards\x00\x00,ifsiiiii\x00\x00\x00"
    b"\x00\x00\x00\x01?\x00\x00\x00shift\x00\x00\x00"
    b"\x00\x00\x00\x03\x00\x00\x00(\x00\x00\x00\x02\x00\x00\x00\x01\x00\x00\x00\x07"
)
GUARDED = b"/tc/guarded\x00,is\x00\x00\x00\x00\x0cloop\x00\x00\x00\x00"
EVERY_TYPE = (
    b"/x\x00\x00,iifsb\x00\x00\x00\x00\x00\x01"
    b"\x00\x00\x00\x02?\xc0\x00\x00s\x00\x00\x00\x00\x00\x00\x03"
    b"\x01\x02\x03\x00"
)


def tick() -> Tick:
    return Tick(7, "a", np.array([0.25, 0.75], np.float32), np.array([0.5, 0.5, 0.0], np.float32),
                np.array([0, 1], np.int32), np.array([[1, 0, 0], [0, 1, 0]], np.float32),
                np.array([0.4, 0.6], np.float32))


def status() -> Status:
    return Status(tick=3, rate=14.5, step_ms=0.5, step_ms_max=1.25, active=2, rejected=1, paused=True, subscribers=1)


def hello() -> Hello:
    return Hello(["bible", "linux"], np.array([True, False]), np.array([0.5, 1.0], np.float32), "In")


def test_tick_bytes():
    assert tick().encode() == TICK
    (m,) = protocol.unpack(TICK)
    t = Tick.decode(m.args)
    assert (t.tick, t.char) == (7, "a")
    assert t.attribution.tolist() == [0.25, 0.75] and t.mixed.tolist() == [0.5, 0.5, 0.0]
    assert t.active.tolist() == [0, 1] and t.dists.tolist() == [[1, 0, 0], [0, 1, 0]]
    assert t.weights.tolist() == np.array([0.4, 0.6], np.float32).tolist()


def test_status_bytes():
    assert status().encode() == STATUS
    assert Status.decode(protocol.unpack(STATUS)[0].args) == status()


def test_params_bytes():
    assert Params().encode() == PARAMS  # the engine's defaults, as a subscriber first sees them
    assert Params.decode(protocol.unpack(PARAMS)[0].args) == Params(0.800000011920929, 15.0, "linear",
                                                                      0.05000000074505806, 1.0, 0)


def test_hello_bytes():
    assert hello().encode() == HELLO
    h = Hello.decode(protocol.unpack(HELLO)[0].args)
    assert h.names == ["bible", "linux"] and h.enabled.tolist() == [True, False]
    assert h.weights.tolist() == [0.5, 1.0] and h.history == "In"


def test_bundle_bytes():
    assert bundle(message("/tc/weight", "bible", 0.25), message("/tc/ping")) == BUNDLE
    assert protocol.parse_packet(BUNDLE) == [protocol.Command("weight", ("bible", 0.25)), protocol.Command("ping")]


def test_rejected_counts_bytes():
    assert protocol.rejected_counts_message({"unknown address": 3, "bad": 1}) == REJECTED  # sorted by reason
    assert RejectedCounts.decode(protocol.unpack(REJECTED)[0].args).counts == {"bad": 1, "unknown address": 3}


def test_primed_bytes():
    assert message(protocol.OUT_PRIMED, 12, "And") == Primed(12, "And").encode() == PRIMED
    assert Primed.decode(protocol.unpack(PRIMED)[0].args) == Primed(12, "And")


def test_argument_types_bytes():
    assert message("/x", True, 2, 1.5, "s", b"\x01\x02\x03") == EVERY_TYPE
    assert protocol.decode_message(EVERY_TYPE) == ("/x", (1, 2, 1.5, "s", b"\x01\x02\x03"))


def test_guards_bytes():
    g = Guards(on=True, strength=0.5, escape="shift", loop_acts=3, loop_chars=40, blocked=2, prime_dropped=1,
               blocklist=7)
    assert g.encode() == GUARDS
    assert Guards.decode(protocol.unpack(GUARDS)[0].args) == g


def test_guarded_bytes():
    assert Guarded(12, "loop").encode() == GUARDED
    assert Guarded.decode(protocol.unpack(GUARDED)[0].args) == Guarded(12, "loop")
