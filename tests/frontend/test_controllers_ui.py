"""The controllers inside the window: the MIDI menu, MIDI through the window, learn from the UI, the
autopilot, hand gestures. MIDI runs through the real MidiController on a port list we control (the same
stand-in the controller tests use), or on a real JACK virtual port where jackd is installed."""

from __future__ import annotations

import threading
import time
import tomllib
import uuid

import mido
import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.controllers.test_hand_gestures import OPEN, PINCH
from tests.controllers.test_hands_controller import ReplayTracker, fake_clock, observation
from tests.controllers.test_midi_ports import PortList, jack_server, wait_for  # noqa: F401 - a fixture
from tests.fakes import FakeClock
from tests.frontend.conftest import STYLES
from tests.frontend.test_render import connect
from textconductor.cli.window_controllers import autopilot_idle
from textconductor.controllers import midi as midi_mod
from textconductor.controllers.hands import HandController, HandSettings
from textconductor.controllers.hands.tracking import ArraySource
from textconductor.controllers.midi import ports as midi_ports
from textconductor.frontend.midi_menu import learn_target_of
from textconductor.frontend.panels import SLIDER_STEPS

ALSA_DOWN = "MidiInAlsa::initialize: error creating ALSA sequencer client object."


@pytest.fixture
def ports(monkeypatch):
    p = PortList()
    monkeypatch.setattr(midi_ports, "_backend", lambda api=None: p)  # the one seam to the backend
    return p


@pytest.fixture
def win(qtbot, fake_engine):
    w = connect(qtbot, fake_engine)
    yield w
    w.close()  # stops MIDI/hands threads


