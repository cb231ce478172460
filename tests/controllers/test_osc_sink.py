"""OscSink and the osc-bridge against a UDP socket that decodes with the engine's own validation
(`textconductor.protocol.parse_packet`) and answers pings with a real `/tc/hello` bundle
(`tests.fakes.FakeEngine`)."""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from tests.fakes import NAMES, FakeEngine, free_port
from textconductor import protocol
from textconductor.controllers.autopilot import Autopilot
from textconductor.controllers.osc_bridge import BridgeError, OscBridge
from textconductor.controllers.osc_sink import OscSink, parse_engine_address
from textconductor.controllers.puck import puck_weights, style_positions
from textconductor.protocol.controls import ActivitySink


@pytest.fixture
def engine():
    e = FakeEngine(enabled=(1, 1, 0))
    yield e
    e.close()
    assert e.rejected == [], e.rejected  # everything our side sent was valid to the engine


@pytest.fixture
def sink(engine):
    s = OscSink("127.0.0.1", engine.port)
    assert s.wait_for_engine(10)
    yield s
    s.close()


def test_learns_styles_from_hello(sink):
    assert sink.styles == NAMES
    assert sink.enabled_styles() == ["bible", "linux"]  # austen disabled in the engine


def test_weights_by_name_in_one_datagram(sink, engine):
    before = engine.packets
    sink.set_weights({"bible": 0.25, "linux": 1.0})
    cmds = engine.take(2)
    assert [(c.name, c.args) for c in cmds] == [("weight", ("bible", 0.25)), ("weight", ("linux", 1.0))]
    assert engine.packets - before <= 2  # one bundle (plus maybe a periodic ping)


def test_out_of_range_values_are_clamped_not_rejected(sink, engine):
    sink.set_weights({"bible": 1.7})
    sink.control("temperature", 99)
    sink.control("rate", -5)
    cmds = engine.take(3)
    assert [(c.name, c.args) for c in cmds] == [("weight", ("bible", 1.0)), ("temperature", (5.0,)),
                                                 ("rate", (0.0,))]
    with pytest.raises(ValueError):
        sink.control("temperature", math.nan)


def test_puck_sends_all_weights_in_bank_order(sink, engine):
    top = style_positions(2)[0]  # only the 2 enabled styles are on the circle
    sink.set_puck(*top)
    (cmd,) = engine.take(1)
    assert cmd.name == "weights"
    assert cmd.args == pytest.approx((1.0, 0.0, 0.0))
    sink.set_puck(0.0, 0.0)  # centre: the two enabled styles equal, the disabled one 0
    (cmd,) = engine.take(1)
    assert cmd.args == pytest.approx((0.5, 0.5, 0.0))


def test_controls(sink, engine):
    sink.control("mix", "product")
    sink.control("mix", 0)
    sink.control("pause")
    sink.control("toggle_pause")
    sink.control("toggle_pause")
    sink.control("resume")
    sink.control("reset")
    cmds = engine.take(7)
    assert [(c.name, c.args) for c in cmds] == [
        ("mix", ("product",)), ("mix", ("linear",)), ("pause", ()), ("resume", ()), ("pause", ()), ("resume", ()),
        ("reset", ())]
    with pytest.raises(ValueError):
        sink.control("volume", 1)


def test_presets_save_and_recall(sink, engine):
    sink.set_weights({"bible": 0.2, "linux": 0.9})
    sink.control("temperature", 0.5)
    sink.control("preset_save", 3)
    sink.set_weights({"bible": 1.0, "linux": 0.0})
    engine.take(5)  # 2 weights, temperature, 2 weights: all of them, or a late one would be read as recalled
    sink.control("preset_recall", 3)
    cmds = engine.take(4)  # the weights of all three styles the sink knew (from hello), then temperature
    assert {c.args[0]: c.args[1] for c in cmds[:3]} == pytest.approx({"bible": 0.2, "linux": 0.9, "austen": 0.0})
    assert cmds[3].name == "temperature" and cmds[3].args == pytest.approx((0.5,))
    sink.control("preset_recall", 4)  # empty: nothing sent, nothing raised
    with pytest.raises(ValueError):
        sink.control("preset_save", 10)


