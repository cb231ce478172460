"""MIDI ports: hot-plug, learn and persistence through the port shell.

Two layers: an in-memory port list (always runs: the poll logic, the once-only messages), and a
real JACK server on the dummy driver with a virtual port standing in for the controller (skipped
with the reason when jackd is not installed: `apt-get install --no-install-recommends jackd2`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import mido
import pytest

from tests.fakes import RecordingSink, wait_for
from textconductor.controllers.base import start_safely
from textconductor.controllers.midi import MappingStore, MidiController, MidiUnavailable, Source, list_midi_inputs
from textconductor.controllers.midi import ports as midi_ports
from textconductor.tools.harness import stop_process

STYLES = ["bible", "linux", "austen"]



def settle(ctl: MidiController, quiet_s: float = 0.3) -> None:
    """Wait until no message has arrived for `quiet_s`."""
    last, since = ctl.messages, time.monotonic()
    while time.monotonic() - since < quiet_s:
        time.sleep(0.02)
        if ctl.messages != last:
            last, since = ctl.messages, time.monotonic()


# ---------------------------------------------------------------------------------------------
# The poll logic against a port list we control.

class PortList:
    """What a mido backend shows: the ports present now; `fail` makes every call raise like rtmidi."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.fail: Exception | None = None
        self.opened: list[str] = []
        self.closed: list[str] = []
        self.callbacks: dict[str, object] = {}

    def get_input_names(self):
        if self.fail:
            raise self.fail
        return list(self.names)

    def open_input(self, name, callback=None):
        if name not in self.names:
            raise OSError(f"no port {name}")
        self.opened.append(name)
        self.callbacks[name] = callback
        ports = self

        class Port:
            def close(self):
                ports.closed.append(name)
        return Port()


@pytest.fixture
def ports(monkeypatch):
    p = PortList()
    monkeypatch.setattr(midi_ports, "_backend", lambda api=None: p)  # the one seam to the backend
    return p


