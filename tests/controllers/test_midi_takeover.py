"""Soft takeover (pickup) and MIDI feedback, table-driven on real mido messages; no hardware.

Three layers, as in the code: the pure state machine of one fader (`takeover.Pickup`), the pure
mapping (`MidiMap.translate` holding moves, `MidiMap.observe` answering with feedback), and the
port shell (`MidiController` with a fake output port, a fake backend, and an in-process engine).
The real-port version (JACK) is in test_midi_ports.py.
"""

from __future__ import annotations

import math
import threading
import time
import tomllib

import mido
import pytest

from tests.fakes import FakeClock, FakeEngine, RecordingSink, wait_for
from textconductor.controllers.midi import (
    PICKUP_TOLERANCE,
    Action,
    Binding,
    Feedback,
    FeedbackSender,
    MappingError,
    MappingStore,
    MidiController,
    MidiMap,
    Pickup,
    Source,
    engine_targets,
    engine_values,
)
from textconductor.controllers.midi import ports as midi_ports
from textconductor.controllers.osc_sink import OscSink
from textconductor.protocol.controls import ActivitySink

STYLES = ["bible", "linux", "austen"]
TOL = PICKUP_TOLERANCE


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)



# ---------------------------------------------------------------------------------------------
# The state machine of one fader: (event, expected) rows. obs(pos): the value is now pos -> True if
# someone else changed it (feed back); mv(pos): the fader moved -> True if the move acts; jump(pos):
# a move in jump mode. `by` names the physical control, `t` the time in seconds.

A, B = "fader A", "fader B"


def obs(pos: float, t: float = 0.0) -> tuple:
    return ("obs", pos, None, t)


def mv(pos: float, by: str = A, t: float = 0.0) -> tuple:
    return ("move", pos, by, t)


def jump(pos: float) -> tuple:
    return ("jump", pos, A, 0.0)


PICKUP_CASES = {
    "nothing known: acts at once": [(mv(0.2), True), (mv(0.9), True)],
    "far fader is held": [(obs(0.5), True), (mv(0.1), False), (mv(0.2), False)],
    "within tolerance picks up": [(obs(0.5), True), (mv(0.5 - TOL), True)],
    "just outside tolerance is held": [(obs(0.5), True), (mv(0.5 - TOL - 0.002), False)],
    "crossing upwards picks up": [(obs(0.5), True), (mv(0.3), False), (mv(0.6), True),
                                  (mv(0.1), True)],  # then it follows anywhere
    "crossing downwards picks up": [(obs(0.5), True), (mv(0.9), False), (mv(0.45), True)],
    "first message far: no crossing known": [(obs(0.5), True), (mv(0.9), False)],
    "moving away stays held": [(obs(0.5), True), (mv(0.3), False), (mv(0.2), False), (mv(0.1), False)],
    "someone else's change drops pickup": [(obs(0.5), True), (mv(0.5), True), (mv(0.6), True),
                                           (obs(0.2), True), (mv(0.61), False), (mv(0.19), True)],
    "own late echo keeps pickup, not fed back": [(obs(0.5), True), (mv(0.5), True), (mv(0.55), True),
                                                 (mv(0.6), True), (obs(0.55), False), (mv(0.62), True)],
    "the value it took over from, reported late, is no change": [(obs(0.5), True), (mv(0.3), False),
                                                                 (mv(0.6), True), (mv(0.7), True),
                                                                 (obs(0.5), False), (mv(0.75), True)],
    "a late echo does not undo someone else's change": [(obs(0.5), True), (mv(0.5), True), (mv(0.6), True),
                                                        (obs(0.3), True), (obs(0.6), False), (mv(0.61), False),
                                                        (mv(0.29), True)],
    "the fader's old value from a preset long after is news": [(obs(0.5), True), (mv(0.5, t=1.0), True),
                                                               (mv(0.6, t=1.0), True), (mv(0.7, t=1.0), True),
                                                               (obs(0.9, t=5.0), True), (obs(0.6, t=5.1), True),
                                                               (mv(0.68, t=5.2), False), (mv(0.59, t=5.3), True)],
    "change to where the fader stands keeps pickup": [(obs(0.5), True), (mv(0.5), True), (mv(0.7), True),
                                                      (obs(0.71), True), (mv(0.72), True)],
    "the same value again is no change": [(obs(0.5), True), (obs(0.5), False), (obs(0.50001), False)],
    "jump mode acts anywhere": [(obs(0.5), True), (jump(0.1), True), (obs(0.1), False)],
    "another control starts unpicked": [(obs(0.5), True), (mv(0.5, A), True), (mv(0.9, B), False),
                                        (mv(0.4, B), True)],
}


