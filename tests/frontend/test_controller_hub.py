"""The controller hub is controller-agnostic: it plays whatever the top layer injects through the
Protocols in `frontend.controller_api`. Here: no controllers at all, and fakes written in a few lines
(no mido, no mediapipe), driven through the same menus and status line the real ones use."""

from __future__ import annotations

import threading

from tests.frontend.conftest import STYLES, open_window
from textconductor.errors import UserError
from textconductor.frontend.controller_api import ControllerUnavailable, HandPicture, WindowControllers
from textconductor.frontend.hand_overlay import NoHand
from textconductor.protocol.controls import ActivitySink


def connect(qtbot, fake, controllers: WindowControllers):
    win = open_window(qtbot, f"127.0.0.1:{fake.port}", controllers=controllers)
    qtbot.waitUntil(lambda: bool(fake.poll()) or fake.subscriber is not None, timeout=10000)
    qtbot.waitUntil(lambda: win.names == STYLES and win.link.online, timeout=10000)
    return win


def menu_titles(win) -> list[str]:
    return [a.text() for a in win.menuBar().actions()]


class FakeMidi:
    """A MidiInput: records what the hub asks of it; the test plays the MIDI thread."""

    def __init__(self, port, on_learned, on_status, values=None) -> None:
        self.want, self.port_name, self.status = port, None, "MIDI: fake"
        self.on_learned, self.on_status, self.values = on_learned, on_status, values
        self.sink = None
        self.armed: str | None = None
        self.stopped = False

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, sink) -> None:
        self.sink = sink
        self.port_name = "Fake 1"

    def stop(self) -> None:
        self.stopped = True

    def arm(self, target: str) -> None:
        if target == "nonsense":
            raise UserError("unknown MIDI target 'nonsense'")
        self.armed = target

    def cancel(self) -> None:
        self.armed = None

    def reset_mapping(self) -> None:
        pass


class FakePorts:
    def __init__(self) -> None:
        self.names: list[str] | None = ["Fake 1", "Other 2"]
        self.opened: list[FakeMidi] = []

    def list_inputs(self, api):
        if self.names is None:
            raise ControllerUnavailable("no fake MIDI here")
        return list(self.names)

    def resolve(self, want, names):
        return next((n for n in names if want is not None and str(want) in n), None)

    def open(self, port, api, on_learned, on_status, values=None) -> FakeMidi:
        m = FakeMidi(port, on_learned, on_status, values)
        self.opened.append(m)
        return m

    def mapping_file(self) -> str:
        return "/fake/midi.toml"


class FakePilot:
    def __init__(self, *, idle_s, seed, leg_s, clock, on_state) -> None:
        self.idle_s, self.seed, self.on_state = idle_s, seed, on_state
        self.active = False
        self.last_point = None
        self.sink = None
        self.inputs = 0

    def bind(self, sink) -> None:
        self.sink = sink

    def tick(self) -> None:
        pass

    def input_seen(self, puck=None) -> None:
        self.inputs += 1


def picture(status: str = "tracking") -> HandPicture:
    """What a tracker with no hand in view reports: the overlay's own empty picture, another status."""
    return NoHand(status=status)


class FakeHands:
    def __init__(self) -> None:
        self.picture = picture()
        self.alive = False
        self.sink = None

    def available(self) -> tuple[bool, str]:
        return True, ""

    def start(self, sink) -> None:
        self.sink, self.alive = sink, True

    def stop(self) -> None:
        self.alive = False

    @property
    def running(self) -> bool:
        return self.alive

    def overlay(self) -> HandPicture:
        return self.picture


def test_a_window_without_controllers_has_no_controller_menus(qtbot, fake_engine):
    win = connect(qtbot, fake_engine, WindowControllers())
    hub = win.controllers
    assert menu_titles(win) == ["&View"] and hub.midi is None
    hub.set_autopilot(5.0)
    assert hub.autopilot is None and "not available" in win.status.message.text()
    assert not hub.start_hands()
    assert win.status.controllers.text() == ""
    win.close()


def test_fake_midi_plays_the_window_through_the_menu(qtbot, fake_engine):
    ports = FakePorts()
    pilots: list[FakePilot] = []

    def make_pilot(**kw) -> FakePilot:
        pilots.append(FakePilot(**kw))
        return pilots[-1]
    win = connect(qtbot, fake_engine, WindowControllers(midi=ports, autopilot=make_pilot))
    hub = win.controllers
    assert menu_titles(win) == ["&View", "&MIDI", "&Controllers"] and hub.hands_action is None
    hub.midi.menu.aboutToShow.emit()
    hub.midi.port_actions["Fake 1"].trigger()
    midi = ports.opened[-1]
    assert hub.midi.controller is midi and midi.want == "Fake 1"
    assert isinstance(midi.sink, ActivitySink) and "/fake/midi.toml" in win.status.message.text()
    assert win.status.controllers.text() == "MIDI: fake"
    hub.set_autopilot(7.0, seed=1)
    pilot = pilots[-1]
    assert pilot.sink is win and pilot.idle_s == 7.0  # the raw window: the autopilot's own moves are not input
    t = threading.Thread(target=midi.sink.set_weights, args=({"verse": 0.5},))  # as the MIDI thread would
    t.start()
    t.join(5)
    qtbot.waitUntil(lambda: win.weights["verse"] == 0.5, timeout=5000)
    assert pilot.inputs >= 1  # the fader counted as input for the autopilot
    weights, params = midi.values()  # what a fader must pass before it takes over (soft takeover)
    assert weights["verse"] == 0.5 and params["temperature"] == win.performer.params.temperature
    hub.midi.set_learning(True)
    assert hub.midi.arm("style:verse") and midi.armed == "style:verse"
    assert not hub.midi.arm("nonsense") and "unknown MIDI target" in win.status.message.text()
    t = threading.Thread(target=midi.on_learned, args=("style:verse", "knob 1"))
    t.start()
    t.join(5)
    qtbot.waitUntil(lambda: win.status.message.text().startswith("MIDI learned: knob 1 -> style "), timeout=5000)
    old = midi
    hub.midi.start("Other")  # a new controller; the old one's late words are dropped
    assert old.stopped and not hub.midi.learning
    old.on_status("MIDI: the old one")
    qtbot.wait(50)
    assert "the old one" not in win.status.controllers.text()
    ports.names = None
    hub.midi.menu.aboutToShow.emit()
    assert hub.midi.menu.actions()[0].text() == "MIDI unavailable: no fake MIDI here"
    win.close()
    assert ports.opened[-1].stopped  # closing the window releases the port


def test_fake_hands_show_the_overlay_and_say_when_they_end(qtbot, fake_engine):
    trackers: list[FakeHands] = []

    def open_hands(camera: int) -> FakeHands:
        trackers.append(FakeHands())
        return trackers[-1]
    win = connect(qtbot, fake_engine, WindowControllers(hands=open_hands))
    hub = win.controllers
    assert menu_titles(win) == ["&View", "&Controllers"] and hub.autopilot_action is None
    hub.hands_action.trigger()  # Controllers > Hands
    hands = trackers[-1]
    assert hub.hands is hands and hub.hand_overlay is not None and hub.hand_overlay.parent() is win.puck
    qtbot.waitUntil(lambda: "hands: tracking" in win.status.controllers.text(), timeout=5000)
    hands.picture, hands.alive = picture("finished"), False
    qtbot.waitUntil(lambda: win.status.message.text() == "Hands stopped: finished", timeout=5000)
    assert hub.hands is None and hub.hand_overlay is None and not hub.hands_action.isChecked()
    win.close()
