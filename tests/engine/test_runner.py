"""The tick loop in-process: a command that has arrived is in effect at the very next tick."""

import socket
import time

import numpy as np
import pytest
import torch

from tests.fakes import next_tick, subscriber_socket
from textconductor.engine.bank import Bank
from textconductor.engine.conductor import Conductor
from textconductor.engine.runner import Engine
from textconductor.engine.server import EngineSocket
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol import Params, message


@pytest.fixture
def engine():
    torch.manual_seed(0)
    bank = Bank([CharLSTM(CharLSTMConfig(layers=1, hidden=16, embed=8)).eval() for _ in range(3)])
    sub = subscriber_socket()
    eng = Engine(Conductor(bank, ["a", "b", "c"], seed=0, params=Params(rate=0)), EngineSocket("127.0.0.1", 0),
                 [sub.getsockname()])
    eng.sock.start()
    yield eng, sub
    eng.sock.close()
    sub.close()


def test_weight_change_is_heard_at_the_next_tick(engine):
    eng, sub = engine
    eng.run(max_ticks=3)
    for weights in ([0.0, 1.0, 0.0], [0.2, 0.0, 0.8], [0.0, 0.0, 1.0]):
        ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        ctl.sendto(message("/tc/weights", *weights), eng.sock.address)
        ctl.close()
        deadline = time.monotonic() + 5
        while eng.sock.commands.qsize() == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        before = eng.conductor.tick_index
        eng.run(max_ticks=1)
        t = None
        while t is None or t.tick < before:
            t = next_tick(sub)
        assert t.tick == before
        np.testing.assert_allclose(t.weights, np.array(weights) / sum(weights), atol=1e-6)


def test_paused_engine_generates_nothing_but_keeps_listening(engine):
    eng, sub = engine
    eng.conductor.paused = True
    import threading
    th = threading.Thread(target=eng.run, daemon=True)
    th.start()
    time.sleep(0.3)
    assert eng.conductor.tick_index == 0
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctl.sendto(message("/tc/resume"), eng.sock.address)
    assert next_tick(sub).tick == 0
    eng.stop()
    th.join(5)