@pytest.mark.parametrize("events", PICKUP_CASES.values(), ids=PICKUP_CASES.keys())
def test_pickup_state_machine(events):
    p = Pickup()
    for (op, pos, by, t), expected in events:
        if op == "obs":
            got = p.observe(pos, now=t)
        else:
            got = p.move(pos, by=by, jump=op == "jump", now=t)
        assert got == expected, (op, pos, t, p)


@pytest.mark.parametrize(("value", "fader", "direction"), [(0.5, 0.1, "up"), (0.5, 0.9, "down")])
def test_held_fader_says_which_way(value, fader, direction):
    p = Pickup()
    p.observe(value)
    p.move(fader)
    assert p.direction() == direction
    p.move(value)
    assert p.direction() == ""


# ---------------------------------------------------------------------------------------------
# The mapping: engine values (by target) + messages -> actions. (bindings, takeover, values,
# messages, actions of the last message); earlier messages set the fader's previous position.

def held(target: str, way: str) -> list[Action]:
    return [Action("held", target, way)]


T_HALF = math.sqrt(0.1 * 2.0)  # temperature at the middle of a 0.1..2 log fader
TAKEOVER_CASES = {
    "positional far: held": ([], "pickup", {"style:bible": 0.5}, [cc(0, 10)], held("style:bible", "up")),
    "positional crossing: acts": ([], "pickup", {"style:bible": 0.5}, [cc(0, 10), cc(0, 70)],
                                  [Action("weights", value={"bible": 70 / 127})]),
    "positional near: acts": ([], "pickup", {"style:linux": 0.5}, [cc(1, 64)],
                              [Action("weights", value={"linux": 64 / 127})]),
    "device in jump mode: acts": ([], "jump", {"style:bible": 0.5}, [cc(0, 10)],
                                  [Action("weights", value={"bible": 10 / 127})]),
    "no value known: acts": ([], "pickup", {}, [cc(0, 10)], [Action("weights", value={"bible": 10 / 127})]),
    "other styles' values do not matter": ([], "pickup", {"style:linux": 0.9}, [cc(0, 10)],
                                           [Action("weights", value={"bible": 10 / 127})]),
    "learned style fader: held": ([Binding(Source("cc", None, 7), "style:austen")], "pickup", {"style:austen": 0.0},
                                  [cc(7, 127)], held("style:austen", "down")),
    "binding in jump mode on a pickup device": ([Binding(Source("cc", None, 7), "style:austen", takeover="jump")],
                                                "pickup", {"style:austen": 0.0}, [cc(7, 127)],
                                                [Action("weights", value={"austen": 1.0})]),
    "binding in pickup mode on a jump device": ([Binding(Source("cc", None, 7), "style:austen", takeover="pickup")],
                                                "jump", {"style:austen": 0.0}, [cc(7, 127)],
                                                held("style:austen", "down")),
    "temperature, log scale: held": ([Binding(Source("cc", None, 16), "temperature")], "pickup",
                                     {"temperature": T_HALF}, [cc(16, 20)], held("temperature", "up")),
    "temperature, log scale: the middle picks up": ([Binding(Source("cc", None, 16), "temperature")], "pickup",
                                                    {"temperature": T_HALF}, [cc(16, 64)],
                                                    [Action("control", "temperature", 0.1 * 20 ** (64 / 127))]),
    "temperature below the fader's range: the bottom picks up": (
        [Binding(Source("cc", None, 16), "temperature")], "pickup", {"temperature": 0.05}, [cc(16, 0)],
        [Action("control", "temperature", 0.1)]),
    "rate 0 (unthrottled) sits at the bottom": ([Binding(Source("cc", None, 17), "rate")], "pickup",
                                                {"rate": 0.0}, [cc(17, 127)], held("rate", "down")),
    "own range: 5..30 at 30 is the top": ([Binding(Source("cc", None, 17), "rate", lo=5.0, hi=30.0)], "pickup",
                                          {"rate": 30.0}, [cc(17, 126)],
                                          [Action("control", "rate", 5 * 6 ** (126 / 127))]),
    "a note on a style is a hit, never held": ([Binding(Source("note", None, 48), "style:linux")], "pickup",
                                               {"style:linux": 0.5}, [mido.Message("note_on", note=48, velocity=10)],
                                               [Action("weights", value={"linux": 10 / 127})]),
    "mix is a switch, never held": ([Binding(Source("cc", None, 5), "mix")], "pickup", {"style:bible": 0.5},
                                    [cc(5, 100)], [Action("control", "mix", "product")]),
}