def menu_texts(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def slider(win, name: str):
    return win.sliders.sliders[name]


def weights_seen(qtbot, fake, pred, timeout: int = 8000) -> tuple:
    """Poll what the window sent the engine until a /tc/weights satisfies pred; returns its args."""
    found: list = []

    def check() -> bool:
        found.extend(c.args for c in fake.poll() if c.name == "weights" and pred(c.args))
        return bool(found)
    qtbot.waitUntil(check, timeout=timeout)
    return found[-1]


def from_midi_thread(fn, *args) -> None:
    """Call fn on another thread, as the MIDI input thread does, and wait for it to return."""
    t = threading.Thread(target=fn, args=args)
    t.start()
    t.join(5)


# ---------------------------------------------------------------------------------------------
# The MIDI menu

def test_midi_menu_lists_the_ports_and_starts_the_chosen_one(qtbot, win, ports):
    hub = win.controllers
    ports.names = ["Midi Through:Midi Through Port-0 14:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"]
    hub.midi.menu.aboutToShow.emit()  # what opening the menu does
    texts = menu_texts(hub.midi.menu)
    assert ports.names[0] in texts and ports.names[1] in texts and "None" in texts
    assert hub.midi.controller is None and hub.midi.port_actions[""].isChecked()
    hub.midi.port_actions[ports.names[1]].trigger()
    assert hub.midi.controller is not None
    qtbot.waitUntil(lambda: ports.opened == [ports.names[1]], timeout=5000)
    qtbot.waitUntil(lambda: "nanoKONTROL2" in win.status.controllers.text(), timeout=5000)
    ports.names.append("Pads 21:0")  # plugged in while running: the next opening shows it
    hub.midi.menu.aboutToShow.emit()
    assert "Pads 21:0" in menu_texts(hub.midi.menu) and hub.midi.port_actions[ports.names[1]].isChecked()
    hub.midi.port_actions[""].trigger()  # None
    assert hub.midi.controller is None and ports.closed == [ports.names[1]]
    assert win.status.controllers.text() == ""


def test_midi_menu_says_why_midi_cannot_work(qtbot, win, ports):
    hub = win.controllers
    ports.fail = OSError(ALSA_DOWN)
    hub.midi.menu.aboutToShow.emit()
    items = [a for a in hub.midi.menu.actions() if not a.isSeparator() and a.menu() is None]
    reason = items[0]
    assert reason.text().startswith("MIDI unavailable: the ALSA sequencer") and not reason.isEnabled()
    assert "/dev/snd/seq" in reason.toolTip()
    assert not any(a.text() == "None" for a in items)  # one disabled item with the reason, no port choices
    assert not hub.midi.start("nano")  # `ui --midi nano` here: said in words, nothing started
    assert hub.midi.controller is None and win.status.message.text().startswith("MIDI unavailable")
    ports.fail = ImportError("libasound.so.2: cannot open shared object file")
    hub.midi.menu.aboutToShow.emit()
    assert "libasound2" in hub.midi.menu.actions()[0].toolTip()
    ports.fail = None  # a working backend with nothing plugged in
    hub.midi.menu.aboutToShow.emit()
    first = hub.midi.menu.actions()[0]
    assert first.text().startswith("No MIDI input ports") and not first.isEnabled()


def test_midi_menu_with_this_machines_real_backend(qtbot, win):
    """No stand-in: whatever MIDI this machine has (here: no /dev/snd/seq), the menu agrees with it."""
    hub = win.controllers
    hub.midi.menu.aboutToShow.emit()
    first = hub.midi.menu.actions()[0]
    try:
        names = midi_mod.list_midi_inputs()
    except midi_mod.MidiUnavailable as e:
        assert first.text().startswith("MIDI unavailable") and not first.isEnabled() and first.toolTip() == str(e)
    else:
        assert all(n in menu_texts(hub.midi.menu) for n in names)


def test_a_midi_fader_moves_the_slider_and_the_engine(qtbot, win, ports, fake_engine):
    ports.names = ["Faders 20:0"]
    assert win.controllers.midi.start("Faders")
    qtbot.waitUntil(lambda: "Faders 20:0" in ports.callbacks, timeout=5000)
    fake_engine.poll()
    # CC 1 = the 2nd enabled style (positional default), sent on another thread like the MIDI input thread's
    # Soft takeover: a fader standing far from the style's value (0) does not make it jump...
    from_midi_thread(ports.callbacks["Faders 20:0"], mido.Message("control_change", control=1, value=127))
    qtbot.wait(300)
    assert win.weights["code"] == 0.0 and not [c for c in fake_engine.poll() if c.name == "weights"]
    # ...it picks the style up where it stands (0), then pushes it to the top.
    for value in (0, 127):
        from_midi_thread(ports.callbacks["Faders 20:0"], mido.Message("control_change", control=1, value=value))
    assert weights_seen(qtbot, fake_engine, lambda w: w[1] == 1.0) == (1.0, 1.0, 0.0)
    assert slider(win, "code").value() == SLIDER_STEPS and slider(win, "verse").value() == 0
    assert win.weights["code"] == 1.0


# ---------------------------------------------------------------------------------------------
# MIDI learn from the UI

def test_learn_by_clicking_a_slider_then_moving_a_fader(qtbot, win, ports, fake_engine, config_dir):
    hub = win.controllers
    ports.names = ["Faders 20:0"]
    hub.midi.start("Faders")
    qtbot.waitUntil(lambda: "Faders 20:0" in ports.callbacks, timeout=5000)
    send = ports.callbacks["Faders 20:0"]
    hub.midi.learn_action.trigger()  # MIDI > Learn (Ctrl+L)
    assert hub.midi.learning and "click a slider" in win.status.message.text()
    s = slider(win, "verse")
    before = s.value()
    QTest.mouseClick(s, Qt.MouseButton.LeftButton, pos=QPoint(s.width() // 2, 3))  # would page the slider up
    assert hub.midi.controller.armed == "style:verse"
    assert s.value() == before and win.weights["verse"] == 0.0  # the click armed learn, it did not move
    assert "verse" in win.status.message.text()
    from_midi_thread(send, mido.Message("control_change", channel=2, control=20, value=10))
    qtbot.waitUntil(lambda: win.status.message.text().startswith("MIDI learned"), timeout=5000)
    assert "CC 20 on channel 3" in win.status.message.text()
    assert [(b.source, b.target) for b in hub.midi.controller.mapping.bindings] == [
        (midi_mod.Source("cc", 2, 20), "style:verse")]
    saved = tomllib.loads((config_dir / "midi.toml").read_text())  # in the test's config dir, not the user's
    # Parsed, not matched as text: the store may quote the table name or not (`[devices."Faders"]`).
    assert [{k: b[k] for k in ("kind", "channel", "number", "target")}
            for b in saved["devices"]["Faders"]["bindings"]] == [
        {"kind": "cc", "channel": 3, "number": 20, "target": "style:verse"}]
    assert midi_mod.MappingStore(config_dir / "midi.toml").load("Faders 31:0").bindings[0].target == "style:verse"
    fake_engine.poll()
    for value in (0, 127):  # picked up at the style's value (0), then up
        from_midi_thread(send, mido.Message("control_change", channel=2, control=20, value=value))
    assert weights_seen(qtbot, fake_engine, lambda w: w[2] == 1.0)[2] == 1.0
    assert slider(win, "verse").value() == SLIDER_STEPS
    # the control panel, the style chips and the preset keys are targets too
    QTest.mouseClick(win.controls.temp, Qt.MouseButton.LeftButton)
    assert hub.midi.controller.armed == "temperature"
    QTest.mouseClick(win.controls.pause_btn, Qt.MouseButton.LeftButton)
    assert hub.midi.controller.armed == "pause" and not win.paused  # armed, did not pause
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.setFocus()
    QTest.keyClick(win, Qt.Key.Key_3)
    assert hub.midi.controller.armed == "preset:3" and not win.morphing
    QTest.keyClick(win, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert hub.midi.controller.armed == "preset_save:4" and win.presets.get(4) is None  # armed, nothing saved
    QTest.keyClick(win, Qt.Key.Key_Escape)
    assert not hub.midi.learning and hub.midi.controller.armed is None and not hub.midi.learn_action.isChecked()
    QTest.mouseClick(win.controls.pause_btn, Qt.MouseButton.LeftButton)  # out of learn mode: it acts again
    assert win.paused


def test_learn_target_menu_and_learn_without_midi(qtbot, win, ports):
    hub = win.controllers
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    QTest.keyClick(win, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not hub.midi.learning and "choose one in the MIDI menu" in win.status.message.text()
    ports.names = ["Faders 20:0"]
    hub.midi.start("Faders")
    hub.midi.learn_targets.aboutToShow.emit()
    by_text = {a.text(): a for a in hub.midi.learn_targets.actions()}
    by_text["temperature"].trigger()
    assert hub.midi.controller.armed == "temperature"


def test_learn_target_of_walks_up_to_a_known_control(qtbot, win):
    line_edit = win.controls.temp.lineEdit()  # a click inside the spin box lands on its line edit
    assert learn_target_of(line_edit, win) == "temperature"
    assert learn_target_of(win.style_panel.buttons["code"], win) == "style:code"
    assert learn_target_of(win.text, win) is None


# ---------------------------------------------------------------------------------------------
# Autopilot

def pilot(win, idle: float = 5.0) -> FakeClock:
    clock = FakeClock()
    win.controllers.clock = clock
    win.controllers.set_autopilot(idle, seed=3)
    return clock


def test_autopilot_wanders_when_idle_and_hands_over_at_once(qtbot, win, fake_engine):
    hub = win.controllers
    clock = pilot(win, idle=5.0)
    ap = hub.autopilot
    assert hub.autopilot_action.isChecked() and "autopilot after 5 s idle" in win.status.controllers.text()
    clock.t += 4.0
    qtbot.wait(200)
    assert not ap.active  # not yet idle long enough
    clock.t += 1.5
    qtbot.waitUntil(lambda: ap.active, timeout=5000)
    assert "autopilot: wandering" in win.status.controllers.text()
    fake_engine.poll()
    start = win.puck.puck.copy()

    def wandered() -> bool:  # path time advances with the clock: the puck wanders, weights reach the engine
        clock.t += 0.1
        return np.linalg.norm(win.puck.puck - start) > 0.05
    qtbot.waitUntil(wandered, timeout=10000)
    assert weights_seen(qtbot, fake_engine, lambda w: True)
    assert ap.active  # its own moves do not count as input
    s = slider(win, "verse")
    before = win.weights["verse"]
    QTest.mouseClick(s, Qt.MouseButton.LeftButton, pos=QPoint(s.width() // 2, 3))  # the performer takes over
    assert not ap.active
    assert win.weights["verse"] > before  # a click above the handle pages the slider up
    held = win.puck.puck.copy()
    clock.t += 2.0
    qtbot.wait(300)
    assert not ap.active and np.allclose(win.puck.puck, held)  # still, until the idle time passed again
    assert "autopilot after 5 s idle" in win.status.controllers.text()
    clock.t += 4.0
    qtbot.waitUntil(lambda: ap.active, timeout=5000)  # back after 5 s idle, gliding from the performer's puck
    assert np.linalg.norm(np.array(ap.last_point) - held) < 0.1


def test_keyboard_and_midi_take_over_from_the_autopilot(qtbot, win, ports):
    hub = win.controllers
    clock = pilot(win, idle=5.0)
    ap = hub.autopilot
    clock.t += 6.0
    qtbot.waitUntil(lambda: ap.active, timeout=5000)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.setFocus()
    QTest.keyClick(win, Qt.Key.Key_BracketRight)  # temperature +0.05
    assert not ap.active
    ports.names = ["Faders 20:0"]
    hub.midi.start("Faders")
    qtbot.waitUntil(lambda: "Faders 20:0" in ports.callbacks, timeout=5000)
    clock.t += 6.0
    qtbot.waitUntil(lambda: ap.active, timeout=5000)
    from_midi_thread(ports.callbacks["Faders 20:0"], mido.Message("control_change", control=0, value=64))
    assert not ap.active  # at once, on the MIDI thread, before the move reaches the window


def test_autopilot_menu_toggle_and_policy(qtbot, win):
    hub = win.controllers
    hub.autopilot_action.trigger()
    assert hub.autopilot is not None and hub.autopilot.idle_s == hub.default_idle_s == 60.0
    hub.autopilot_action.trigger()
    assert hub.autopilot is None and not hub.autopilot_action.isChecked()
    assert autopilot_idle(None, False, fullscreen=True, default_s=60) == 60.0  # gallery: on
    assert autopilot_idle(None, False, fullscreen=False, default_s=60) is None  # performer: off unless asked
    assert autopilot_idle(12, False, fullscreen=False, default_s=60) == 12.0
    assert autopilot_idle(12, True, fullscreen=True, default_s=60) is None


def test_ui_flags():
    from textconductor.cli import build_parser
    p = build_parser()
    a = p.parse_args(["ui", "--midi", "2", "--midi-api", "UNIX_JACK", "--autopilot", "30", "--hands", "--camera", "1"])
    assert (a.midi, a.midi_api, a.autopilot, a.hands, a.camera) == ("2", "UNIX_JACK", 30.0, True, 1)
    assert p.parse_args(["ui", "--midi"]).midi == "" and p.parse_args(["ui"]).midi is None
    assert p.parse_args(["ui", "--no-autopilot"]).no_autopilot
    with pytest.raises(SystemExit):
        p.parse_args(["ui", "--autopilot", "5", "--no-autopilot"])
    with pytest.raises(SystemExit):
        p.parse_args(["ui", "--autopilot", "-1"])


def test_start_controllers_from_flags(qtbot, win, ports):
    from textconductor.cli.window_controllers import start_controllers
    ports.names = ["A 20:0", "B 21:0"]
    start_controllers(win, fullscreen=True, midi=1, midi_on=True)
    hub = win.controllers
    qtbot.waitUntil(lambda: hub.midi.controller.port_name == "B 21:0", timeout=5000)  # --midi 1: by index
    assert hub.autopilot is not None and hub.autopilot.idle_s == 60.0  # fullscreen: on by default


# ---------------------------------------------------------------------------------------------
# Hands

def test_hands_without_a_camera_says_so_and_the_window_plays_on(qtbot, win, fake_engine):
    hub = win.controllers
    hub.start_hands(camera=99)  # the real controller: no /dev/video99 (or no mediapipe/model: said too)
    qtbot.waitUntil(lambda: "unavailable" in win.status.message.text(), timeout=10000)
    msg = win.status.message.text()
    assert msg.startswith("Hands unavailable") and ("camera 99" in msg or "mediapipe" in msg or "model" in msg)
    assert hub.hands is None and hub.hand_overlay is None and not hub.hands_action.isChecked()
    fake_engine.poll()
    win.set_weights({"verse": 0.5})
    assert weights_seen(qtbot, fake_engine, lambda w: w[2] == 0.5)


def test_recorded_hand_moves_the_puck_and_shows_the_overlay(qtbot, win, fake_engine):
    hub = win.controllers
    clock = pilot(win, idle=5.0)
    clock.t += 6.0
    qtbot.waitUntil(lambda: hub.autopilot.active, timeout=5000)
    # an open hand, then a pinch moving left in the camera (= right on the mirrored display)
    obs = [observation(OPEN, 0.5, 0.6)] * 5 + [observation(PINCH, 0.45 - 0.01 * i, 0.5) for i in range(20)]
    gate = threading.Event()

    class GatedSource(ArraySource):  # frames flow once the test has seen the overlay appear
        def read(self):
            gate.wait(10)
            return super().read()

    frames = [np.zeros((4, 4, 3), np.uint8)] * len(obs)
    ctl = HandController(HandSettings(), source_factory=lambda: GatedSource(frames),
                         tracker_factory=lambda: ReplayTracker(obs), clock=fake_clock())
    assert hub.start_hands(controller=ctl)
    ov = hub.hand_overlay
    assert ov is not None and ov.isVisible() and ov.parent() is win.puck and hub.hands_action.isChecked()
    assert ov.geometry().right() <= win.puck.width() and ov.geometry().bottom() <= win.puck.height()
    fake_engine.poll()
    gate.set()
    qtbot.waitUntil(lambda: win.puck.puck[0] > 0.2, timeout=10000)
    assert not hub.autopilot.active  # the hand took over from the autopilot
    assert weights_seen(qtbot, fake_engine, lambda w: True)
    qtbot.waitUntil(lambda: win.status.message.text() == "Hands stopped: finished", timeout=10000)
    assert hub.hands is None and not hub.hands_action.isChecked()


# ---------------------------------------------------------------------------------------------
# End to end through a real JACK MIDI port (skipped without jackd)

def test_jack_port_from_the_menu_plays_the_window(qtbot, win, jack_server, fake_engine):  # noqa: F811
    device = f"TC UI {uuid.uuid4().hex[:6]}"
    hub = win.controllers
    hub.midi.api = "UNIX_JACK"
    out = jack_server.open_output(device, virtual=True)
    try:
        def listed() -> bool:
            hub.midi.menu.aboutToShow.emit()
            return any(device in n for n in hub.midi.port_actions)
        assert wait_for(listed, timeout=10)
        name = next(n for n in hub.midi.port_actions if device in n)
        hub.midi.port_actions[name].trigger()
        qtbot.waitUntil(lambda: hub.midi.controller.port_name is not None, timeout=10000)
        fake_engine.poll()
        deadline = time.monotonic() + 10
        while slider(win, STYLES[2]).value() != SLIDER_STEPS and time.monotonic() < deadline:
            for value in (0, 127):  # the port connects asynchronously; picked up at 0, then up
                out.send(mido.Message("control_change", control=2, value=value))
            qtbot.wait(50)
        assert slider(win, STYLES[2]).value() == SLIDER_STEPS
        assert weights_seen(qtbot, fake_engine, lambda w: w[2] == 1.0)
    finally:
        hub.midi.stop()
        out.close()
