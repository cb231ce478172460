"""The crowd in the engine: how the performer's and the room's weights combine (pure, property-tested),
and the conductor, snapshot and a recorded live engine holding both (real checkpoints, real UDP)."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.fakes import EngineProbe, free_port
from textconductor.engine import snapshot
from textconductor.engine.crowd import combine
from textconductor.engine.record import read_record
from textconductor.protocol import Command, CrowdState, decode_output
from textconductor.tools.harness import engine_command

N = 5
weights = arrays(np.float64, N, elements=st.floats(0, 1)).filter(lambda w: w.sum() > 1e-3).map(lambda w: w / w.sum())
maybe = st.one_of(st.none(), weights)


@given(maybe, maybe, st.floats(0, 1))
def test_off_is_the_performer_and_crowd_is_the_room(perf, crowd, blend):
    off = combine(perf, crowd, "off", blend)
    assert off is perf
    room = combine(perf, crowd, "crowd", blend)
    assert room is (crowd if crowd is not None else perf)  # an empty room: the performer plays on


@given(weights, weights, st.floats(0, 1))
def test_blend_is_the_convex_mix(perf, crowd, blend):
    w = combine(perf, crowd, "blend", blend)
    assert w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w, (1 - blend) * perf + blend * crowd, atol=1e-9)
    assert np.all(w >= np.minimum(perf, crowd) - 1e-9) and np.all(w <= np.maximum(perf, crowd) + 1e-9)


@given(weights, st.floats(0, 1))
def test_blend_with_an_empty_side_plays_the_other(w, blend):
    assert combine(w, None, "blend", blend) is w
    assert combine(None, w, "blend", blend) is w
    assert combine(None, None, "blend", blend) is None


@settings(deadline=None, max_examples=30)
@given(weights, st.floats(0, 1))
def test_blend_ends(w, b):
    other = np.roll(w, 1)
    np.testing.assert_allclose(combine(w, other, "blend", 0.0), w)
    np.testing.assert_allclose(combine(w, other, "blend", 1.0), other)


def conductor(tiny_bank):
    from textconductor.engine.loader import load_bank
    from textconductor.engine.root import Settings, build_conductor
    bank, names = load_bank(tiny_bank, "cpu")
    return build_conductor(bank, names, Settings(seed=3, weights=(("alpha", 1.0),)))


def test_conductor_switches_at_once_and_gives_the_performer_back(tiny_bank):
    c = conductor(tiny_bank)
    np.testing.assert_allclose(c.weights, [1, 0, 0])
    c.apply(Command("crowd", (0.0, 0.25, 0.75)))
    np.testing.assert_allclose(c.weights, [1, 0, 0])  # off: the room is heard by nobody
    c.apply(Command("crowd_mode", ("crowd", None)))
    np.testing.assert_allclose(c.weights, [0, 0.25, 0.75])
    assert set(c.tick().active.tolist()) == {1, 2}  # the very next character is the room's
    c.apply(Command("crowd_mode", ("blend", 0.4)))
    np.testing.assert_allclose(c.weights, [0.6, 0.1, 0.3])
    c.apply(Command("weights", (0.0, 1.0, 0.0)))  # the performer keeps playing underneath
    np.testing.assert_allclose(c.weights, [0.0, 0.7, 0.3])
    c.apply(Command("crowd", (0.0, 0.0, 0.0)))  # everyone left: the performer alone
    np.testing.assert_allclose(c.weights, [0, 1, 0])
    c.apply(Command("crowd", (1.0, 0.0, 0.0)))
    c.apply(Command("enable", ("alpha", False)))  # a disabled style weighs nothing, for the room too
    np.testing.assert_allclose(c.weights, [0, 1, 0])
    c.apply(Command("crowd_mode", ("off", None)))
    np.testing.assert_allclose(c.weights, [0, 1, 0])
    from textconductor.engine.conductor import CommandError
    with pytest.raises(CommandError, match="wrong number of crowd weights"):
        c.apply(Command("crowd", (1.0, 0.0)))


def test_snapshot_keeps_the_rooms_say(tiny_bank):
    c = conductor(tiny_bank)
    c.apply(Command("crowd", (0.0, 1.0, 0.0)))
    c.apply(Command("crowd_mode", ("blend", 0.25)))
    snap = snapshot.snapshot(c)
    d = conductor(tiny_bank)
    snapshot.restore(d, snap)
    assert (d.crowd.mode, d.crowd.blend) == ("blend", 0.25)
    np.testing.assert_allclose(d.weights, c.weights)
    np.testing.assert_allclose(d.weights, [0.75, 0.25, 0.0])


def test_live_engine_records_the_crowd_and_replays_exactly(tiny_bank, tmp_path):
    """A real engine process: /tc/crowd and /tc/crowd_mode over UDP act at once, /tc/crowd_state
    reports them, /tc/crowd_points is relayed, the record replays the same text, bad ones are counted."""
    record, port = tmp_path / "perf.jsonl", free_port()
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 150, "--seed", 4, "--record", record,
                                           checkpoints=tiny_bank), stderr=subprocess.DEVNULL)
    c = EngineProbe(port)
    try:
        c.wait_until_up()
        c.send("/tc/crowd", 0.0, 0.0, 1.0)
        c.send("/tc/crowd_mode", "crowd")
        tick = c.wait_for("/tc/tick", lambda a: decode_output("/tc/tick", a).weights[2] > 0.99)
        assert tick is not None
        state = c.wait_for("/tc/crowd_state", lambda a: a[0] == "crowd")
        assert CrowdState.decode(state).weights.tolist() == [0.0, 0.0, 1.0]
        c.send("/tc/crowd_points", 3, 4, np.array([[0, 1], [0.5, 0], [-1, 0]], dtype="<f4").tobytes())
        pts = c.wait_for("/tc/crowd_points")
        assert pts[:2] == (3, 4) and len(pts[2]) == 24
        c.send("/tc/crowd_mode", "blend", 0.5)
        c.send("/tc/crowd", 1.0, 0.0, 0.0)
        c.send("/tc/crowd", 1.0, 0.0)  # wrong count: counted, never fatal
        c.send("/tc/crowd_mode", "everyone")
        c.send("/tc/crowd_mode", "off")
        rejected = c.wait_for("/tc/rejected", lambda a: "wrong number of crowd weights" in a
                              and any(str(x).startswith("crowd mode must be") for x in a))
        assert rejected is not None
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(10)
        c.close()
    lines = read_record(record)
    assert [e["cmd"] for e in lines if e["type"] == "event"] == ["crowd", "crowd_mode", "crowd_mode", "crowd",
                                                                 "crowd_mode"]
    r = subprocess.run([sys.executable, "-m", "textconductor", "replay", str(record)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "replay matches" in r.stdout, r.stdout + r.stderr
