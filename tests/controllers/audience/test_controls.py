"""The performer's switch without the window: the control vocabulary ('crowd', 'crowd_blend'), the
headless client's datagrams, and MIDI bindings that drive them."""

from __future__ import annotations

import math

import mido
import numpy as np
import pytest

from textconductor.controllers.midi.mapping import Binding, MidiMap, Source, check_target
from textconductor.protocol import EngineClient, parse_packet
from textconductor.protocol.controls import CONTROLS, crowd_control
from textconductor.protocol.messages import CrowdState


def test_crowd_control_rules():
    assert {"crowd", "crowd_blend"} <= set(CONTROLS)
    assert crowd_control("off", 0.5, "crowd", None) == ("blend", 0.5)  # a button cycles
    assert crowd_control("blend", 0.5, "crowd", None) == ("crowd", 0.5)
    assert crowd_control("crowd", 0.5, "crowd", None) == ("off", 0.5)
    assert crowd_control("off", 0.5, "crowd", "crowd") == ("crowd", 0.5)
    assert crowd_control("off", 0.5, "crowd", 1) == ("blend", 0.5)
    assert crowd_control("crowd", 0.5, "crowd_blend", 0.2) == ("crowd", 0.2)  # a fader keeps the mode
    assert crowd_control("blend", 0.5, "crowd_blend", 7) == ("blend", 1.0)
    for bad in (3, -1, "everyone"):
        with pytest.raises(ValueError):
            crowd_control("off", 0.5, "crowd", bad)
    with pytest.raises(ValueError):
        crowd_control("off", 0.5, "crowd_blend", math.nan)


def test_client_sends_crowd_mode_and_follows_the_engine():
    c = EngineClient(["a", "b"])
    (dgram,) = c.control("crowd")
    assert [cmd.args for cmd in parse_packet(dgram)] == [("blend", 0.5)]
    (dgram,) = c.control("crowd_blend", 0.25)
    assert [cmd.args for cmd in parse_packet(dgram)] == [("blend", 0.25)]
    c._sent_at.clear()  # long ago: the engine's report wins
    c.receive(CrowdState("crowd", 0.75, np.zeros(2, np.float32)).encode())
    (dgram,) = c.control("crowd")
    assert [cmd.args for cmd in parse_packet(dgram)] == [("off", 0.75)]


def test_midi_drives_the_crowd():
    assert check_target("crowd") == "crowd" and check_target("crowd_blend") == "crowd_blend"
    m = MidiMap([Binding(Source("note", None, 60), "crowd"), Binding(Source("cc", None, 20), "crowd_blend")],
                positional=False)
    acts = m.translate(mido.Message("note_on", note=60, velocity=100), [])
    assert [(a.kind, a.name, a.value) for a in acts] == [("control", "crowd", None)]
    acts = m.translate(mido.Message("control_change", control=20, value=127), [])
    assert [(a.kind, a.name) for a in acts] == [("control", "crowd_blend")] and acts[0].value == pytest.approx(1.0)
