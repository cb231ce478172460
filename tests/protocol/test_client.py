"""The engine client without a socket (state in, datagrams out), then on a socket against FakeEngine."""

from __future__ import annotations

import math
import queue

import numpy as np
import pytest

from tests.fakes import FakeEngine
from textconductor import protocol
from textconductor.protocol.client import EngineClient, EngineConnection
from textconductor.protocol.controls import CONTROLS
from textconductor.protocol.messages import Hello, Params, Primed, RejectedCounts, Status
from textconductor.protocol.wire import Rejected, bundle


def commands(datagrams: list[bytes]) -> list[tuple]:
    """What the engine would make of these datagrams (its own parser), as (name, args)."""
    out = []
    for d in datagrams:
        for c in protocol.parse_packet(d):
            assert isinstance(c, protocol.Command), c
            out.append((c.name, c.args))
    return out


def hello(names=("a", "b", "c"), enabled=(1, 1, 1), weights=None) -> bytes:
    w = np.asarray(weights if weights is not None else [0.0] * len(names), np.float32)
    return Hello(list(names), np.array(enabled, bool), w, "").encode()


@pytest.fixture
def client() -> EngineClient:
    c = EngineClient()
    c.receive(hello(enabled=(1, 0, 1), weights=(0.2, 0.0, 0.9)))
    return c


# -- learning from the engine -------------------------------------------------------------------
def test_learns_the_bank_from_hello(client):
    assert client.hello_seen.is_set()
    assert client.styles == ["a", "b", "c"] and client.enabled_styles() == ["a", "c"]
    assert client.last_hello.names == ["a", "b", "c"]


def test_a_hello_with_mismatched_enabled_enables_all():
    c = EngineClient()
    c.receive(Hello(["a", "b"], np.array([True]), np.zeros(2, np.float32), "").encode())
    assert c.enabled_styles() == ["a", "b"]


def test_receive_returns_messages_in_order_and_learns(client):
    status = Status(tick=3, paused=True)
    got = client.receive(bundle(Params(rate=30.0).encode(), status.encode(), Primed(3, "x").encode(),
                                RejectedCounts({"bad": 1}).encode()))
    assert [type(m) for m in got] == [Params, Status, Primed, RejectedCounts]
    assert client.paused and client.last_status == status and client.last_params.rate == 30.0


def test_what_cannot_be_decoded_is_returned_and_counted(client):
    short_tick = protocol.Tick(1, "a", np.zeros(3, np.float32), np.zeros(50, np.float32), np.array([0], np.int32),
                               np.zeros((1, 50), np.float32), np.zeros(3, np.float32))
    got = client.receive(bundle(short_tick.encode(), protocol.message("/tc/status", "x"),
                                protocol.message("/tc/styles", "a,b"), Params().encode()))
    assert got[:2] == [Rejected("bad message (tick with wrong sizes)", "/tc/tick"),
                       Rejected("bad message (bad status message)", "/tc/status")]
    assert isinstance(got[2], Params) and len(got) == 3  # an address the engine does not publish: skipped
    assert client.receive(b"\x00\x01\x02") == [Rejected("packet length is not a multiple of 4")]
    assert client.undecodable == 3


# -- controls -> datagrams -----------------------------------------------------------------------
def test_weights_by_name_in_one_datagram(client):
    out = client.set_weights({"a": 0.25, "c": 1.7})
    assert len(out) == 1 and out[0].startswith(b"#bundle")
    assert commands(out) == [("weight", ("a", 0.25)), ("weight", ("c", 1.0))]  # clamped, not rejected
    assert commands(client.set_weights({"b": 0.5})) == [("weight", ("b", 0.5))]  # one: no bundle
    assert client.set_weights({}) == []
    with pytest.raises(ValueError):
        client.set_weights({"a": math.nan})


def test_puck_sends_every_weight_in_bank_order(client):
    (got,) = commands(client.set_puck(0.0, 5.0))  # clamped to the top: the first enabled style
    assert got[0] == "weights" and got[1] == pytest.approx((1.0, 0.0, 0.0))
    (got,) = commands(client.set_puck(0.0, 0.0))
    assert got[1] == pytest.approx((0.5, 0.0, 0.5))  # the disabled style stays at 0
    assert EngineClient().set_puck(0.0, 0.0) == []  # no bank known yet: nothing to send


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("temperature", 99, [("temperature", (5.0,))]),
    ("temperature", 0.0, [("temperature", (pytest.approx(0.05),))]),
    ("rate", -5, [("rate", (0.0,))]),
    ("mix", "product", [("mix", ("product",))]),
    ("mix", 1, [("mix", ("product",))]),
    ("mix", 0, [("mix", ("linear",))]),
    ("pause", None, [("pause", ())]),
    ("resume", None, [("resume", ())]),
    ("reset", None, [("reset", ())]),
])
def test_controls(client, name, value, expected):
    assert commands(client.control(name, value)) == expected


def test_toggle_pause_follows_the_engine(client):
    assert commands(client.control("toggle_pause")) == [("pause", ())]
    client.receive(Status(paused=False).encode())  # someone else resumed it
    assert commands(client.control("toggle_pause")) == [("pause", ())]
    assert commands(client.control("toggle_pause")) == [("resume", ())]


def test_every_control_word_is_understood(client):
    values = {"temperature": 1.0, "rate": 10.0, "mix": "linear", "preset_save": 1, "preset_recall": 1,
              "guard_strength": 0.5, "crowd_blend": 0.5}
    for name in CONTROLS:
        client.control(name, values.get(name))
    with pytest.raises(ValueError, match="unknown control"):
        client.control("volume", 1)


