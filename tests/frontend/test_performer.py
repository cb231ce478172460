"""The performer's state without Qt: no QApplication, no qtbot, a hand-moved clock, and the engine
commands read from `events.send`. These are the window's rules (hello reconciliation, the interaction
guard, controls, presets and morphs, autostart) tested where they live."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.fakes import FakeClock
from textconductor import protocol
from textconductor.frontend.events import Event
from textconductor.frontend.performer import INTERACTION_GUARD_S, Performer
from textconductor.frontend.presets import PresetStore, smoothstep
from textconductor.frontend.stream import TickStream

NAMES = ["psalm", "code", "verse"]


class Recorder:
    """Every event a Performer emits, in order, as (event name, args)."""

    def __init__(self, p: Performer) -> None:
        self.log: list[tuple[str, tuple]] = []
        for name, ev in vars(p.events).items():
            ev.connect(lambda *args, name=name: self.log.append((name, args)))

    def sent(self) -> list[tuple]:
        return [args for name, args in self.log if name == "send"]

    def names(self) -> list[str]:
        return [name for name, _ in self.log]

    def clear(self) -> None:
        self.log.clear()


def hello(weights=(1.0, 0.0, 0.0), enabled=(True, True, True), names=NAMES, history: str = "") -> protocol.Hello:
    return protocol.Hello(list(names), np.array(enabled, bool), np.array(weights, np.float32), history)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def perf(tmp_path, clock) -> Performer:
    return Performer(PresetStore(tmp_path / "presets.json"), morph_seconds=1.0, clock=clock)


@pytest.fixture
def synced(perf) -> Performer:
    assert perf.on_hello(hello())
    return perf


def test_no_qt_is_needed():
    """The model and its helpers import without Qt (a fresh interpreter: this one may have loaded it)."""
    code = ("import sys\n"
            "import textconductor.frontend.performer, textconductor.frontend.stream\n"
            "import textconductor.frontend.events, textconductor.frontend.controller_api\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'torch')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_first_hello_adopts_the_bank_and_sends_nothing(perf):
    rec = Recorder(perf)
    assert perf.on_hello(hello((0.2, 0.0, 0.7), enabled=(True, False, True)))
    assert perf.names == NAMES
    assert perf.weights == {"psalm": pytest.approx(0.2), "code": 0.0, "verse": pytest.approx(0.7)}
    assert perf.enabled_styles() == ["psalm", "verse"]
    assert rec.names() == ["bank_changed", "enabled_changed"] and rec.sent() == []
    assert not perf.on_hello(hello((0.2, 0.0, 0.7), enabled=(True, False, True)))  # only the first is "first"


def test_weights_are_clamped_sent_in_bank_order_and_observed(synced):
    rec = Recorder(synced)
    synced.set_weights({"verse": 1.5, "code": -1.0, "nonexistent": 0.5}, move_puck=False)
    assert synced.weights == {"psalm": 1.0, "code": 0.0, "verse": 1.0}
    assert rec.log == [("send", ("/tc/weights", 1.0, 0.0, 1.0)), ("weights_sent", ([1.0, 0.0, 1.0],)),
                       ("weights_changed", (False,))]
    np.testing.assert_allclose(synced.enabled_weights(), [1.0, 0.0, 1.0])


def test_the_interaction_guard_keeps_the_engines_older_view_out(synced, clock):
    synced.set_weights({"code": 0.5})
    rec = Recorder(synced)
    clock.t += INTERACTION_GUARD_S - 0.1
    synced.on_hello(hello((0.0, 0.0, 1.0)))  # an echo of weights older than our change
    assert synced.weights["code"] == 0.5 and rec.log == []
    synced.on_params(protocol.Params(temperature=3.0))
    assert synced.params.temperature != 3.0
    clock.t += 0.2  # idle for longer than the guard: another client may have moved things
    synced.on_hello(hello((0.0, 0.0, 1.0)))
    assert synced.weights == {"psalm": 0.0, "code": 0.0, "verse": 1.0}
    assert rec.log == [("weights_changed", (True,))] and rec.sent() == []
    synced.on_params(protocol.Params(temperature=3.0))
    assert synced.params.temperature == 3.0 and rec.names()[-1] == "params_changed"
    rec.clear()
    synced.on_hello(hello((0.0, 0.0, 1.0), enabled=(False, True, True)))  # someone disabled a style
    assert synced.enabled_styles() == ["code", "verse"] and rec.names() == ["enabled_changed"]


def test_another_bank_is_adopted_even_inside_the_guard(synced):
    synced.set_weights({"code": 0.5})
    assert not synced.on_hello(hello((0.3, 0.3), enabled=(True, True), names=["kant", "bible"]))
    assert synced.names == ["kant", "bible"] and synced.weights == {"kant": pytest.approx(0.3),
                                                                     "bible": pytest.approx(0.3)}


def test_an_engine_that_came_back_gets_our_state(synced, clock):
    synced.set_weights({"code": 0.25})
    synced.control("temperature", 0.7)
    synced.set_enabled("psalm", False)
    clock.t += 60
    rec = Recorder(synced)
    assert synced.on_online(True)  # the caller asks for a hello at once
    synced.on_hello(hello((1.0, 0.0, 0.0)))  # a restarted engine with its own defaults
    p = synced.params
    assert rec.sent() == [("/tc/enable", "psalm", 0), ("/tc/enable", "code", 1), ("/tc/enable", "verse", 1),
                          ("/tc/weights", 1.0, 0.25, 0.0), ("/tc/temperature", pytest.approx(0.7)),
                          ("/tc/rate", p.rate), ("/tc/mix", p.mix)]
    assert synced.weights["code"] == 0.25 and not synced.resync
    assert not synced.on_online(False)


def test_going_online_before_any_hello_asks_for_nothing(perf):
    assert not perf.on_online(True) and not perf.resync


@pytest.mark.parametrize(("name", "value", "sent"), [
    ("temperature", 99.0, [("/tc/temperature", protocol.TEMPERATURE_RANGE[1])]),
    ("temperature", 0.0, [("/tc/temperature", protocol.TEMPERATURE_RANGE[0])]),
    ("rate", -5, [("/tc/rate", protocol.RATE_RANGE[0])]),
    ("mix", "product", [("/tc/mix", "product")]),
    ("pause", None, [("/tc/pause",)]),
    ("resume", None, [("/tc/resume",)]),
    ("toggle_pause", None, [("/tc/pause",)]),
    ("reset", None, [("/tc/reset",)]),
])
def test_controls_send_what_the_engine_expects(synced, name, value, sent):
    rec = Recorder(synced)
    synced.control(name, value)
    assert rec.sent() == sent
    if name in ("temperature", "rate", "mix"):
        assert rec.names()[-1] == "params_changed" and synced.guard_active()
    if name in ("pause", "toggle_pause"):
        assert synced.paused and ("paused_changed", (True,)) in rec.log
    if name == "reset":
        assert "cleared" in rec.names()


def test_bad_controls_raise_and_send_nothing(synced):
    rec = Recorder(synced)
    with pytest.raises(ValueError):
        synced.control("mix", "geometric")
    with pytest.raises(ValueError):
        synced.control("warp", 1)
    assert rec.log == [] and synced.params.mix == protocol.Params().mix


def test_the_engines_pause_state_is_shown(synced):
    rec = Recorder(synced)
    synced.on_status(protocol.Status(paused=True))
    synced.on_status(protocol.Status(paused=True))
    assert synced.paused and rec.log == [("paused_changed", (True,))]


def test_enabling_and_priming(synced):
    rec = Recorder(synced)
    synced.set_enabled("nonexistent", False)
    synced.set_enabled("code", False)
    assert synced.enabled_styles() == ["psalm", "verse"]
    synced.prime("")
    synced.prime("x" * (protocol.MAX_PRIME_CHARS + 10))
    assert rec.sent() == [("/tc/enable", "code", 0), ("/tc/prime", "x" * protocol.MAX_PRIME_CHARS)]
    assert rec.log[-1] == ("message", ("primed: " + "x" * 40,))


def test_a_preset_morphs_in_time_and_enables_what_it_needs(synced, clock):
    synced.set_weights({"psalm": 0.0, "code": 1.0, "verse": 0.0})
    synced.set_enabled("verse", False)
    synced.presets.save(3, {"verse": 1.0, "psalm": 0.5, "kant": 1.0})  # kant is not loaded
    rec = Recorder(synced)
    synced.control("preset_recall", 3)
    assert synced.morphing and ("/tc/enable", "verse", 1) in rec.sent() and synced.enabled["verse"]
    assert ("morphing_changed", (True,)) in rec.log
    assert synced.weights == {"psalm": 0.0, "code": 1.0, "verse": 0.0}  # t = 0: where it started
    clock.t += 0.5
    synced.morph_step()
    s = smoothstep(0.5)
    assert synced.weights == pytest.approx({"psalm": 0.5 * s, "code": 1 - s, "verse": s})
    clock.t += 0.1
    synced.on_hello(hello((1.0, 1.0, 1.0)))  # idle past the guard? no: a morph is local input too
    assert synced.weights == pytest.approx({"psalm": 0.5 * s, "code": 1 - s, "verse": s})
    clock.t += 5.0  # a stalled timer: the morph ends exactly at the preset, not beyond
    synced.morph_step()
    assert synced.weights == {"psalm": 0.5, "code": 0.0, "verse": 1.0} and not synced.morphing
    assert rec.log[-1] == ("morphing_changed", (False,))


def test_a_manual_move_cancels_a_morph(synced, clock):
    synced.presets.save(1, {"verse": 1.0})
    synced.control("preset_recall", 1)
    clock.t += 0.2
    synced.set_weights({"code": 0.3})
    assert not synced.morphing
    clock.t += 1.0
    synced.morph_step()  # a late timer tick does nothing
    assert synced.weights["code"] == 0.3


def test_presets_save_by_name_and_say_so(synced, tmp_path):
    rec = Recorder(synced)
    synced.set_enabled("code", False)
    synced.set_weights({"psalm": 0.25, "code": 0.9, "verse": 0.5})
    synced.control("preset_save", 2)
    assert PresetStore(tmp_path / "presets.json").get(2) == {"psalm": 0.25, "verse": 0.5}  # enabled styles only
    synced.control("preset_recall", 7)
    assert rec.log[-1] == ("message", ("preset 7 is empty (Ctrl+7 saves)",)) and not synced.morphing
    synced.presets.save(8, {"kant": 1.0})
    synced.control("preset_recall", 8)
    assert rec.log[-1] == ("message", ("preset 8: none of its styles are loaded",))


def test_a_zero_morph_time_jumps(synced):
    synced.morph_seconds = 0.0
    synced.presets.save(4, {"code": 1.0})
    synced.control("preset_recall", 4)
    assert not synced.morphing and synced.weights == {"psalm": 0.0, "code": 1.0, "verse": 0.0}


def test_autostart_gives_a_silent_gallery_equal_weights(perf):
    perf.on_hello(hello((0.0, 0.0, 0.0), enabled=(True, False, True)))
    rec = Recorder(perf)
    perf.autostart()
    assert rec.sent() == [("/tc/weights", 0.5, 0.0, 0.5), ("/tc/resume",)]
    rec.clear()
    perf.autostart()  # weights already there: only resume
    assert rec.sent() == [("/tc/resume",)]


# ---------------------------------------------------------------------------------------------
# The other Qt-free pieces the window renders from

def test_event_callbacks_may_disconnect_while_emitting():
    ev, got = Event("e"), []

    def once(x):
        got.append(("once", x))
        ev.disconnect(once)
    ev.connect(once)
    ev.connect(lambda x: got.append(("always", x)))
    ev.emit(1)
    ev.emit(2)
    ev.disconnect(once)  # not connected any more: ignored
    assert got == [("once", 1), ("always", 1), ("always", 2)] and len(ev) == 1


def tick(char: str, winner: int, n: int = 3) -> protocol.Tick:
    attr = np.zeros(n, np.float32)
    attr[winner] = 1.0
    return protocol.Tick(0, char, attr, np.zeros(4, np.float32), np.arange(n, dtype=np.int32),
                         np.zeros((n, 4), np.float32), np.full(n, 1 / n, np.float32))


def test_the_stream_tints_coalesces_and_replays_a_bounded_tail():
    s = TickStream(replay_chars=10)
    s.text_colours = ["#a", "#b", "#c"]
    s.add_ticks([tick("a", 0), tick("b", 0), tick("c", 1)])
    s.add_text("hi", "#fff")
    assert s.take_tick() is not None and s.take_tick() is None  # the bars draw the latest tick once
    assert s.take_runs() == [("ab", "#a"), ("c", "#b"), ("hi", "#fff")] and s.pending == []
    assert s.ticks_received == 3
    s.add_ticks([tick(c, 2) for c in "0123456789"])
    s.take_runs()
    assert s.replay() == [("0123456789", "#c")]  # older runs dropped once past the bound
    s.add_ticks([tick("z", 0, n=2)])  # a tick from another bank: no tint
    assert s.pending == [("z", None)]
    s.clear()
    assert s.pending == [] and s.replay() == []