@pytest.mark.parametrize(("bindings", "takeover", "values", "messages", "expected"), TAKEOVER_CASES.values(),
                         ids=TAKEOVER_CASES.keys())
def test_takeover_table(bindings, takeover, values, messages, expected):
    m = MidiMap(bindings, takeover=takeover)
    m.observe(values, STYLES)
    for msg in messages:
        got = m.translate(msg, STYLES)
    assert [(a.kind, a.name) for a in got] == [(a.kind, a.name) for a in expected]
    for g, e in zip(got, expected, strict=True):
        if isinstance(e.value, float):
            assert math.isclose(g.value, e.value, rel_tol=1e-9)
        elif isinstance(e.value, dict):
            assert g.value == pytest.approx(e.value)
        else:
            assert g.value == e.value


def test_preset_drops_pickup_and_the_fader_must_pass_again():
    """The issue's check: no jump when the fader is far from the current value; takeover when it passes."""
    m = MidiMap()
    m.observe({"style:bible": 0.2}, STYLES)
    assert m.translate(cc(0, 25), STYLES)[0].kind == "weights"  # 0.197: within tolerance, picked up
    for v in (40, 60, 80):
        (a,) = m.translate(cc(0, v), STYLES)
        assert a == Action("weights", value={"bible": v / 127})
    m.observe({"style:bible": 80 / 127}, STYLES)  # the engine echoes the fader: still picked up
    m.observe({"style:bible": 0.9}, STYLES)  # a preset (morph, autopilot, score) moves the style
    sent = [m.translate(cc(0, v), STYLES) for v in (82, 90, 100, 110)]  # the fader goes on from 80
    assert all(a[0].kind == "held" for a in sent)  # no jump to 0.65-0.87 under the preset's 0.9
    assert m.waiting() == {"style:bible": "up"}
    (a,) = m.translate(cc(0, 117), STYLES)  # 0.921: passes 0.9
    assert a == Action("weights", value={"bible": 117 / 127}) and m.waiting() == {}


# ---------------------------------------------------------------------------------------------
# Feedback: (bindings, messages seen first, enabled styles, values, feedback expected).