def test_presets_remember_what_was_sent_and_learned(client):
    client.set_weights({"a": 0.1})
    client.control("temperature", 0.5)
    client.control("preset_save", 2)
    client.set_weights({"a": 1.0, "c": 0.0})
    client.control("temperature", 2.0)
    got = commands(client.control("preset_recall", 2))
    assert got[:3] == [("weight", ("a", pytest.approx(0.1))), ("weight", ("b", 0.0)),
                       ("weight", ("c", pytest.approx(0.9)))]  # b and c as the hello said
    assert got[3] == ("temperature", (0.5,))
    assert client.control("preset_recall", 3) == []  # empty slot: nothing
    for bad in (0, 10):
        with pytest.raises(ValueError, match="preset must be 1..9"):
            client.control("preset_save", bad)


def test_a_report_older_than_our_own_send_does_not_undo_it():
    """A ping answered just before our weight reached the engine brings the old value back: the
    client keeps what it sent (a fader's soft takeover and the presets rely on it) for a moment."""
    t = [100.0]
    c = EngineClient(clock=lambda: t[0])
    c.receive(hello(weights=(0.2, 0.0, 0.9)))
    c.set_weights({"a": 0.7})
    c.control("temperature", 1.5)
    t[0] += 0.01
    c.receive(bundle(hello(weights=(0.2, 0.3, 0.9)), Params(temperature=0.8).encode()))  # crossed on the wire
    assert c.weights == {"a": pytest.approx(0.7), "b": pytest.approx(0.3), "c": pytest.approx(0.9)}
    assert c.params["temperature"] == 1.5
    t[0] += 1.0  # long after: the engine's word is the truth again
    c.receive(bundle(hello(weights=(0.1, 0.3, 0.9)), Params(temperature=0.8).encode()))
    assert c.weights["a"] == pytest.approx(0.1) and c.params["temperature"] == pytest.approx(0.8)


def test_other_messages(client):
    assert commands(client.enable("b", True)) == [("enable", ("b", True))]
    assert commands(client.prime("x" * 2500)) == [("prime", ("x" * protocol.MAX_PRIME_CHARS,))]
    assert client.prime("") == []
    assert commands([client.ping()]) == [("ping", ())]
    assert commands([client.subscribe(5000), client.unsubscribe(5000, "10.0.0.2")]) == [
        ("subscribe", (None, 5000)), ("unsubscribe", ("10.0.0.2", 5000))]


# -- on a socket ---------------------------------------------------------------------------------
def test_connection_pings_learns_and_plays():
    engine = FakeEngine(names=["x", "y"])
    conn = EngineConnection("127.0.0.1", engine.port)
    try:
        assert conn.wait_for_engine(10) and conn.styles == ["x", "y"]
        conn.set_weights({"y": 0.5})
        conn.control("rate", 12.0)
        conn.send("/tc/seed", 4)
        got = engine.take(3)
        assert [(c.name, c.args) for c in got] == [("weight", ("y", 0.5)), ("rate", (12.0,)), ("seed", (4,))]
        assert conn.sent >= 4 and engine.rejected == []
    finally:
        conn.close()
        engine.close()


def test_subscribed_connection_passes_messages_on_and_unsubscribes_on_close():
    engine = FakeEngine(names=["x", "y"])
    seen: queue.Queue = queue.Queue()
    conn = EngineConnection("127.0.0.1", engine.port, subscribe=True, on_message=seen.put)
    try:
        assert conn.wait_for_engine(10)
        (sub,) = engine.take(1)
        assert (sub.name, sub.args) == ("subscribe", (None, conn.listen_port))
        engine.publish(engine.make_tick("z", 1, np.random.default_rng(0)).encode())
        kinds = []
        while "Tick" not in kinds:
            kinds.append(type(seen.get(timeout=10)).__name__)
        assert kinds[:3] == ["Hello", "Params", "Status"]
    finally:
        conn.close()
    assert engine.wait_commands(1)[-1].name == "unsubscribe"
    engine.close()


def test_an_engine_that_is_not_there_costs_nothing():
    conn = EngineConnection("127.0.0.1", 9, ping=False)  # the discard port: nobody answers
    try:
        conn.set_weights({"a": 1.0})  # lost, no exception
        assert not conn.wait_for_engine(0.05) and conn.enabled_styles() == []
    finally:
        conn.close()


# -- the loop guard (CONTROLS words `guard` and `guard_strength`: the window and MIDI speak them too) -----
def test_guard_switches_and_keeps_what_the_engine_reported(client):
    from textconductor.protocol.messages import Guards
    assert commands(client.guard(False)) == [("guard", (False, None))]
    assert commands(client.guard(strength=2.0)) == [("guard", (True, 1.0))]  # clamped; on until told otherwise
    client.receive(Guards(on=False, strength=0.2).encode())
    assert client.last_guards.on is False
    # a strength knob does not switch the guard back on
    assert commands(client.guard(strength=0.3)) == [("guard", (False, pytest.approx(0.3)))]
    with pytest.raises(ValueError):
        client.guard(True, math.nan)


def test_guard_control_words_are_ready_for_the_vocabulary(client):
    from textconductor.protocol.messages import Guards
    assert commands(client.control("guard", 0)) == [("guard", (False, None))]
    client.receive(Guards(on=True).encode())
    assert commands(client.control("guard")) == [("guard", (False, None))]  # no value: toggle
    assert commands(client.control("guard_strength", 0.25)) == [("guard", (True, 0.25))]
