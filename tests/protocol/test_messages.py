"""Out of the engine: each message round-trips, and a message that does not fit is refused."""

from __future__ import annotations

import numpy as np
import pytest

from textconductor.protocol import messages, wire
from textconductor.protocol.charset import VOCAB_SIZE
from textconductor.protocol.messages import (
    OUTGOING,
    Guarded,
    Guards,
    Hello,
    Marked,
    Params,
    Primed,
    RejectedCounts,
    Status,
    Tick,
    decode_output,
)


def a_tick(active=(0, 2), n_styles=3) -> Tick:
    rng = np.random.default_rng(0)
    dists = rng.dirichlet(np.ones(VOCAB_SIZE), size=len(active)).astype(np.float32)
    return Tick(41, "q", rng.random(n_styles).astype(np.float32), dists.mean(0), np.array(active, np.int32), dists,
                rng.random(n_styles).astype(np.float32))


def roundtrip(msg):
    (m,) = wire.unpack(msg.encode())
    assert m.address == msg.ADDRESS
    return decode_output(m.address, m.args)


def test_tick_roundtrip():
    t = a_tick()
    got = roundtrip(t)
    for name in ("attribution", "mixed", "active", "dists", "weights"):
        np.testing.assert_array_equal(getattr(got, name), getattr(t, name))
    assert (got.tick, got.char) == (41, "q") and got.dists.shape == (2, VOCAB_SIZE)


@pytest.mark.parametrize("msg", [
    Status(tick=9, rate=15.0, step_ms=0.25, step_ms_max=2.0, active=3, rejected=12, paused=False, subscribers=2),
    Params(temperature=0.5, rate=30.0, mix="product", threshold=0.25, top_p=0.5, seed=3),
    Primed(5, "In the beginning"),
    RejectedCounts({"unknown address": 2, "value is NaN or infinite": 7}),
    RejectedCounts({}),
    Guards(on=False, strength=0.25, escape="block", loop_acts=5, loop_chars=60, blocked=9, prime_dropped=2,
           blocklist=200),
    Guarded(7, "blocklist"),
    Marked("keep", 120, 348, 3, 1),
    Marked("reject", 0, 1),
])
def test_roundtrip(msg):
    assert roundtrip(msg) == msg


def test_crowd_roundtrips():
    state = roundtrip(messages.CrowdState("blend", 0.25, np.array([0.5, 0.0, 0.5], dtype=np.float32)))
    assert (state.mode, state.blend, state.weights.tolist()) == ("blend", 0.25, [0.5, 0.0, 0.5])
    pts = np.array([[0.0, 1.0], [-0.5, 0.25], [1.0, 0.0]], dtype=np.float32)
    got = roundtrip(messages.CrowdPoints(3, 5, pts))
    assert (got.phones, got.connected) == (3, 5) and got.points.tolist() == pts.tolist()
    empty = roundtrip(messages.CrowdPoints(0, 2))  # no points: no blob (OSC has no empty one)
    assert (empty.phones, empty.connected, empty.points.shape) == (0, 2, (0, 2))


def test_hello_roundtrip():
    h = Hello(["a", "b", "c"], np.array([True, False, True]), np.array([0.0, 0.5, 1.0], np.float32), "tail\n")
    got = roundtrip(h)
    assert got.names == h.names and got.history == h.history
    np.testing.assert_array_equal(got.enabled, h.enabled)
    np.testing.assert_array_equal(got.weights, h.weights)
    got.weights[0] = 1.0  # a copy, not a view of the datagram's bytes: the window edits it


def test_status_paused_is_a_bool():
    assert Status.decode((1, 2.0, 0.1, 0.2, 1, 0, 1, 0)).paused is True


@pytest.mark.parametrize(("address", "args", "error"), [
    ("/tc/tick", (1, "a"), ValueError),  # too few arguments
    ("/tc/tick", (1, "a", b"", b"\x00" * 8, b"\x00" * 4, b"\x00" * 12, b""), ValueError),  # dists do not fit
    ("/tc/tick", (1, "a", 3, b"", b"", b"", b""), TypeError),  # a number where a blob belongs
    ("/tc/status", ("x",), ValueError),
    ("/tc/params", (0.8, 15.0), ValueError),
    ("/tc/hello", ("a,b",), ValueError),
    ("/tc/primed", ("x",), ValueError),
    ("/tc/primed", ("x", "y"), ValueError),
    ("/tc/guards", (1, 0.5, "shift"), ValueError),
    ("/tc/guarded", (1,), ValueError),
    ("/tc/crowd_points", (1, 1, b"\x00" * 12), ValueError),  # not x, y pairs
    ("/tc/marked", ("keep", 1, 2), ValueError),
    ("/tc/marked", ("like", 1, 2, 0, 0), ValueError),  # neither keep nor reject
])
def test_decode_refuses_what_does_not_fit(address, args, error):
    with pytest.raises(error):
        decode_output(address, args)


def test_unknown_output_address_is_none():
    assert decode_output("/tc/styles", ("a,b",)) is None
    assert decode_output("/tc/weights", (1.0,)) is None  # an input address, not an output


def test_table_lists_every_output():
    assert set(OUTGOING) == {messages.OUT_TICK, messages.OUT_STATUS, messages.OUT_PARAMS, messages.OUT_HELLO,
                             messages.OUT_PRIMED, messages.OUT_REJECTED, messages.OUT_GUARDS, messages.OUT_GUARDED,
                             messages.OUT_MARKED, messages.OUT_CROWD, messages.OUT_CROWD_POINTS,
                             messages.OUT_VERBATIM}


def test_params_defaults_are_the_runtime_defaults():
    from textconductor.protocol import defaults
    assert Params() == Params(defaults.DEFAULT_TEMPERATURE, defaults.DEFAULT_RATE, defaults.DEFAULT_MIX,
                              defaults.DEFAULT_THRESHOLD, defaults.DEFAULT_TOP_P, defaults.DEFAULT_SEED)