FEEDBACK_CASES = {
    "positional style": ([], [], STYLES, {"style:linux": 1.0}, [Feedback(0, 1, 127)]),
    "disabled style: no positional CC": ([], [], ["bible", "austen"], {"style:linux": 1.0}, []),
    "positional CC on the channel it came from": ([], [cc(2, 0, channel=9)], STYLES, {"style:austen": 0.5},
                                                  [Feedback(9, 2, 64)]),
    "learned CC on its channel": ([Binding(Source("cc", 3, 20), "style:austen")], [], STYLES,
                                  {"style:austen": 0.25}, [Feedback(3, 20, 32), Feedback(0, 2, 32)]),
    "learned CC replaces the positional one": ([Binding(Source("cc", None, 1), "temperature")], [], STYLES,
                                               {"style:linux": 0.5}, []),
    "any-channel binding: the channel last seen": ([Binding(Source("cc", None, 21), "rate")],
                                                   [cc(21, 5, channel=5)], STYLES, {"rate": 60.0},
                                                   [Feedback(5, 21, 127)]),
    "temperature on its log scale": ([Binding(Source("cc", 0, 16), "temperature")], [], STYLES,
                                     {"temperature": T_HALF}, [Feedback(0, 16, 64)]),
    "notes get no feedback": ([Binding(Source("note", 0, 36), "style:bible")], [], [], {"style:bible": 1.0}, []),
    "values nobody drives": ([], [], STYLES, {"style:other": 1.0, "temperature": 1.0, "mix": "product"}, []),
    "odd values are skipped": ([], [], STYLES, {"style:bible": float("nan"), "style:linux": "x"}, []),
}


@pytest.mark.parametrize(("bindings", "seen", "enabled", "values", "expected"), FEEDBACK_CASES.values(),
                         ids=FEEDBACK_CASES.keys())
def test_feedback_table(bindings, seen, enabled, values, expected):
    m = MidiMap(bindings, takeover="jump")  # the messages seen must not be held
    for msg in seen:
        m.translate(msg, enabled)
    assert sorted(m.observe(values, enabled), key=repr) == sorted(expected, key=repr)


def test_feedback_never_echoes_the_faders_own_moves():
    m = MidiMap()
    assert m.observe({"style:bible": 0.5}, STYLES) == [Feedback(0, 0, 64)]  # first learned: shown
    assert m.observe({"style:bible": 0.5}, STYLES) == []  # unchanged
    for v in (64, 70, 80, 90):
        m.translate(cc(0, v), STYLES)
    for v in (70, 90, 80):  # the engine's reports, late and out of order
        assert m.observe({"style:bible": v / 127}, STYLES) == []
    assert m.observe({"style:bible": 0.1}, STYLES) == [Feedback(0, 0, 13)]  # someone else's change
    assert sorted(m.feedback_all(STYLES), key=repr) == [Feedback(0, 0, 13)]


def test_engine_targets():
    assert engine_targets({"a": 0.5}, {"temperature": 0.8, "rate": 20, "mix": "linear"}) == {
        "style:a": 0.5, "temperature": 0.8, "rate": 20.0}


def test_unknown_takeover_mode_is_refused():
    with pytest.raises(MappingError):
        MidiMap(takeover="soft")
    with pytest.raises(MappingError):
        MidiMap().bind(Source("cc", None, 1), "rate", takeover="scale")


# ---------------------------------------------------------------------------------------------
# The mapping file.

def test_store_round_trip_takeover_and_feedback(tmp_path):
    store = MappingStore(tmp_path / "midi.toml")
    m = MidiMap([Binding(Source("cc", 0, 7), "temperature", takeover="jump"),
                 Binding(Source("cc", None, 8), "style:bible")], takeover="pickup", feedback=True)
    store.save("X-Touch Mini", m)
    store.save("Pads", MidiMap(takeover="jump", feedback="Pads LEDs"))
    data = tomllib.loads(store.path.read_text())["devices"]
    assert data["X-Touch Mini"]["takeover"] == "pickup" and data["X-Touch Mini"]["feedback"] is True
    assert {"kind": "cc", "channel": 1, "number": 7, "target": "temperature", "takeover": "jump"} in (
        data["X-Touch Mini"]["bindings"])
    assert "takeover" not in data["X-Touch Mini"]["bindings"][1]  # the device's mode: not written per binding
    back = store.load("X-Touch Mini")
    assert sorted(back.bindings, key=repr) == sorted(m.bindings, key=repr)
    assert (back.takeover, back.feedback) == ("pickup", True)
    pads = store.load("Pads")
    assert (pads.takeover, pads.feedback) == ("jump", "Pads LEDs")
    text = store.path.read_text()
    for device in ("X-Touch Mini", "Pads"):
        store.save(device, store.load(device))
    assert store.path.read_text() == text  # writer and reader agree