def test_hot_plug_open_release_reopen(ports, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    ctl = MidiController("nanoKONTROL2", store=MappingStore(tmp_path / "m.toml"))
    ctl._sink = RecordingSink(STYLES)
    ctl.poll()
    assert ctl.status.startswith("MIDI: no input ports")
    ctl.poll()
    ctl.poll()
    assert caplog.text.count("no input ports") == 1  # said once, not every second
    ports.names = ["Midi Through:Midi Through Port-0 14:0", "nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"]
    ctl.poll()
    assert ctl.port_name == ports.names[1] and ports.opened == [ports.names[1]]
    ports.names = ports.names[:1]  # pulled out
    ctl.poll()
    assert ctl.port_name is None and ports.closed == ["nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"]
    assert "unplugged" in ctl.status
    ports.names.append("nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0")  # back, with a new client number
    ctl.poll()
    assert ctl.port_name == "nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0"


def test_index_follows_the_device_through_replug(ports):
    ports.names = ["A 20:0", "B 21:0"]
    ctl = MidiController(1)
    ctl.poll()
    assert ctl.port_name == "B 21:0"
    ports.names = ["A 20:0"]
    ctl.poll()
    ports.names = ["C 22:0", "A 20:0", "B 21:0"]  # back at another index
    ctl.poll()
    assert ctl.port_name == "B 21:0"


def test_learned_mapping_is_saved_and_reloaded_on_replug(ports, tmp_path):
    store = MappingStore(tmp_path / "m.toml")
    ports.names = ["Pads 20:0"]
    ctl = MidiController(store=store)
    ctl._sink = sink = RecordingSink(STYLES)
    ctl.poll()
    ctl.arm("pause")
    ports.callbacks["Pads 20:0"](mido.Message("note_on", note=40, velocity=90))
    assert store.load("Pads").bindings[0].source == Source("note", 0, 40)
    ports.names = []
    ctl.poll()
    ctl2 = MidiController(store=store)  # a fresh start of the app
    ctl2._sink = sink
    ports.names = ["Pads 28:0"]
    ctl2.poll()
    ports.callbacks["Pads 28:0"](mido.Message("note_on", note=40, velocity=90))
    assert sink.take() == [("control", "toggle_pause", None)]


def test_reset_mapping_on_open(ports, tmp_path):
    store = MappingStore(tmp_path / "m.toml")
    ctl = MidiController(store=store)
    ports.names = ["Pads 20:0"]
    ctl.poll()
    ctl.bind(Source("cc", None, 1), "rate")
    ctl2 = MidiController(store=store)
    ctl2.reset_on_open = True
    ctl2.poll()
    assert ctl2.mapping.bindings == [] and store.load("Pads").bindings == []


def test_no_backend_is_said_once_and_polling_backs_off(ports, caplog):
    ports.fail = OSError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")
    statuses = []
    ctl = MidiController(poll_s=0.01, on_status=statuses.append)
    ok, reason = ctl.available()
    assert not ok and "/dev/snd/seq" in reason
    start_safely(ctl, RecordingSink(STYLES))  # unavailable: says so, does not start, does not raise
    assert caplog.text.count("MIDI unavailable") == 1
    ctl.start(RecordingSink(STYLES))  # started anyway (a host may retry): the poll thread backs off
    assert wait_for(lambda: statuses)
    time.sleep(0.2)
    ctl.stop()
    assert len(statuses) == 1 and statuses[0].startswith("MIDI unavailable: the ALSA sequencer")
    assert ctl._backoff >= 5.0  # next try in >= 5 s, not every 10 ms
    with pytest.raises(MidiUnavailable):
        list_midi_inputs()


def test_missing_library_reason(ports):
    ports.fail = ImportError("libasound.so.2: cannot open shared object file")
    ok, reason = MidiController().available()
    assert not ok and "libasound2" in reason


# ---------------------------------------------------------------------------------------------
# A real JACK server (dummy driver) and a virtual port as the controller.

def _die_with_parent() -> None:
    """In the child: get SIGTERM when the test process dies, so a killed run leaves no jackd behind."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@pytest.fixture(scope="module")
def jack_server():
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed (Debian: apt-get install --no-install-recommends jackd2)")
    # One fixed name: libjack's shared registry has 8 server slots and a slot is freed only when a
    # server of the same name starts again, so random names would exhaust it across runs.
    name = "textconductor-test"
    old = os.environ.get("JACK_DEFAULT_SERVER")
    os.environ["JACK_DEFAULT_SERVER"] = name  # libjack reads it at every client open
    proc = subprocess.Popen(["jackd", "-n", name, "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "1024"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
    try:
        def up() -> bool:
            if proc.poll() is not None:
                return True
            try:
                backend.get_input_names()
                return True
            except OSError:
                return False
        wait_for(up, timeout=15, step=0.2)
        if proc.poll() is not None:
            pytest.skip(f"jackd could not start here: {proc.stderr.read().decode(errors='replace')[-300:]}")
        yield backend
    finally:
        stop_process(proc, 5)  # a polite shutdown releases the server's registry slot
        if old is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = old


def test_jack_hot_plug_learn_and_play(jack_server, tmp_path):
    device = f"TC Fader {uuid.uuid4().hex[:6]}"
    store = MappingStore(tmp_path / "midi.toml")
    learned = threading.Event()
    sink = RecordingSink(STYLES)
    ctl = MidiController(device, api="UNIX_JACK", store=store, poll_s=0.1, on_learned=lambda t, b: learned.set())
    assert ctl.available() == (True, "")
    ctl.start(sink)
    try:
        assert wait_for(lambda: ctl.status.startswith("MIDI: no"))  # nothing plugged in yet
        out = jack_server.open_output(device, virtual=True)  # plug the controller in
        assert wait_for(lambda: ctl.port_name is not None), ctl.status
        assert device in ctl.port_name

        def send_until(msg, pred):  # the port connects asynchronously: resend until it arrives
            return wait_for(lambda: (out.send(msg), pred())[1], timeout=5, step=0.05)

        assert send_until(mido.Message("control_change", control=1, value=127),
                          lambda: ("weights", {"linux": 1.0}) in sink.calls)
        settle(ctl)  # let resent copies that were still in flight arrive before learning
        ctl.arm("temperature")
        out.send(mido.Message("control_change", channel=2, control=14, value=5))
        assert learned.wait(5)
        sink.take()
        out.send(mido.Message("control_change", channel=2, control=14, value=127))
        assert wait_for(lambda: ("control", "temperature", 2.0) in sink.calls), (sink.calls, ctl.mapping.bindings)
        assert [b.target for b in store.load(device).bindings] == ["temperature"]

        out.close()  # pull it out
        assert wait_for(lambda: ctl.port_name is None), ctl.status
        assert "unplugged" in ctl.status
        out = jack_server.open_output(device, virtual=True)  # and back in
        assert wait_for(lambda: ctl.port_name is not None), ctl.status
        sink.take()
        assert send_until(mido.Message("control_change", channel=2, control=14, value=127),
                          lambda: ("control", "temperature", 2.0) in sink.calls)
        out.close()
    finally:
        ctl.stop()


def test_jack_lists_ports_for_a_menu(jack_server):
    device = f"TC Menu {uuid.uuid4().hex[:6]}"
    out = jack_server.open_output(device, virtual=True)
    try:
        assert wait_for(lambda: any(device in n for n in list_midi_inputs("UNIX_JACK")))
    finally:
        out.close()


CLOSE_UNDER_TRAFFIC = """
import sys, threading, time, mido
from textconductor.controllers.midi import MidiController
from tests.fakes import RecordingSink, wait_for

class Busy(RecordingSink):
    def set_weights(self, w):
        sum(range(20000))  # a callback that holds the GIL a while

out = mido.Backend("mido.backends.rtmidi/UNIX_JACK").open_output(sys.argv[1], virtual=True)
stop = threading.Event()
def flood():
    while not stop.is_set():
        out.send(mido.Message("control_change", control=0, value=1))
        time.sleep(0.0005)
threading.Thread(target=flood, daemon=True).start()
n = 0
for _ in range(12):
    ctl = MidiController(sys.argv[1], api="UNIX_JACK")
    ctl._sink = Busy(["a"])
    ctl.poll()
    time.sleep(0.05)
    n += ctl.messages
    ctl.stop()
stop.set()
print("messages", n)
"""


def test_jack_port_closes_while_a_fader_moves(jack_server):
    """Closing (unplug, quit) during a flood of CCs must neither freeze (GIL held by a thread JACK
    cancelled) nor crash: run in a child so a regression fails here instead of hanging the suite."""
    device = f"TC Flood {uuid.uuid4().hex[:6]}"
    r = subprocess.run([sys.executable, "-c", CLOSE_UNDER_TRAFFIC, device], capture_output=True, text=True,
                       timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.split()[-1]) > 0  # messages did flow while ports opened and closed


def test_jack_feedback_reaches_the_device_and_takeover_holds_its_fader(jack_server):
    """A device with an input and an output port of one name (a motorised-fader controller): the
    values it should show arrive on its input; its fader, far from the engine's value, is held."""
    device = f"TC Motor {uuid.uuid4().hex[:6]}"
    values = {"style:bible": 0.5, "style:linux": 0.0}
    sink = RecordingSink(STYLES)
    dev_out = jack_server.open_output(device, virtual=True)  # its faders
    dev_in = jack_server.open_input(device, virtual=True)  # its motors / LEDs
    ctl = MidiController(device, api="UNIX_JACK", poll_s=0.1, values=lambda: dict(values), feedback=True,
                         feedback_hz=50)
    got: list[tuple[int, int]] = []

    def shown(control: int, value: int) -> bool:
        got.extend((m.control, m.value) for m in dev_in.iter_pending() if m.type == "control_change")
        return (control, value) in got

    ctl.start(sink)
    try:
        assert wait_for(lambda: ctl.feedback_port is not None), ctl.status
        assert device in ctl.feedback_port
        assert wait_for(lambda: shown(0, 64) and shown(1, 0), timeout=5), got  # on plugging in
        values["style:linux"] = 1.0  # a preset, the autopilot...
        assert wait_for(lambda: shown(1, 127), timeout=5), got

        def send_until(msg, pred):  # the port connects asynchronously: resend until it arrives
            return wait_for(lambda: (dev_out.send(msg), pred())[1], timeout=5, step=0.05)

        assert send_until(mido.Message("control_change", control=0, value=10), lambda: ctl.held > 0)
        assert sink.take() == []  # far from 0.5: held, no jump
        dev_out.send(mido.Message("control_change", control=0, value=80))  # passes 0.5
        assert wait_for(lambda: ("weights", {"bible": 80 / 127}) in sink.calls), sink.calls
    finally:
        ctl.stop()
        dev_out.close()
        dev_in.close()
