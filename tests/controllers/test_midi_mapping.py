"""MIDI mapping, learn and persistence, with real mido messages (no hardware, no backend)."""

from __future__ import annotations

import math
import tomllib

import mido
import pytest

from tests.fakes import RecordingSink
from textconductor.controllers.midi import (
    Action,
    Binding,
    MappingError,
    MappingStore,
    MidiController,
    MidiMap,
    Source,
    check_target,
    device_key,
    resolve_port,
)

STYLES = ["bible", "linux", "austen"]


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)


def note(n: int, velocity: int = 100, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", channel=channel, note=n, velocity=velocity)


def note_off(n: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", channel=channel, note=n)


def program(p: int, channel: int = 0) -> mido.Message:
    return mido.Message("program_change", channel=channel, program=p)


# (bindings, message, expected actions) with the enabled styles STYLES.
DEFAULT_CASES = [
    ([], cc(0, 127), [Action("weights", value={"bible": 1.0})]),
    ([], cc(1, 0), [Action("weights", value={"linux": 0.0})]),
    ([], cc(2, 64, channel=9), [Action("weights", value={"austen": 64 / 127})]),  # any channel
    ([], cc(3, 100), []),  # only 3 enabled styles
    ([], cc(123, 0), []),  # "all notes off" is never a fader
    ([], program(0), [Action("control", "preset_recall", 1)]),
    ([], program(8), [Action("control", "preset_recall", 9)]),
    ([], program(9), []),
    ([], note(60), []),  # notes do nothing until bound
    ([], mido.Message("pitchwheel", pitch=100), []),
    ([], mido.Message("clock"), []),
    ([], mido.Message("sysex", data=[1, 2, 3]), []),
]

BOUND_CASES = [
    ([Binding(Source("cc", None, 7), "style:austen")], cc(7, 127), [Action("weights", value={"austen": 1.0})]),
    # explicit binding wins over the positional default of CC 0
    ([Binding(Source("cc", None, 0), "temperature")], cc(0, 0), [Action("control", "temperature", 0.1)]),
    ([Binding(Source("cc", None, 0), "temperature")], cc(0, 127), [Action("control", "temperature", 2.0)]),
    ([Binding(Source("cc", None, 0), "rate")], cc(0, 127), [Action("control", "rate", 60.0)]),
    ([Binding(Source("cc", None, 0), "rate", lo=5, hi=20)], cc(0, 0), [Action("control", "rate", 5.0)]),
    ([Binding(Source("cc", None, 5), "mix")], cc(5, 100), [Action("control", "mix", "product")]),
    ([Binding(Source("cc", None, 5), "mix")], cc(5, 10), [Action("control", "mix", "linear")]),
    ([Binding(Source("note", None, 36), "pause")], note(36), [Action("control", "toggle_pause")]),
    ([Binding(Source("note", None, 36), "pause")], note(36, velocity=0), []),  # note_on 0 = release
    ([Binding(Source("note", None, 36), "pause")], note_off(36), []),
    ([Binding(Source("note", None, 37), "reset")], note(37), [Action("control", "reset")]),
    ([Binding(Source("note", None, 40), "keep")], note(40), [Action("control", "keep")]),  # a pad
    ([Binding(Source("note", None, 40), "keep")], note_off(40), []),
    ([Binding(Source("cc", None, 64), "reject")], cc(64, 127), [Action("control", "reject")]),
    ([Binding(Source("note", None, 38), "preset:3")], note(38), [Action("control", "preset_recall", 3)]),
    ([Binding(Source("note", None, 39), "preset_save:3")], note(39), [Action("control", "preset_save", 3)]),
    ([Binding(Source("program", None, 4), "preset:7")], program(4), [Action("control", "preset_recall", 7)]),
    ([Binding(Source("note", None, 48), "style:linux")], note(48, 127), [Action("weights", value={"linux": 1.0})]),
    ([Binding(Source("note", None, 48), "style:linux")], note_off(48), [Action("weights", value={"linux": 0.0})]),
    # channel-specific binding: only that channel; other channels fall back to the default
    ([Binding(Source("cc", 1, 0), "temperature")], cc(0, 127, channel=1), [Action("control", "temperature", 2.0)]),
    ([Binding(Source("cc", 1, 0), "temperature")], cc(0, 127, channel=2), [Action("weights", value={"bible": 1.0})]),
]


@pytest.mark.parametrize(("bindings", "msg", "expected"), DEFAULT_CASES + BOUND_CASES,
                         ids=[f"{i}-{c[1].type}" for i, c in enumerate(DEFAULT_CASES + BOUND_CASES)])
def test_translate_table(bindings, msg, expected):
    got = MidiMap(bindings).translate(msg, STYLES)
    assert [(a.kind, a.name) for a in got] == [(a.kind, a.name) for a in expected]
    for g, e in zip(got, expected, strict=True):
        if isinstance(e.value, float):
            assert math.isclose(g.value, e.value, rel_tol=1e-9)
        elif isinstance(e.value, dict):
            assert g.value.keys() == e.value.keys()
            assert all(math.isclose(g.value[k], e.value[k]) for k in e.value)
        else:
            assert g.value == e.value


def test_temperature_is_log_scaled_midpoint():
    m = MidiMap([Binding(Source("cc", None, 0), "temperature")])
    (a,) = m.translate(cc(0, 64), STYLES)
    assert math.isclose(a.value, 0.1 * 20 ** (64 / 127))  # geometric, not arithmetic, midpoint
    assert 0.4 < a.value < 0.5


def test_cc_button_acts_on_press_only():
    """A momentary CC button sends 127 then 0: one toggle per press, none on release or repeats."""
    m = MidiMap([Binding(Source("cc", None, 41), "pause")])
    seq = [cc(41, 127), cc(41, 127), cc(41, 0), cc(41, 127), cc(41, 0)]
    acts = [m.translate(msg, STYLES) for msg in seq]
    assert [len(a) for a in acts] == [1, 0, 0, 1, 0]


def test_positional_off_ignores_unbound():
    m = MidiMap(positional=False)
    assert m.translate(cc(0, 127), STYLES) == []
    assert m.translate(program(0), STYLES) == []


def test_binding_replaces_old_source_of_target_and_old_target_of_source():
    m = MidiMap()
    m.bind(Source("cc", 0, 1), "temperature")
    m.bind(Source("cc", 0, 2), "temperature")  # re-learn: the new knob replaces the old one
    assert [b.source.number for b in m.bindings] == [2]
    m.bind(Source("cc", 0, 2), "rate")  # the same knob now drives rate only
    assert [(b.source.number, b.target) for b in m.bindings] == [(2, "rate")]


@pytest.mark.parametrize("target", ["style:", "tempo", "preset:0", "preset:10", "preset:x", "style:" + "x" * 65])
def test_bad_targets_are_refused(target):
    with pytest.raises(MappingError):
        check_target(target)


@pytest.mark.parametrize("target", ["style:bible", "temperature", "rate", "mix", "pause", "reset", "preset:1",
                                    "preset_save:9"])
def test_good_targets(target):
    assert check_target(target) == target


# ---------------------------------------------------------------------------------------------
# Learn through the controller's message handler (the same function rtmidi calls).

def test_learn_binds_next_moved_control_and_consumes_it(tmp_path):
    sink = RecordingSink(STYLES)
    learned = []
    ctl = MidiController(store=MappingStore(tmp_path / "midi.toml"), on_learned=lambda t, b: learned.append((t, b)))
    ctl._sink = sink  # the port shell is tested with JACK; here only the message path
    ctl.arm("temperature")
    assert ctl.armed == "temperature"
    ctl.handle(note(60, velocity=0))  # a release is not a move
    assert ctl.armed == "temperature"
    ctl.handle(cc(21, 90, channel=3))
    assert ctl.armed is None
    assert sink.take() == []  # the learning move is not applied
    assert [(t, b.source) for t, b in learned] == [("temperature", Source("cc", 3, 21))]
    ctl.handle(cc(21, 127, channel=3))
    assert sink.take() == [("control", "temperature", pytest.approx(2.0))]
    ctl.handle(cc(21, 127, channel=4))  # another channel: CC 21 is beyond the styles, nothing
    assert sink.take() == []


def test_cancel_disarms():
    ctl = MidiController()
    ctl._sink = sink = RecordingSink(STYLES)
    ctl.arm("style:linux")
    ctl.cancel()
    ctl.handle(cc(0, 127))
    assert sink.take() == [("weights", {"bible": 1.0})]
    assert ctl.mapping.bindings == []


def test_arm_refuses_unknown_target():
    with pytest.raises(MappingError):
        MidiController().arm("volume")


def test_raising_sink_and_callback_do_not_escape(caplog):
    """Messages arrive on rtmidi's thread: a failure there is logged and the next message still works."""
    class Broken(RecordingSink):
        def set_weights(self, weights):
            raise RuntimeError("frontend bug")

    ctl = MidiController(on_learned=lambda t, b: 1 / 0)
    ctl._sink = sink = Broken(STYLES)
    assert ctl.handle(cc(0, 127)) == []  # raised inside: swallowed and logged
    assert "frontend bug" in caplog.text
    ctl.arm("temperature")
    ctl.handle(cc(9, 1))  # the learn callback raises ZeroDivisionError: logged, binding kept
    assert "ZeroDivisionError" in caplog.text or "division" in caplog.text
    assert [b.target for b in ctl.mapping.bindings] == ["temperature"]
    ctl.handle(cc(9, 127))
    assert sink.take() == [("control", "temperature", pytest.approx(2.0))]


# ---------------------------------------------------------------------------------------------
# Persistence.

def test_store_round_trip_keeps_other_devices(tmp_path):
    path = tmp_path / "conf" / "midi.toml"
    store = MappingStore(path)
    a = MidiMap([Binding(Source("cc", 0, 7), "temperature"), Binding(Source("note", None, 36), "pause"),
                 Binding(Source("cc", None, 3), "rate", lo=2.0, hi=30.0),
                 Binding(Source("cc", 15, 1), 'style:we"ird\\name')])
    store.save("nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0", a)
    store.save("Launch Control XL", MidiMap([Binding(Source("program", 2, 5), "preset:4")], positional=False))
    data = tomllib.loads(path.read_text())  # valid TOML for any reader
    assert set(data["devices"]) == {"nanoKONTROL2:nanoKONTROL2 MIDI 1", "Launch Control XL"}
    back = store.load("nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0")  # re-plugged: new ALSA client number
    assert sorted(back.bindings, key=repr) == sorted(a.bindings, key=repr)
    assert back.positional
    other = store.load("Launch Control XL")
    assert other.bindings == [Binding(Source("program", 2, 5), "preset:4")] and not other.positional
    assert store.load("never seen").bindings == []


def test_store_saves_what_it_reads_back(tmp_path):
    """Saving what was loaded leaves the file byte for byte as it was: the writer and the reader agree."""
    store = MappingStore(tmp_path / "midi.toml")
    store.save("dev", MidiMap([Binding(Source("cc", 0, 7), "temperature", lo=0.5, hi=1.5),
                               Binding(Source("note", None, 36), "style:a \"quoted\" name")], positional=False))
    store.save("other", MidiMap())
    text = store.path.read_text()
    assert text.startswith(MappingStore.HEADER)
    for device in ("dev", "other"):
        store.save(device, store.load(device))
    assert store.path.read_text() == text


def test_store_channel_is_one_based_in_the_file(tmp_path):
    store = MappingStore(tmp_path / "midi.toml")
    store.save("dev", MidiMap([Binding(Source("cc", 0, 7), "temperature")]))
    (raw,) = tomllib.loads(store.path.read_text())["devices"]["dev"]["bindings"]
    assert raw == {"kind": "cc", "channel": 1, "number": 7, "target": "temperature"}


def test_hand_edited_bad_entries_are_skipped(tmp_path, caplog):
    path = tmp_path / "midi.toml"
    path.write_text('[devices."dev"]\nbindings = [\n'
                    '  { kind = "cc", number = 7, target = "temperature" },\n'
                    '  { kind = "cc", number = 300, target = "rate" },\n'
                    '  { kind = "knob", number = 1, target = "rate" },\n'
                    '  { kind = "cc", number = 2, target = "volume" },\n'
                    '  { kind = "cc", number = 3, channel = 17, target = "mix" },\n'
                    ']\n')
    m = MappingStore(path).load("dev")
    assert m.bindings == [Binding(Source("cc", None, 7), "temperature")]
    assert caplog.text.count("skipped a bad binding") == 4


def test_damaged_file_is_set_aside_not_fatal(tmp_path, caplog):
    path = tmp_path / "midi.toml"
    path.write_text("this is [not toml")
    store = MappingStore(path)
    assert store.load("dev").bindings == []
    assert (tmp_path / "midi.toml.bak").read_text() == "this is [not toml"
    assert "not valid TOML" in caplog.text
    store.save("dev", MidiMap([Binding(Source("cc", None, 1), "rate")]))
    assert store.load("dev").bindings == [Binding(Source("cc", None, 1), "rate")]


def test_default_path_is_under_user_config(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert MappingStore().path == tmp_path / "textconductor" / "midi.toml"


# ---------------------------------------------------------------------------------------------
# Port names.

@pytest.mark.parametrize(("name", "key"), [
    ("nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1"),
    ("RtMidiOut Client:FakeFader", "FakeFader"),
    ("Launch Control XL", "Launch Control XL"),
])
def test_device_key(name, key):
    assert device_key(name) == key


NAMES = ["Midi Through:Midi Through Port-0 14:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0", "Arturia BeatStep 24:0"]


@pytest.mark.parametrize(("want", "got"), [
    (None, NAMES[1]),  # first real port, not Midi Through
    (0, NAMES[0]),
    (2, NAMES[2]),
    (3, None),
    ("Arturia BeatStep 24:0", NAMES[2]),
    ("nanoKONTROL2:nanoKONTROL2 MIDI 1 28:0", NAMES[1]),  # same device, other client number
    ("beatstep", NAMES[2]),
    ("korg", None),
])
def test_resolve_port(want, got):
    assert resolve_port(want, NAMES) == got


def test_resolve_nothing_but_through():
    assert resolve_port(None, NAMES[:1]) is None
