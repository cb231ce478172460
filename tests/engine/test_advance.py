"""`/tc/advance n`: an external clock places the characters; the engine's own rate holds meanwhile,
takes over again when the advances stop, and the record of a clocked performance replays exactly."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time

import pytest
import torch

from tests.fakes import EngineProbe, free_port, next_tick, subscriber_socket
from textconductor.engine import runner
from textconductor.engine.bank import Bank
from textconductor.engine.conductor import Conductor
from textconductor.engine.replay import replay
from textconductor.engine.runner import Engine
from textconductor.engine.server import EngineSocket
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol import Params, message
from textconductor.tools.harness import engine_command


@pytest.fixture
def running(monkeypatch):
    """An in-process engine at its own rate of 50 chars/s, run on a thread, with a subscriber."""
    monkeypatch.setattr(runner, "EXTERNAL_CLOCK_HOLD_S", 1.0)
    torch.manual_seed(0)
    bank = Bank([CharLSTM(CharLSTMConfig(layers=1, hidden=16, embed=8)).eval() for _ in range(2)])
    sub = subscriber_socket(timeout=0.02)  # so ticks_within() ends on time
    eng = Engine(Conductor(bank, ["a", "b"], seed=0, params=Params(rate=50)), EngineSocket("127.0.0.1", 0),
                 [sub.getsockname()])
    eng.sock.start()
    th = threading.Thread(target=eng.run, daemon=True)
    th.start()
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield eng, sub, lambda *m: ctl.sendto(message(*m), eng.sock.address)
    eng.stop()
    th.join(5)
    eng.sock.close()
    sub.close()
    ctl.close()


def ticks_within(sub: socket.socket, seconds: float) -> list[int]:
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            out.append(next_tick(sub).tick)
        except TimeoutError:
            pass
    return out


def test_advance_places_characters_and_holds_the_own_rate(running):
    eng, sub, send = running
    assert len(ticks_within(sub, 0.3)) >= 5  # its own clock runs
    send("/tc/advance", 0)  # hold: no characters of its own
    time.sleep(0.1)
    ticks_within(sub, 0.05)  # drain what was in flight
    assert ticks_within(sub, 0.3) == []  # 0.45 s into the hold of 1 s
    before = eng.conductor.tick_index
    send("/tc/advance", 3)
    got = ticks_within(sub, 0.3)
    assert got == [before, before + 1, before + 2]  # exactly three, in order, at once
    send("/tc/advance")  # no argument: one
    assert ticks_within(sub, 0.3) == [before + 3]
    time.sleep(0.8)  # 1 s after the last advance the own rate takes over again
    assert len(ticks_within(sub, 0.4)) >= 5


def test_advance_while_paused_writes_nothing(running):
    eng, sub, send = running
    send("/tc/pause")
    time.sleep(0.1)
    ticks_within(sub, 0.05)
    before = eng.conductor.tick_index
    send("/tc/advance", 4)
    assert ticks_within(sub, 0.3) == [] and eng.conductor.tick_index == before


def test_bad_advances_are_counted_not_fatal(running):
    eng, sub, send = running
    send("/tc/advance", 65)
    send("/tc/advance", 1.5)
    send("/tc/advance", -1)
    send("/tc/advance", "x")
    deadline = time.monotonic() + 5
    while eng.sock.rejected.total < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert eng.sock.rejected.counts["advance must be a whole number 0..64"] == 3
    assert eng.sock.rejected.total == 4


def test_a_clocked_performance_replays_exactly(tiny_bank, tmp_path):
    """Characters placed by /tc/advance, with weights and a bar-line newline (a prime) in between:
    the record holds the events at their ticks and the text, and replay regenerates every character."""
    record = tmp_path / "clocked.jsonl"
    port = free_port()
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 30, "--seed", 3, "--threads", 1,
                                           "--record", record, checkpoints=tiny_bank),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    probe = EngineProbe(port)
    try:
        probe.wait_until_up(proc)  # the engine takes a few seconds to start: ask until it answers
        probe.send("/tc/advance", 0)
        for k in range(12):
            probe.send("/tc/advance", 1 + k % 3)
            if k == 4:
                probe.send("/tc/weights", 0.2, 0.5, 0.3)
            if k == 7:
                probe.send("/tc/prime", "\n")
            time.sleep(0.03)
        probe.wait_for("/tc/status", timeout=5)
    finally:
        probe.close()
        proc.terminate()
        proc.wait(20)
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert not [x for x in lines if x["type"] == "event" and x["cmd"] == "advance"]  # timing is not recorded
    assert [x["cmd"] for x in lines if x["type"] == "event"][-2:] == ["weights", "prime"]
    r = replay(record)
    assert r.ticks >= 24 and r.first_mismatch is None, (r.generated, r.recorded)
