"""`textconductor bench tempo`: how close to the beat the characters come, at 120 BPM.

A real engine process on the bundled bank (three styles active) publishes every character to a
UDP subscriber in this process; a character's onset is the moment that subscriber receives it.
Side by side, in one run, each for `seconds`:

* **own rate**: the engine's own clock at the tempo's rate (`/tc/rate 8` for 4 chars a beat), what
  setting the rate from the tempo would give. It has no phase with the beat, so it is scored
  against the best grid of its own period (anchored at its median phase): only its spread counts.
* **timer -> /tc/advance**: the tempo driver on a steady clock of this machine (TimerSource), the
  characters placed on the grid by `/tc/advance`. Scored against the timer's exact grid.
* **MIDI clock -> /tc/advance** (when jackd is installed): a clock sender emits 24 pulses a beat on a
  virtual JACK port (dummy driver, 128-frame periods at 48 kHz: 2.7 ms) at 120 BPM; the real
  `MidiClockSource` follows it and the driver advances the engine. Scored against the sender's
  nominal grid (its pulses' ideal times): latency and jitter against the clock that played.
* the same **with notes out**: a `NotesOut` subscriber sends each character as a MIDI note on a
  JACK port and as `/tc/char` over UDP, to show what listening costs the engine.

Per mode: characters received / slots, the median signed offset (latency), the jitter (|offset -
median|: median and p99) and |offset| p50/p99 in ms, and the engine's step time from `/tc/status`.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from textconductor.controllers.tempo.driver import TempoDriver
from textconductor.controllers.tempo.schedule import PPQN
from textconductor.controllers.tempo.sources import MidiClockSource, TimerSource
from textconductor.protocol import OUT_STATUS, OUT_TICK, Status, message, unpack
from textconductor.protocol.client import EngineConnection
from textconductor.tools.harness import engine_command, free_udp_port, stop_process

log = logging.getLogger(__name__)

JACK_SERVER = "textconductor-bench"


class MidiClockSender:
    """A drum machine: MIDI clock at `bpm` on `port` (a mido output) from its own thread, each pulse
    sent when its ideal time comes (`t0 + k * 60 / (bpm * 24)`), so its nominal grid is known."""

    def __init__(self, port, bpm: float) -> None:
        self.port, self.bpm = port, bpm
        self.t0: float | None = None
        self.sent = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="clock-sender", daemon=True)

    def _run(self) -> None:
        import mido
        dt = 60.0 / (self.bpm * PPQN)
        clock = mido.Message("clock")
        self.port.send(mido.Message("start"))  # the next clock is the downbeat (beat 0)
        self.t0 = time.monotonic() + 0.01
        while not self._stop.is_set():
            due = self.t0 + self.sent * dt
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.port.send(clock)
            self.sent += 1

    def pulse_time(self, k: float) -> float:
        """The ideal time of pulse k."""
        return self.t0 + k * 60.0 / (self.bpm * PPQN)  # type: ignore[operator]

    def start(self) -> MidiClockSender:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(2)


@dataclass
class Onsets:
    """Ticks received by the bench's subscriber: arrival times, and the engine's status reports."""

    times: list[float] = field(default_factory=list)
    steps_ms: list[float] = field(default_factory=list)
    recording: bool = False


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.now = Onsets()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, OSError):
                continue
            t = time.monotonic()
            rec = self.now
            if not rec.recording:
                continue
            for m in unpack(data):
                if getattr(m, "address", None) == OUT_TICK:
                    rec.times.append(t)
                elif getattr(m, "address", None) == OUT_STATUS:
                    rec.steps_ms.append(Status.decode(m.args).step_ms)

    def record(self, seconds: float) -> Onsets:
        self.now = Onsets(recording=True)
        time.sleep(seconds)
        self.now.recording = False
        return self.now

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def score(onsets: list[float], grid_t0: float | None, period: float, slots: int) -> dict[str, float]:
    """Each onset against the nearest slot of the grid `grid_t0 + k * period` (None: its own best phase)."""
    t = np.asarray(onsets)
    if t.size == 0:
        return {"n": 0, "slots": slots}
    if grid_t0 is None:  # anchored at the median phase: the best grid of this period
        phase = (t - t[0]) % period
        grid_t0 = t[0] + float(np.median(np.where(phase > period / 2, phase - period, phase)))
    k = np.round((t - grid_t0) / period)
    off = (t - (grid_t0 + k * period)) * 1e3
    med = float(np.median(off))
    dev = np.abs(off - med)
    return {"n": int(t.size), "slots": slots, "latency": med, "jitter50": float(np.median(dev)),
            "jitter99": float(np.percentile(dev, 99)), "abs50": float(np.median(np.abs(off))),
            "abs99": float(np.percentile(np.abs(off), 99))}


def _die_with_parent() -> None:
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_jack() -> tuple[subprocess.Popen | None, str]:
    """A JACK server on the dummy driver for the MIDI modes; (None, why) when it cannot run here."""
    if shutil.which("jackd") is None:
        return None, "jackd is not installed (Debian: apt-get install --no-install-recommends jackd2)"
    os.environ["JACK_DEFAULT_SERVER"] = JACK_SERVER
    proc = subprocess.Popen(["jackd", "-n", JACK_SERVER, "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "128"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    import mido
    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            backend.get_input_names()
            return proc, ""
        except OSError:
            time.sleep(0.2)
    proc.kill()
    return None, "jackd did not start here"


def start_engine(listener: Listener, rate: float, bank: str | None) -> tuple[subprocess.Popen, int]:
    port = free_udp_port()
    cmd = engine_command("--port", port, "--rate", f"{rate:g}", "--seed", 1, "--threads", 1,
                         "--subscribe", f"127.0.0.1:{listener.port}", "--no-blocklist")
    if bank:
        cmd += ["--bank", bank]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port


def bench_tempo(bpm: float = 120.0, chars_per_beat: float = 4.0, seconds: float = 20.0, bank: str | None = None,
                active: int = 3) -> tuple[list[tuple[str, dict]], list[str]]:
    """Every mode side by side; (rows, notes)."""
    rate = bpm / 60.0 * chars_per_beat
    period = 1.0 / rate
    listener = Listener()
    engine, port = start_engine(listener, rate, bank)
    conn = EngineConnection("127.0.0.1", port)
    rows: list[tuple[str, dict]] = []
    notes: list[str] = []
    jack = None
    try:
        if not conn.wait_for_engine(120):
            raise RuntimeError("the engine did not start")
        names = conn.styles
        conn.send_datagrams([message("/tc/weights", *[1.0 if i < active else 0.0 for i in range(len(names))])])
        notes.append(f"engine: bundled bank ({len(names)} styles), {min(active, len(names))} active, seed 1; "
                     f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the start")
        time.sleep(2.0)  # the styles come in (re-sync), the first status reports pass

        # own rate: the engine's clock at the tempo's rate
        conn.control("rate", rate)
        time.sleep(1.0)
        rec = listener.record(seconds)
        rows.append(("own rate (/tc/rate)", score(rec.times, None, period, int(seconds * rate)) | _steps(rec)))

        # timer -> /tc/advance
        timer = TimerSource(bpm)
        driver = TempoDriver(timer, conn, chars_per_beat)
        timer.start()
        driver.start()
        time.sleep(1.0)
        rec = listener.record(seconds)
        driver.stop()
        rows.append(("timer -> /tc/advance", score(rec.times, timer.timeline().t0, period, int(seconds * rate))
                     | _steps(rec)))

        jack, why = start_jack()
        if jack is None:
            notes.append(f"MIDI clock over JACK not measured: {why}")
        else:
            for with_notes in (False, True):
                rows.append(_midi_mode(listener, conn, port, bpm, chars_per_beat, seconds, with_notes))
            notes.append("MIDI clock: a virtual JACK port, dummy driver at 48 kHz with 128-frame periods (2.7 ms)")
    finally:
        conn.close()
        stop_process(engine)
        listener.close()
        if jack is not None:
            jack.terminate()
            jack.wait(5)
    return rows, notes


def _steps(rec: Onsets) -> dict[str, float]:
    return {"step_ms": float(np.median(rec.steps_ms)) if rec.steps_ms else float("nan")}


def _midi_mode(listener: Listener, conn: EngineConnection, port: int, bpm: float, chars_per_beat: float,
               seconds: float, with_notes: bool) -> tuple[str, dict]:
    import mido

    from textconductor.controllers.tempo.notes import NotesOut
    backend = mido.Backend("mido.backends.rtmidi/UNIX_JACK")
    device = f"bench clock {os.getpid()}{int(with_notes)}"
    out = backend.open_output(device, virtual=True)
    source = MidiClockSource(device, api="UNIX_JACK")
    driver = TempoDriver(source, conn, chars_per_beat)
    sender = MidiClockSender(out, bpm)
    synth = visuals = notes = None
    try:
        if with_notes:
            synth = backend.open_input(f"bench synth {os.getpid()}", virtual=True)
            time.sleep(0.3)
            name = next(n for n in backend.get_output_names() if "bench synth" in n)
            visuals = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            visuals.bind(("127.0.0.1", 0))
            notes = NotesOut("127.0.0.1", port, backend.open_output(name), visuals.getsockname())
        source.start()
        deadline = time.monotonic() + 10
        while source.port_name is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # JACK connects the port asynchronously: a lost first pulse would shift beat 0
        sender.start()
        driver.start()
        time.sleep(2.0)  # the fit fills (two beats) and the grid settles
        rec = listener.record(seconds)
        rate = bpm / 60.0 * chars_per_beat
        grid_t0 = sender.pulse_time(0)  # pulse 0 is beat 0: characters fall on pulses 0, 6, 12, ... (4 a beat)
        label = "MIDI clock (JACK) -> /tc/advance" + (" + notes out" if with_notes else "")
        result = score(rec.times, grid_t0, 1.0 / rate, int(seconds * rate)) | _steps(rec)
        result["lost"] = source.follower.lost
        if notes is not None:
            result["notes"] = notes.notes
        return label, result
    finally:
        driver.stop()
        sender.stop()
        source.stop()
        if notes is not None:
            notes.close()
            notes.midi.close()
        for p in (out, synth):
            if p is not None:
                p.close()
        if visuals is not None:
            visuals.close()


def report(rows: list[tuple[str, dict]], notes: list[str], bpm: float, chars_per_beat: float, seconds: float) -> str:
    out = [f"# bench tempo: {bpm:g} BPM, {chars_per_beat:g} chars per beat ({bpm / 60 * chars_per_beat:g} chars/s), "
           f"{seconds:g} s per mode; onset = arrival at a UDP subscriber", ""]
    out += [f"- {n}" for n in notes]
    out += ["", "| mode | chars / slots | latency (median offset) ms | jitter p50 ms | jitter p99 ms | "
                "abs offset p50 ms | abs offset p99 ms | engine step ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label, r in rows:
        if r.get("n", 0) == 0:
            out.append(f"| {label} | 0 / {r['slots']} | | | | | | |")
            continue
        lat = "(no phase)" if label.startswith("own rate") else f"{r['latency']:+.2f}"
        out.append(f"| {label} | {r['n']} / {r['slots']} | {lat} | {r['jitter50']:.2f} | {r['jitter99']:.2f} | "
                   f"{r['abs50']:.2f} | {r['abs99']:.2f} | {r['step_ms']:.2f} |")
    lost = [f"{label}: {r['lost']}" for label, r in rows if "lost" in r]
    out += ["", "own rate: scored against the best grid of its own period (it has no phase with any beat); "
                "the others against the clock's own grid."]
    if lost:
        out.append("clock pulses inferred lost in transport (counted, so beat 0 stays put): " + "; ".join(lost))
    return "\n".join(out)
