"""Figures for the MIDI controller: time from a fader move to its effect, with soft takeover.

Behind `textconductor bench midi` (and `python -m textconductor.tools.bench_midi`); a tool, not part
of the controller.

What runs is the real path from a port to the engine's socket: this module is also a tiny mido
backend (`get_devices`, `Input`, `Output`; the controller is opened with `api=` this module's
name, the way mido loads any backend), so the real `MidiController` finds the port by polling,
opens it, and gets every message through the same callback a hardware port calls: mapping, soft
takeover against the values the engine client knows, and `OscSink`, which sends a real UDP
datagram on loopback. The far end is a stand-in engine that decodes each datagram with the
engine's own parser (`protocol.parse_packet`) and answers pings with a hello, as the engine does;
the moment it has decoded a `/tc/weight` is the effect. (The engine applies a command at the next
character: add up to 1/rate for what is heard.)

Each round, someone else (a preset, the autopilot: `set_weights` on the same sink) moves the style
to a random value, then the fader sweeps from where it was towards that value, past it, and on:
the moves before it passes are held (no datagram at all), the first after it takes over. Figures:

* move -> effect, median and p99, with pickup and, for comparison, in jump mode;
* the cost of a held move (it never reaches the engine);
* the largest step at takeover, in MIDI steps (a jump would show as tens of steps);
* someone else's change -> the feedback CC on the controller's output (the follower runs at 25 Hz).
"""

from __future__ import annotations

import argparse
import logging
import random
import socket
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from textconductor import protocol
from textconductor.controllers.midi import PICKUP_TOLERANCE, MidiController, MidiMap
from textconductor.controllers.osc_sink import OscSink
from textconductor.protocol.udp import serve

log = logging.getLogger(__name__)

DEVICE = "bench fader"
BACKEND = "textconductor.tools.bench_midi"  # this module, as mido loads a backend (by its name)
STYLES = ["bible", "linux", "austen"]

# ---------------------------------------------------------------------------------------------
# The fake mido backend (this module, by name). One device with an input and an output port.

_ports: dict[str, Any] = {}  # "in" -> the open _Input, "out" -> the open _Output


def get_devices(**kwargs: Any) -> list[dict[str, Any]]:
    return [{"name": DEVICE, "is_input": True, "is_output": True}]


class Input:
    """The device's input port: `play(msg)` delivers a message as a hardware port's thread would."""

    def __init__(self, name: str, virtual: bool = False, callback: Callable[[Any], Any] | None = None,
                 **kwargs: Any) -> None:
        self.name, self.callback = name, callback
        _ports["in"] = self

    def play(self, msg: Any) -> Any:
        return self.callback(msg) if self.callback is not None else None

    def close(self) -> None:
        _ports.pop("in", None)


class Output:
    """The device's output port: remembers when each feedback CC arrived."""

    def __init__(self, name: str, virtual: bool = False, autoreset: bool = False, **kwargs: Any) -> None:
        self.name = name
        self.received: list[tuple[float, Any]] = []
        self.lock = threading.Lock()
        _ports["out"] = self

    def send(self, msg: Any) -> None:
        with self.lock:
            self.received.append((time.perf_counter(), msg))

    def close(self) -> None:
        _ports.pop("out", None)