def test_engine_that_starts_late_is_picked_up():
    port = free_port()  # a port nobody listens on (yet)
    s = OscSink("127.0.0.1", port)
    late = None
    try:
        s.set_weights({"bible": 1.0})  # lost: no exception
        assert not s.wait_for_engine(0.3)
        try:
            late = FakeEngine(port=port)  # the engine comes up
        except OSError:
            pytest.skip("the port was taken by another process meanwhile")
        assert s.wait_for_engine(10)  # the periodic ping found it
        assert s.enabled_styles() == NAMES
    finally:
        s.close()
        if late is not None:
            late.close()


@pytest.mark.parametrize(("text", "addr"), [
    ("127.0.0.1:57130", ("127.0.0.1", 57130)), (":9000", ("127.0.0.1", 9000)), ("9000", ("127.0.0.1", 9000)),
    ("studio.local", ("studio.local", 57130)), ("10.0.0.2:1234", ("10.0.0.2", 1234))])
def test_parse_engine_address(text, addr):
    assert parse_engine_address(text) == addr


@pytest.mark.parametrize("text", ["host:port", "host:0", "host:70000"])
def test_parse_engine_address_errors(text):
    with pytest.raises(ValueError):
        parse_engine_address(text)


def test_local_puck_weights_follow_the_frontend_layout():
    w = puck_weights(0.0, 1.0, ["a", "b", "c"])  # top = first style
    assert w["a"] == pytest.approx(1.0)
    w = puck_weights(0.3, -0.2, ["a", "b", "c", "d"])
    assert sum(w.values()) == pytest.approx(1.0) and all(0 <= v <= 1 for v in w.values())


# ---------------------------------------------------------------------------------------------
# osc-bridge: the TouchOSC layout (docs/controllers.md) and Wekinator, over real UDP.

@pytest.fixture
def bridge_to(sink):
    bridges = []

    def make(**kw) -> tuple[OscBridge, SimpleUDPClient]:
        b = OscBridge(port=0, **kw)
        b.start(sink)
        bridges.append(b)
        return b, SimpleUDPClient("127.0.0.1", b.port)
    yield make
    for b in bridges:
        b.stop()


def test_touchosc_layout_end_to_end(bridge_to, engine):
    """What the documented TouchOSC page sends, through the bridge, arrives valid at the engine."""
    bridge, tablet = bridge_to()
    tablet.send_message("/style/linux", 0.75)          # a fader per style
    tablet.send_message("/puck", [0.5, 1.0])            # XY pad, TouchOSC 0..1: top centre = first style
    tablet.send_message("/tc/temperature", 0.6)         # temperature fader
    tablet.send_message("/tc/rate", 30.0)               # rate fader
    tablet.send_message("/tc/pause", 1.0)               # button press ...
    tablet.send_message("/tc/pause", 0.0)               # ... and release (ignored)
    tablet.send_message("/tc/resume", 1.0)
    tablet.send_message("/tc/mix", "product")
    cmds = engine.take(7)
    got = [(c.name, c.args) for c in cmds]
    assert got[0] == ("weight", ("linux", 0.75))
    assert got[1][0] == "weights" and got[1][1] == pytest.approx((1.0, 0.0, 0.0))
    assert got[2:] == [("temperature", (pytest.approx(0.6),)), ("rate", (30.0,)), ("pause", ()), ("resume", ()),
                       ("mix", ("product",))]
    assert bridge.rejected == {}


def test_xy_options(bridge_to, engine):
    _, tablet = bridge_to(xy_range="signed", flip_y=True, swap_xy=True)
    tablet.send_message("/puck", [-1.0, 0.0])  # (y, x) sent, y downwards: y=-1 -> up = first style
    (cmd,) = engine.take(1)
    assert cmd.args == pytest.approx((1.0, 0.0, 0.0))


def test_wekinator_outputs_drive_enabled_styles(bridge_to, engine):
    _, wek = bridge_to()
    wek.send_message("/wek/outputs", [0.2, 1.4])  # regression overshoot clamped
    cmds = engine.take(2)
    assert [(c.name, c.args) for c in cmds] == [("weight", ("bible", pytest.approx(0.2))), ("weight", ("linux", 1.0))]


def test_wekinator_two_outputs_as_puck(bridge_to, engine):
    _, wek = bridge_to(wek_puck=True)
    wek.send_message("/wek/outputs", [0.5, 0.0])  # bottom centre; between the two styles? (2 styles: top, bottom)
    (cmd,) = engine.take(1)
    assert cmd.args == pytest.approx((0.0, 1.0, 0.0))