def test_old_file_without_the_fields_loads_with_pickup(tmp_path):
    path = tmp_path / "midi.toml"
    path.write_text('[devices."nanoKONTROL2"]\npositional = true\nbindings = [\n'
                    '  { kind = "cc", channel = 1, number = 16, target = "temperature" },\n]\n')
    m = MappingStore(path).load("nanoKONTROL2")
    assert (m.takeover, m.feedback) == ("pickup", False)
    assert m.bindings == [Binding(Source("cc", 0, 16), "temperature")]


def test_bad_takeover_entries_are_skipped_with_a_warning(tmp_path, caplog):
    path = tmp_path / "midi.toml"
    path.write_text('[devices."dev"]\ntakeover = "scale"\nfeedback = 3\nbindings = [\n'
                    '  { kind = "cc", number = 7, target = "temperature", takeover = "soft" },\n'
                    '  { kind = "cc", number = 8, target = "rate", takeover = "jump" },\n]\n')
    m = MappingStore(path).load("dev")
    assert (m.takeover, m.feedback) == ("pickup", False)
    assert m.bindings == [Binding(Source("cc", None, 8), "rate", takeover="jump")]
    assert "skipped a bad binding" in caplog.text and "unknown takeover mode 'scale'" in caplog.text
    assert "feedback must be" in caplog.text


# ---------------------------------------------------------------------------------------------
# The controller: values from the engine, held moves, feedback to a port.

class Values:
    """A value source a test moves by hand (the engine, as the controller sees it)."""

    def __init__(self, **values: float) -> None:
        self.values = {k.replace("__", ":"): v for k, v in values.items()}

    def __call__(self) -> dict[str, float]:
        return dict(self.values)


def test_controller_holds_far_faders_and_counts_them_as_input():
    seen_input = []
    sink = RecordingSink(STYLES)
    ctl = MidiController(values=Values(style__bible=0.5))
    ctl._sink = ActivitySink(sink, lambda **kw: seen_input.append(kw))
    assert [a.kind for a in ctl.handle(cc(0, 10))] == ["held"]
    assert sink.take() == [] and ctl.held == 1
    assert len(seen_input) == 1  # the autopilot stops while the performer reaches for the value
    ctl.handle(cc(0, 80))  # crosses 0.5
    assert sink.take() == [("weights", {"bible": pytest.approx(80 / 127)})]


def test_controller_loses_pickup_when_the_value_moves_elsewhere():
    vals = Values(style__linux=0.5)
    ctl = MidiController(values=vals)
    ctl._sink = sink = RecordingSink(STYLES)
    ctl.handle(cc(1, 64))
    ctl.handle(cc(1, 70))
    assert len(sink.take()) == 2
    vals.values["style:linux"] = 70 / 127  # the echo: still ours
    ctl.handle(cc(1, 72))
    assert len(sink.take()) == 1
    vals.values["style:linux"] = 0.0  # a preset
    ctl.handle(cc(1, 74))
    assert sink.take() == []


def test_engine_values_are_found_behind_wrappers():
    conn = OscSink("127.0.0.1", 9, ping=False)  # send-only: no engine needed
    try:
        values = engine_values(ActivitySink(ActivitySink(conn, lambda **kw: None), lambda **kw: None))
        assert values is not None and values() == {}
        conn.set_weights({"bible": 0.25})
        conn.control("temperature", 0.7)
        assert values() == {"style:bible": 0.25, "temperature": pytest.approx(0.7)}
    finally:
        conn.close()
    assert engine_values(RecordingSink(STYLES)) is None


