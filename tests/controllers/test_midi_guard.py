"""The loop guard as a MIDI target: `guard` toggles per press, `guard_strength` is a 0..1 fader with soft
takeover like temperature and rate. Real mido messages, no hardware (as test_midi_mapping.py)."""

from __future__ import annotations

import math

import mido
import pytest

from tests.fakes import RecordingSink
from textconductor.controllers.midi import (
    Action,
    Binding,
    MidiMap,
    Source,
    check_target,
    engine_targets,
)
from textconductor.controllers.midi.controller import engine_values
from textconductor.protocol.client import EngineClient
from textconductor.protocol.controls import CONTROLS
from textconductor.protocol.messages import Guards

STYLES = ["bible", "linux", "austen"]
GUARD_CC = Binding(Source("cc", None, 20), "guard")
GUARD_NOTE = Binding(Source("note", None, 40), "guard")
STRENGTH = Binding(Source("cc", None, 21), "guard_strength")


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)


def note(n: int, velocity: int = 100) -> mido.Message:
    return mido.Message("note_on", note=n, velocity=velocity)


TOGGLE = [Action("control", "guard")]  # no value: the sink toggles what the engine said

# (bindings, messages in order, the actions of each)
CASES = {
    "a pad toggles per press": ([GUARD_NOTE], [note(40), note(40, 0), note(40)], [TOGGLE, [], TOGGLE]),
    "a note_off is a release": ([GUARD_NOTE], [mido.Message("note_off", note=40)], [[]]),
    "a CC button toggles crossing up through 64": ([GUARD_CC], [cc(20, 127), cc(20, 127), cc(20, 0), cc(20, 100)],
                                                   [TOGGLE, [], [], TOGGLE]),
    "a CC below the middle does nothing": ([GUARD_CC], [cc(20, 63)], [[]]),
    "strength: bottom 0": ([STRENGTH], [cc(21, 0)], [[Action("control", "guard_strength", 0.0)]]),
    "strength: top 1": ([STRENGTH], [cc(21, 127)], [[Action("control", "guard_strength", 1.0)]]),
    "strength is linear, not log": ([STRENGTH], [cc(21, 64)], [[Action("control", "guard_strength", 64 / 127)]]),
    "strength with its own range": ([Binding(Source("cc", None, 21), "guard_strength", lo=0.5, hi=1.0)],
                                    [cc(21, 0)], [[Action("control", "guard_strength", 0.5)]]),
    "unbound, CC 20 is not a style": ([], [cc(20, 127)], [[]]),
}


@pytest.mark.parametrize(("bindings", "messages", "expected"), CASES.values(), ids=CASES.keys())
def test_guard_targets_table(bindings, messages, expected):
    m = MidiMap(bindings)
    for msg, want in zip(messages, expected, strict=True):
        got = m.translate(msg, STYLES)
        assert [(a.kind, a.name) for a in got] == [(a.kind, a.name) for a in want]
        for g, e in zip(got, want, strict=True):
            if isinstance(e.value, float):
                assert math.isclose(g.value, e.value, rel_tol=1e-9, abs_tol=1e-12)
            else:
                assert g.value == e.value


# Soft takeover of the strength fader: (engine's strength, fader positions, the last message's actions)
TAKEOVER = {
    "far from the value: held, and told which way": (0.8, [cc(21, 10)], [Action("held", "guard_strength", "up")]),
    "within two steps: picked up": (0.5, [cc(21, 64)], [Action("control", "guard_strength", 64 / 127)]),
    "crossing the value picks it up": (0.5, [cc(21, 40), cc(21, 90)], [Action("control", "guard_strength", 90 / 127)]),
    "no value known: acts at once": (None, [cc(21, 10)], [Action("control", "guard_strength", 10 / 127)]),
}


@pytest.mark.parametrize(("strength", "messages", "expected"), TAKEOVER.values(), ids=TAKEOVER.keys())
def test_strength_fader_soft_takeover(strength, messages, expected):
    m = MidiMap([STRENGTH])
    if strength is not None:
        m.observe(engine_targets({}, {"guard_strength": strength}), STYLES)
    for msg in messages:
        got = m.translate(msg, STYLES)
    assert [(a.kind, a.name) for a in got] == [(a.kind, a.name) for a in expected]
    for g, e in zip(got, expected, strict=True):
        assert g.value == (pytest.approx(e.value) if isinstance(e.value, float) else e.value)


def test_someone_elses_strength_change_is_fed_back():
    m = MidiMap([STRENGTH])
    fb = m.observe({"guard_strength": 0.25}, STYLES)
    assert [(f.control, f.value) for f in fb] == [(21, round(0.25 * 127))]


def test_targets_are_known_and_speak_the_control_vocabulary():
    for t in ("guard", "guard_strength"):
        assert check_target(t) == t
        assert t in CONTROLS  # the same word reaches every sink
    sink = RecordingSink()
    for msg, m in ((note(40), MidiMap([GUARD_NOTE])), (cc(21, 127), MidiMap([STRENGTH]))):
        for a in m.translate(msg, STYLES):
            a.apply(sink)
    assert sink.take() == [("control", "guard", None), ("control", "guard_strength", 1.0)]


def test_headless_values_include_what_the_engine_said_of_the_guard():
    """Over an engine client (midi command line), soft takeover learns the strength from /tc/guards."""
    client = EngineClient(STYLES)

    class Sink:  # a sink holding a client, as OscSink and EngineConnection do
        pass

    sink = Sink()
    sink.client = client  # type: ignore[attr-defined]
    values = engine_values(sink)
    assert values is not None and "guard_strength" not in values()
    client.receive(Guards(on=True, strength=0.3).encode())
    assert values()["guard_strength"] == pytest.approx(0.3)
    assert engine_targets({"a": 0.5}, {"temperature": 0.8, "mix": "linear"}) == {"style:a": 0.5, "temperature": 0.8}