def test_bridge_survives_garbage_and_counts_it(bridge_to, engine, caplog):
    bridge, tablet = bridge_to()
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for junk in [b"", b"abc", b"\x00" * 8, b"#bundle\x00" + b"\xff" * 12, protocol.message("/puck", 1.0),
                 protocol.message("/puck", "x", "y"), protocol.message("/tc/temperature", math.inf),
                 protocol.message("/style/*", 1.0), protocol.message("/tc/prime", "hello"),
                 protocol.message("/wek/outputs", "a")]:
        raw.sendto(junk, ("127.0.0.1", bridge.port))
    raw.close()
    tablet.send_message("/style/bible", 0.5)  # still alive
    (cmd,) = engine.take(1)
    assert (cmd.name, cmd.args) == ("weight", ("bible", 0.5))
    assert sum(bridge.rejected.values()) == 10  # every piece of junk counted, none fatal
    assert caplog.text.count("osc-bridge rejected") <= 10


def test_bridge_refuses_open_listen_without_allow_list():
    with pytest.raises(BridgeError, match="--allow"):
        OscBridge(host="0.0.0.0", port=0)
    with pytest.raises(BridgeError):
        OscBridge(port=0, xy_range="polar")


def test_bridge_port_taken_is_a_clear_error(sink):
    a = OscBridge(port=0)
    a.start(sink)
    try:
        with pytest.raises(BridgeError, match="cannot listen"):
            OscBridge(port=a.port).start(sink)
    finally:
        a.stop()


def test_bridge_input_hands_over_from_autopilot(sink, engine):
    pilot = Autopilot(idle_s=5.0, fps=50)
    pilot.bind(sink)
    pilot._last_input -= 10  # as if idle for 10 s already
    assert pilot.tick() is not None and pilot.active
    bridge = OscBridge(port=0)
    bridge.start(ActivitySink(sink, pilot.input_seen))
    try:
        SimpleUDPClient("127.0.0.1", bridge.port).send_message("/puck", [0.5, 0.5])
        deadline = time.monotonic() + 10
        while pilot.active and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not pilot.active and pilot.last_point == (0.0, 0.0)
        assert pilot.tick() is None
    finally:
        bridge.stop()


# ---------------------------------------------------------------------------------------------
# examples/: scripts on the protocol's engine client, run as a user would.

ROOT = Path(__file__).resolve().parents[2]


def test_example_sweep_sends_valid_crossfades():
    engine = FakeEngine()
    try:
        r = subprocess.run([sys.executable, "examples/sweep.py", "bible", "linux", "--engine",
                            f"127.0.0.1:{engine.port}", "--seconds", "0.5", "--period", "1"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cmds = engine.wait_commands(4)
        assert engine.rejected == []
        assert {c.args[0] for c in cmds} == {"bible", "linux"}
        by_time = [c.args for c in cmds if c.args[0] == "linux"]
        assert by_time[0][1] < 0.1 and max(w for _, w in by_time) > 0.5  # linux fades in
    finally:
        engine.close()


def test_example_xy_pad_circles_the_puck_over_the_enabled_styles(engine):
    r = subprocess.run([sys.executable, "examples/xy_pad.py", "--engine", f"127.0.0.1:{engine.port}",
                        "--seconds", "0.4", "--period", "0.4"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cmds = engine.wait_commands(3)
    assert all(c.name == "weights" and len(c.args) == 3 and c.args[2] == 0.0 for c in cmds)  # austen disabled
    assert max(c.args[1] for c in cmds) > 0.9  # the turn passed the second style
    assert len((Path(ROOT) / "examples/xy_pad.py").read_text().splitlines()) < 40  # a controller is one short file


def test_example_listen_prints_ticks_with_the_leading_style():
    engine = FakeEngine()
    proc = subprocess.Popen([sys.executable, "examples/listen.py", "--engine", f"127.0.0.1:{engine.port}", "--port",
                             "0", "--chars", "3", "--timeout", "20", "--why"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while engine.subscriber is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.subscriber is not None, "listen.py never subscribed"
        rng = np.random.default_rng(0)
        for char, winner in zip("ab\n", (1, 0, 2), strict=True):
            engine.publish(engine.make_tick(char, winner, rng).encode())
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert [line.split()[:2] for line in out.splitlines()] == [["'a'", "linux"], ["'b'", "bible"],
                                                                    ["'\\n'", "austen"]]
        deadline = time.monotonic() + 10
        while not any(c.name == "unsubscribe" for c in engine.commands) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.commands[-1].name == "unsubscribe"  # it leaves without being told to
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.close()