class FakeOut:
    def __init__(self) -> None:
        self.sent: list[mido.Message] = []
        self.closed = False

    def send(self, msg: mido.Message) -> None:
        self.sent.append(msg)

    def close(self) -> None:
        self.closed = True

    def take(self) -> list[tuple[int, int, int]]:
        out, self.sent = self.sent, []
        return [(m.channel, m.control, m.value) for m in out]


def test_sender_rate_limits_per_control_and_keeps_the_newest():
    clock, out = FakeClock(), FakeOut()
    s = FeedbackSender(out, min_interval_s=0.04, clock=clock)
    s.offer([Feedback(0, 1, 10), Feedback(0, 2, 20)])
    assert s.flush() is None and out.take() == [(0, 1, 10), (0, 2, 20)]
    s.offer([Feedback(0, 1, 11)])
    s.offer([Feedback(0, 1, 12)])  # newer value while waiting: only this one goes
    assert s.flush() == pytest.approx(0.04) and out.take() == []
    clock.t += 0.04
    assert s.flush() is None and out.take() == [(0, 1, 12)]
    clock.t += 1
    s.offer([Feedback(0, 1, 12)])  # shown already
    s.offer([Feedback(0, 2, 5), Feedback(0, 2, 20)])  # changed and changed back before sending
    s.flush()
    assert out.take() == []
    s.seen(0, 2, 90)  # the performer moved that fader by hand
    s.offer([Feedback(0, 2, 20)])
    s.flush()
    assert out.take() == [(0, 2, 20)]
    s.forget()  # re-plugged: it shows nothing we know of
    s.offer([Feedback(0, 2, 20)])
    s.flush()
    assert out.take() == [(0, 2, 20)]


class Backend:
    """Inputs and outputs of a fake mido backend (the one seam, `ports._backend`)."""

    def __init__(self, inputs: list[str], outputs: list[str]) -> None:
        self.inputs, self.outputs = inputs, outputs
        self.callbacks: dict[str, object] = {}
        self.out_ports: dict[str, FakeOut] = {}

    def get_input_names(self):
        return list(self.inputs)

    def get_output_names(self):
        return list(self.outputs)

    def open_input(self, name, callback=None):
        self.callbacks[name] = callback
        return FakeOut()  # anything with close()

    def open_output(self, name):
        if name not in self.outputs:
            raise OSError(f"no port {name}")
        self.out_ports[name] = port = FakeOut()
        return port


@pytest.fixture
def backend(monkeypatch):
    b = Backend(["Midi Through:Midi Through Port-0 14:0", "X-Touch Mini:X-Touch Mini MIDI 1 20:0"],
                ["Midi Through:Midi Through Port-0 14:0", "X-Touch Mini:X-Touch Mini MIDI 1 20:0"])
    monkeypatch.setattr(midi_ports, "_backend", lambda api=None: b)
    return b


def test_feedback_port_of_the_same_device_shows_others_changes_only(backend, tmp_path):
    vals = Values(style__bible=0.5, style__linux=0.0)
    ctl = MidiController(values=vals, feedback=True, store=MappingStore(tmp_path / "m.toml"))
    ctl._sink = RecordingSink(STYLES)
    ctl.poll()
    assert ctl.feedback_port == "X-Touch Mini:X-Touch Mini MIDI 1 20:0"
    assert "feedback to X-Touch Mini" in ctl.status
    out = backend.out_ports[ctl.feedback_port]
    assert sorted(out.take()) == [(0, 0, 64), (0, 1, 0)]  # on plugging in: where everything is
    ctl._out.min_interval_s = 0  # the rate limit has its own test
    move = backend.callbacks[ctl.port_name]
    for v in (64, 80, 100):
        move(cc(0, v))
    vals.values["style:bible"] = 80 / 127  # the engine echoes the fader, late
    ctl._refresh()
    ctl._out.flush()
    assert out.take() == []  # never sent back: a motor fader would fight the hand
    vals.values["style:linux"] = 0.75  # a preset moves linux
    ctl._refresh()
    ctl._out.flush()
    assert out.take() == [(0, 1, 95)]
    ctl.stop()
    assert out.closed