# ---------------------------------------------------------------------------------------------
class StandInEngine:
    """The engine's side of the wire on loopback: its own parser, a hello per ping, weights kept."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.weights = {n: 0.0 for n in names}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.received: list[tuple[float, str, float]] = []  # (perf_counter, style, weight)
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="bench-engine", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        serve(self.sock, self._stop, self._receive)

    def _receive(self, data: bytes, sender: tuple[str, int]) -> None:
        now = time.perf_counter()
        for item in protocol.parse_packet(data, sender):
            if isinstance(item, protocol.Rejected):
                continue
            if item.name == "ping":
                with self.cond:
                    w = np.array([self.weights[n] for n in self.names], np.float32)
                hello = protocol.Hello(self.names, np.ones(len(self.names), bool), w, "")
                self.sock.sendto(protocol.bundle(hello.encode(), protocol.Params().encode()), sender)
            elif item.name == "weight":
                name, w = item.args
                with self.cond:
                    self.weights[name] = float(w)
                    self.received.append((now, name, float(w)))
                    self.cond.notify_all()

    def wait_received(self, n: int, timeout: float = 2.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.received) >= n, timeout)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _cc(value: int) -> Any:
    import mido
    return mido.Message("control_change", channel=0, control=0, value=value)


def _ms(xs: list[float]) -> tuple[float, float]:
    """Median and p99 of `xs` seconds, in ms."""
    if not xs:
        return float("nan"), float("nan")
    return statistics.median(xs) * 1e3, float(np.percentile(xs, 99)) * 1e3


@dataclass
class MidiBench:
    mode: str = "pickup"
    rounds: int = 0
    effect_s: list[float] = field(default_factory=list)  # move -> decoded at the engine
    held_s: list[float] = field(default_factory=list)  # time in the port callback for a held move
    takeover_steps: list[float] = field(default_factory=list)  # |first value sent - value taken over| in MIDI steps
    feedback_s: list[float] = field(default_factory=list)  # someone else's change -> feedback CC out
    lost: int = 0  # moves that should have reached the engine and did not
    leaked: int = 0  # datagrams the engine got for held moves (a jump would be one)

    def lines(self) -> list[str]:
        med, p99 = _ms(self.effect_s)
        out = [f"{self.mode}: fader move -> effect at the engine: median {med:.2f} ms, p99 {p99:.2f} ms "
               f"(n={len(self.effect_s)}, lost {self.lost})"]
        if self.mode == "pickup":
            hm, hp = _ms(self.held_s)
            steps = max(self.takeover_steps, default=float("nan"))
            out.append(f"pickup: {len(self.held_s)} moves held before {self.rounds} takeovers ({self.leaked} reached "
                       f"the engine; {hm:.3f} ms median, {hp:.3f} ms p99 each); largest step at takeover "
                       f"{steps:.1f} MIDI steps (tolerance {PICKUP_TOLERANCE * 127:.0f}, crossing step 2)")
            fm, fp = _ms(self.feedback_s)
            out.append(f"feedback: someone else's change -> CC on the controller's output: median {fm:.1f} ms, "
                       f"p99 {fp:.1f} ms (n={len(self.feedback_s)}, followed at 25 Hz)")
        return out


def _run_mode(mode: str, rounds: int, seed: int, interval_s: float, step: int) -> MidiBench:
    """`rounds` sweeps of one fader through the real controller, in `mode` ('pickup' or 'jump')."""
    rng = random.Random(seed)
    engine = StandInEngine(STYLES)
    sink = OscSink("127.0.0.1", engine.port)
    ctl = MidiController(DEVICE, api=BACKEND, poll_s=0.05, feedback=True)
    ctl.mapping = MidiMap(takeover=mode)  # no store: the mapping stays this one
    result = MidiBench(mode=mode, rounds=rounds)
    try:
        if not sink.wait_for_engine(5):
            raise RuntimeError("the stand-in engine did not answer")
        ctl.start(sink)
        deadline = time.monotonic() + 5
        while ("in" not in _ports or "out" not in _ports) and time.monotonic() < deadline:
            time.sleep(0.01)
        port, out = _ports["in"], _ports["out"]
        fader = 0
        for _ in range(rounds):
            target = rng.uniform(0.15, 0.85)
            # The fader must travel to reach it; and it is off the fader's 1/127 grid, so it never equals
            # a position the fader has just sent (takeover.ECHO_S: such a change is taken up only after it).
            while abs(target * 127 - fader) < 12 or abs(target * 127 - round(target * 127)) < 0.05:
                target = rng.uniform(0.15, 0.85)
            with engine.cond:
                n_sent = len(engine.received)
            with out.lock:
                n_fb = len(out.received)
            t_change = time.perf_counter()
            sink.set_weights({"bible": target})  # someone else: a preset, the autopilot
            engine.wait_received(n_sent + 1)
            if mode == "pickup":
                want = round(target * 127)
                deadline = time.monotonic() + 1
                while time.monotonic() < deadline:
                    with out.lock:
                        hit = next((t for t, m in out.received[n_fb:] if m.value == want), None)
                    if hit is not None:
                        result.feedback_s.append(hit - t_change)
                        break
                    time.sleep(0.001)
            way = 1 if target * 127 > fader else -1
            took_over = False
            past = acted = 0
            with engine.cond:
                n_start = len(engine.received)
            while past < 15 and 0 <= fader + way * step <= 127:
                fader += way * step
                msg = _cc(fader)  # parsed before the port hands it over, as `Message.from_bytes` on its thread
                with engine.cond:
                    n = len(engine.received)
                t0 = time.perf_counter()
                actions = port.play(msg) or []
                t_back = time.perf_counter()
                if actions and all(a.kind == "held" for a in actions):
                    result.held_s.append(t_back - t0)
                else:
                    acted += 1
                    if not engine.wait_received(n + 1, timeout=1.0):
                        result.lost += 1
                    else:
                        with engine.cond:
                            t1, _, w = engine.received[n]
                        result.effect_s.append(t1 - t0)
                        if not took_over:
                            took_over = True
                            result.takeover_steps.append(abs(w - target) * 127)
                if (fader - target * 127) * way > 0:
                    past += 1
                time.sleep(interval_s)
            time.sleep(0.01)  # a held move's datagram, had there been one, has landed by now
            with engine.cond:
                result.leaked += max(0, len(engine.received) - n_start - acted)
    finally:
        ctl.stop()
        sink.close()
        engine.close()
    return result


def bench_midi(rounds: int = 50, seed: int = 0, interval_s: float = 0.004, step: int = 2) -> list[MidiBench]:
    """Pickup, then jump mode for comparison; `step` MIDI steps per message every `interval_s` (a fader
    moved briskly sends about that: 250 messages a second, 2 steps apart)."""
    return [_run_mode(mode, rounds, seed, interval_s, step) for mode in ("pickup", "jump")]


def report(results: list[MidiBench]) -> str:
    head = ("# bench midi: a fake port -> MidiController (mapping, soft takeover) -> OscSink -> UDP loopback "
            "-> the engine's parser")
    return "\n".join([head] + [line for r in results for line in r.lines()])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m textconductor.tools.bench_midi", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=50, help="takeovers to measure (one sweep each)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print(report(bench_midi(rounds=a.rounds, seed=a.seed)))
    return 0


if __name__ == "__main__":
    # Run from the module mido imports as the backend, not from this `__main__` copy of it: the ports
    # the controller opens are registered in that module's `_ports`.
    from textconductor.tools.bench_midi import main as _main
    sys.exit(_main())
