"""Subscriptions are leases: 40 clients that vanish without unsubscribing cannot lock a new window out."""

from __future__ import annotations

import socket
import threading
import time
import tomllib

import pytest
import torch

from tests.fakes import FakeClock
from textconductor.assets import THEME
from textconductor.engine.bank import Bank
from textconductor.engine.conductor import Conductor
from textconductor.engine.runner import MAX_SUBSCRIBERS, Engine
from textconductor.engine.server import EngineSocket
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol import Command, EngineConnection, Params, Tick, message
from textconductor.protocol.client import PING_EVERY_S
from textconductor.protocol.defaults import SUBSCRIPTION_LEASE_S


def tiny_engine(lease_s: float = SUBSCRIPTION_LEASE_S, clock=time.monotonic, rate: float = 0.0,
                permanent=None) -> Engine:
    torch.manual_seed(0)
    bank = Bank([CharLSTM(CharLSTMConfig(layers=1, hidden=16, embed=8)).eval() for _ in range(2)])
    return Engine(Conductor(bank, ["a", "b"], seed=0, params=Params(rate=rate)), EngineSocket("127.0.0.1", 0),
                  permanent, lease_s=lease_s, clock=clock)


def subscribe(eng: Engine, port: int) -> None:
    eng.handle(Command("subscribe", (None, port), ("127.0.0.1", 40000)))


@pytest.fixture
def leased():
    clock = FakeClock()
    eng = tiny_engine(lease_s=15.0, clock=clock, permanent=[("127.0.0.1", 9)])
    yield eng, clock
    eng.sock.close()


def test_a_full_house_turns_a_newcomer_away_until_leases_run_out(leased):
    eng, clock = leased
    for k in range(40):
        subscribe(eng, 20000 + k)
    assert len(eng.subscribers) == MAX_SUBSCRIBERS and eng.sock.rejected.counts["too many subscribers"] == 9
    subscribe(eng, 30000)
    assert ("127.0.0.1", 30000) not in eng.subscribers
    clock.t += 14.9
    subscribe(eng, 30000)
    assert ("127.0.0.1", 30000) not in eng.subscribers
    clock.t += 0.2
    subscribe(eng, 30000)
    assert eng.subscribers == [("127.0.0.1", 9), ("127.0.0.1", 30000)]  # the permanent one stays


def test_renewing_keeps_a_subscription_and_unsubscribing_ends_it(leased):
    eng, clock = leased
    subscribe(eng, 20001)
    for _ in range(10):
        clock.t += 10.0  # well past the lease in all, but renewed every 10 s
        subscribe(eng, 20001)
        eng.expire()
        assert ("127.0.0.1", 20001) in eng.subscribers
    eng.handle(Command("unsubscribe", (None, 20001), ("127.0.0.1", 40000)))
    assert ("127.0.0.1", 20001) not in eng.subscribers
    clock.t += 1000
    eng.expire()
    assert eng.subscribers == [("127.0.0.1", 9)]


def test_every_client_renews_well_within_the_lease():
    link = tomllib.loads(THEME.read_text())["link"]
    assert PING_EVERY_S <= SUBSCRIPTION_LEASE_S / 3  # EngineConnection's keepalive
    assert link["resubscribe_online_s"] <= SUBSCRIPTION_LEASE_S / 3  # the window's, online
    assert link["resubscribe_s"] <= SUBSCRIPTION_LEASE_S / 3


def test_forty_vanished_clients_then_a_new_one_receives_ticks_within_a_second_of_the_lease():
    lease = 2.0
    eng = tiny_engine(lease_s=lease, rate=100.0)
    eng.sock.start()
    runner = threading.Thread(target=eng.run, daemon=True)
    runner.start()
    ticks: list[float] = []
    late = None
    vanished: list[socket.socket] = []
    try:
        for _ in range(40):  # subscribe, then vanish without a word (never read, never renew)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            s.sendto(message("/tc/subscribe", s.getsockname()[1]), eng.sock.address)
            vanished.append(s)  # held open only so that the new client cannot be given one of their ports
        deadline = time.monotonic() + 5
        while len(eng.subscribers) < MAX_SUBSCRIBERS and time.monotonic() < deadline:
            time.sleep(0.01)
        t0 = time.monotonic()
        assert len(eng.subscribers) == MAX_SUBSCRIBERS
        late = EngineConnection(*eng.sock.address, subscribe=True, keepalive_s=0.2,
                                on_message=lambda m: ticks.append(time.monotonic()) if isinstance(m, Tick) else None)
        while not ticks and time.monotonic() - t0 < lease + 3:
            time.sleep(0.02)
        assert ticks, "the new client never received a tick"
        waited = ticks[0] - t0
        assert lease - 0.5 <= waited <= lease + 1.0, waited
        assert eng.sock.rejected.counts["too many subscribers"] >= 8
    finally:
        if late is not None:
            late.close()
        for s in vanished:
            s.close()
        eng.stop()
        runner.join(5)
        eng.sock.close()


def test_a_connection_that_keeps_renewing_outlives_many_leases():
    eng = tiny_engine(lease_s=0.6, rate=100.0)
    eng.sock.start()
    runner = threading.Thread(target=eng.run, daemon=True)
    runner.start()
    got: list[int] = []
    conn = EngineConnection(*eng.sock.address, subscribe=True, keepalive_s=0.15,
                            on_message=lambda m: got.append(m.tick) if isinstance(m, Tick) else None)
    try:
        time.sleep(2.5)  # four leases long
        n = len(got)
        time.sleep(0.5)
        assert n > 50 and len(got) > n  # still receiving
    finally:
        conn.close()
        eng.stop()
        runner.join(5)
        eng.sock.close()