def test_feedback_from_the_mapping_file_and_a_missing_port(backend, tmp_path, caplog):
    store = MappingStore(tmp_path / "m.toml")
    store.save("X-Touch Mini:X-Touch Mini MIDI 1", MidiMap(feedback="LED ring"))
    ctl = MidiController(values=Values(), store=store)
    ctl._sink = RecordingSink(STYLES)
    ctl.poll()
    assert ctl.feedback_port is None and "no feedback port" in ctl.status
    assert "no output port 'LED ring'" in caplog.text
    backend.outputs.append("LED ring 30:0")
    ctl._feedback_retry_at = 0  # the next look (every 5 s) is due
    ctl.poll()
    assert ctl.feedback_port == "LED ring 30:0" and "feedback to LED ring" in ctl.status


def test_no_feedback_unless_asked(backend):
    ctl = MidiController(values=Values(style__bible=0.5))
    ctl._sink = RecordingSink(STYLES)
    ctl.poll()
    assert ctl.port_name is not None and ctl.feedback_port is None and backend.out_ports == {}


# ---------------------------------------------------------------------------------------------
# End to end: the controller's threads, OscSink and an engine on loopback.

def test_end_to_end_pickup_against_an_engine(backend):
    engine = FakeEngine(STYLES, weights=[0.5, 0.0, 0.0])
    sink = OscSink("127.0.0.1", engine.port)
    ctl = MidiController(feedback=True, feedback_hz=50)
    try:
        assert sink.wait_for_engine(5)
        ctl.start(sink)  # finds the engine client behind the sink by itself
        assert wait_for(lambda: ctl.feedback_port is not None)
        out = backend.out_ports[ctl.feedback_port]
        assert wait_for(lambda: (0, 0, 64) in [(m.channel, m.control, m.value) for m in out.sent])
        move = backend.callbacks[ctl.port_name]
        for v in (0, 20, 40, 60):  # below the engine's 0.5: held, nothing reaches the engine
            move(cc(0, v))
        assert ctl.held == 4
        move(cc(0, 70))  # passes 0.5
        (cmd,) = engine.take(1)
        assert cmd.name == "weight" and cmd.args == ("bible", pytest.approx(70 / 127))
        engine.start_weights[0] = cmd.args[1]  # what its next hello says (the fake keeps no state)
        other = threading.Thread(target=lambda: sink.set_weights({"bible": 0.1}))  # e.g. the autopilot
        other.start()
        other.join()
        engine.take(1)
        engine.start_weights[0] = 0.1
        move(cc(0, 72))  # the fader is far from 0.1 now: held
        time.sleep(0.1)
        assert engine.wait_commands(1, timeout=0.3) == []
        assert wait_for(lambda: (0, 0, 13) in [(m.channel, m.control, m.value) for m in out.sent])
        move(cc(0, 10))  # passes 0.1 downwards
        (cmd,) = engine.take(1)
        assert cmd.args == ("bible", pytest.approx(10 / 127))
    finally:
        ctl.stop()
        sink.close()
        engine.close()


def test_bench_midi_smoke():
    """The benchmark's own checks on a short run: no held move reaches the engine, no jump at takeover."""
    from textconductor.tools.bench_midi import bench_midi, report
    results = bench_midi(rounds=3, seed=1, interval_s=0.001)
    pickup, jump = results
    assert pickup.leaked == 0 and pickup.lost == 0 and jump.lost == 0
    assert len(pickup.takeover_steps) == 3 and max(pickup.takeover_steps) <= 2.01  # tolerance or one crossing step
    assert pickup.held_s and pickup.effect_s and jump.effect_s and not jump.held_s
    assert "median" in report(results)
