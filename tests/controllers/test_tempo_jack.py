"""Tempo through real MIDI ports: a JACK server on the dummy driver (skipped with the reason when
jackd is absent: `apt-get install --no-install-recommends jackd2`).

* MIDI clock on a virtual port drives a real engine process: its rate follows the tempo, the
  characters come on the grid, Stop pauses it and Start resumes it.
* Notes out: the engine's characters arrive as notes on a virtual synth port and as /tc/char.
"""

from __future__ import annotations

import socket
import time
import uuid

import mido
import numpy as np
import pytest

from tests.controllers.test_midi_ports import jack_server  # noqa: F401 - the one JACK fixture
from tests.engine.conftest import make_bank
from tests.fakes import EngineProbe, FakeEngine, free_port, wait_for
from textconductor.controllers.midi.ports import list_midi_outputs, open_output
from textconductor.controllers.tempo.driver import TempoDriver
from textconductor.controllers.tempo.notes import OUT_CHAR, NotesOut, note_for
from textconductor.controllers.tempo.sources import MidiClockSource
from textconductor.protocol import OUT_STATUS, OUT_TICK, Status, Tick, unpack
from textconductor.protocol.charset import CHAR_TO_INDEX
from textconductor.protocol.client import EngineConnection
from textconductor.tools.bench_tempo import MidiClockSender
from textconductor.tools.harness import engine_command, stop_process


@pytest.fixture(scope="module")
def engine_proc(tmp_path_factory):
    import subprocess
    bank = make_bank(tmp_path_factory.mktemp("tempo-bank"), ["alpha", "beta"], hidden=16, layers=1)
    port = free_port()
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 4, "--seed", 1, "--threads", 1, checkpoints=bank),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield port
    stop_process(proc, 20)


def tick_times(probe: EngineProbe, seconds: float) -> tuple[list[float], list[Status]]:
    """Arrival times of the ticks in the next `seconds`, and the status reports among them."""
    times, statuses = [], []
    probe.sock.settimeout(0.05)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data = probe.sock.recv(65536)
        except TimeoutError:
            continue
        now = time.monotonic()
        for m in unpack(data):
            if m.address == OUT_TICK:
                times.append(now)
            elif m.address == OUT_STATUS:
                statuses.append(Status.decode(m.args))
    return times, statuses


def test_midi_clock_on_a_jack_port_drives_the_engine(jack_server, engine_proc):  # noqa: F811
    device = f"TC Clock {uuid.uuid4().hex[:6]}"
    out = jack_server.open_output(device, virtual=True)
    source = MidiClockSource(device, api="UNIX_JACK")
    conn = EngineConnection("127.0.0.1", engine_proc)
    driver = TempoDriver(source, conn, chars_per_beat=4)  # 150 BPM x 4 = 10 chars/s
    source.on_transport = driver.transport
    probe = EngineProbe(engine_proc)
    sender = MidiClockSender(out, 150.0)  # a drum machine: Start, then 24 pulses a beat
    try:
        assert conn.wait_for_engine(60)
        probe.send("/tc/subscribe", probe.port)
        probe.wait_for("/tc/hello", timeout=10)
        own, _ = tick_times(probe, 1.5)
        assert 3 <= len(own) <= 9, len(own)  # its own rate: 4 chars/s
        source.start()
        driver.start()
        assert wait_for(lambda: source.port_name is not None, timeout=10)
        sender.start()
        assert wait_for(lambda: source.timeline() is not None, timeout=10), "no clock arrived"
        time.sleep(1.0)  # two beats of pulses fill the fit (the first few arrive a JACK period apart)
        assert source.timeline().bpm == pytest.approx(150.0, rel=0.02)
        probe.wait_params(lambda p: p.rate == pytest.approx(10.0, rel=0.03), timeout=10)  # the rate followed
        times, _ = tick_times(probe, 3.0)
        assert len(times) == pytest.approx(30, abs=3), len(times)  # 10 chars/s on the beat, not 4
        gaps = np.diff(times)
        assert np.median(gaps) == pytest.approx(0.1, abs=0.01)

        out.send(mido.Message("stop"))  # the drum machine's transport
        assert wait_for(lambda: source.timeline() is None, timeout=5)
        _, statuses = tick_times(probe, 1.5)
        assert statuses and statuses[-1].paused
        out.send(mido.Message("start"))
        resumed, _ = tick_times(probe, 2.0)
        assert len(resumed) >= 15
    finally:
        sender.stop()
        driver.stop()
        source.stop()
        conn.close()
        probe.close()
        out.close()


def test_notes_out_reach_a_synth_port_and_osc(jack_server):  # noqa: F811
    synth = f"TC Synth {uuid.uuid4().hex[:6]}"
    synth_in = jack_server.open_input(synth, virtual=True)
    assert wait_for(lambda: any(synth in n for n in list_midi_outputs("UNIX_JACK")), timeout=10)
    port_name = next(n for n in list_midi_outputs("UNIX_JACK") if synth in n)
    midi_out = open_output("UNIX_JACK", port_name)
    visuals = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    visuals.bind(("127.0.0.1", 0))
    visuals.settimeout(5)
    engine = FakeEngine(names=["bible", "linux"])
    notes = NotesOut("127.0.0.1", engine.port, midi_out, visuals.getsockname(), channel=2, length_s=0.05)
    rng = np.random.default_rng(0)
    try:
        assert wait_for(lambda: engine.subscriber is not None, timeout=5)
        time.sleep(0.3)  # JACK connects the port asynchronously
        sent: list[Tick] = []
        for ch in "Lo ve":
            t = engine.make_tick(ch, winner=1, rng=rng)
            sent.append(t)
            engine.publish(t.encode())
            time.sleep(0.1)  # longer than a note: each is released by time
        got: list[mido.Message] = []
        assert wait_for(lambda: (got.extend(synth_in.iter_pending()),
                                 sum(m.type == "note_on" for m in got) >= 4)[1], timeout=5), got
        ons = [(m.note, m.velocity) for m in got if m.type == "note_on"]
        expected = [note_for(t.char, float(t.mixed[CHAR_TO_INDEX[t.char]])) for t in sent if t.char != " "]
        assert ons == expected
        assert all(m.channel == 2 for m in got)
        assert wait_for(lambda: (got.extend(synth_in.iter_pending()),
                                 sum(m.type == "note_off" for m in got) >= 4)[1], timeout=5)  # every note released
        chars = []
        while len(chars) < 5:
            for m in unpack(visuals.recv(4096)):
                assert m.address == OUT_CHAR
                chars.append(m.args)
        assert [c[1] for c in chars] == list("Lo ve")
        assert chars[2][3] == -1 and chars[2][4] == 0  # the space: a rest
        assert chars[0][5] == "linux"  # the style that wrote most of it
    finally:
        notes.close()
        engine.close()
        midi_out.close()
        synth_in.close()
        visuals.close()
