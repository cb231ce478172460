"""The engine through its real interface: a separate process, a real UDP socket, OSC bytes."""

import random
import struct
import time

import numpy as np
import pytest

from tests.engine.conftest import STYLES
from tests.fakes import EngineProbe, free_port
from textconductor.protocol import Hello, Params, Status, Tick, bundle, message
from textconductor.tools.harness import engine_command


def ticks(client, n, timeout=20.0):
    out = []
    while len(out) < n:
        out.append(Tick.decode(client.wait_for("/tc/tick", timeout=timeout)))
    return out


def test_hello_lists_styles_and_ticks_carry_distributions(client):
    client.send("/tc/ping")
    hello = Hello.decode(client.wait_for("/tc/hello"))
    assert hello.names == STYLES and hello.enabled.all()
    for t in ticks(client, 20):
        assert len(t.char) == 1
        assert t.mixed.shape == (97,) and t.mixed.sum() == pytest.approx(1.0, abs=1e-4)
        assert t.dists.shape == (len(t.active), 97)
        assert t.attribution.shape == (3,) and t.attribution.sum() == pytest.approx(1.0, abs=1e-4)
    ts = [t.tick for t in ticks(client, 5)]
    assert ts == sorted(ts) and len(set(ts)) == 5


def test_weights_in_change_what_comes_out(client):
    client.send("/tc/weights", 0.0, 1.0, 1.0)
    t = Tick.decode(client.wait_for("/tc/tick", lambda p: abs(Tick.decode(p).weights[1] - 0.5) < 1e-5))
    assert sorted(t.active.tolist()) == [1, 2] and t.weights[0] == 0
    client.send("/style/gamma", 0.0)
    t = Tick.decode(client.wait_for("/tc/tick", lambda p: Tick.decode(p).weights[1] == 1.0))
    assert t.active.tolist() == [1] and t.attribution[1] == pytest.approx(1.0)
    client.send("/tc/weight", 0, 1.0)  # by index
    client.send("/tc/enable", "beta", 0)
    t = Tick.decode(client.wait_for("/tc/tick", lambda p: Tick.decode(p).weights[0] == 1.0))
    assert t.active.tolist() == [0]
    client.send("/wek/outputs", 0.0, 0.0, 0.7)
    client.wait_for("/tc/tick", lambda p: Tick.decode(p).active.tolist() == [2])


def test_zero_weights_keep_the_last_mixture(client):
    client.send("/tc/weights", 0.3, 0.0, 0.7)
    client.wait_for("/tc/tick", lambda p: Tick.decode(p).active.tolist() == [0, 2] or
                    Tick.decode(p).active.tolist() == [2, 0])
    client.send("/tc/weights", 0.0, 0.0, 0.0)
    client.send("/tc/ping")
    client.wait_for("/tc/hello", lambda p: Hello.decode(p).weights.sum() == 0)
    for t in ticks(client, 10):
        assert t.weights[0] == pytest.approx(0.3) and t.weights[2] == pytest.approx(0.7)


def test_params_pause_resume_and_status(client):
    client.send("/tc/temperature", 0.5)
    client.send("/tc/mix", "product")
    client.send("/tc/rate", 50.0)
    # The engine publishes params after each command, so wait for the one after the last.
    p = Params.decode(client.wait_for("/tc/params", lambda p: Params.decode(p).rate == pytest.approx(50)))
    assert p.temperature == pytest.approx(0.5) and p.mix == "product"
    client.send("/tc/pause")
    client.wait_for("/tc/status", lambda p: Status.decode(p).paused)
    assert not any(a == "/tc/tick" for a, _ in client.messages(0.5))
    client.send("/tc/resume")
    ticks(client, 3)
    s = Status.decode(client.wait_for("/tc/status", lambda p: Status.decode(p).rate > 0))
    assert s.subscribers == 1 and s.active >= 1 and s.step_ms > 0


def test_prime_is_published_and_continued(client):
    client.send("/tc/prime", "In the beginning")
    tick, text = client.wait_for("/tc/primed")
    assert text == "In the beginning"
    nxt = Tick.decode(client.wait_for("/tc/tick", lambda p: Tick.decode(p).tick >= tick))
    assert nxt.tick == tick


def hostile_packets(rng: random.Random, n: int) -> list[bytes]:
    """Invalid in every way we know: each must be rejected exactly once."""
    makers = [
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64))) + b"\x00" * 3,  # random bytes
        lambda: message("/tc/weights", *[float("nan")] * 3),
        lambda: message("/tc/weights", 1.0, float("inf"), 0.0),
        lambda: message("/tc/weights", 0.5, 0.5),  # wrong count for this bank
        lambda: message("/tc/weights", *[0.1] * 300),  # huge count
        lambda: message("/tc/weight", "nosuchstyle", 0.5),
        lambda: message("/tc/weight", 99, 0.5),
        lambda: message("/tc/weight", "alpha", 2.5),
        lambda: message("/tc/temperature", "hot"),
        lambda: message("/tc/rate", -5.0),
        lambda: message("/tc/mix", "average"),
        lambda: message("/nope/" + str(rng.randint(0, 9))),
        lambda: message("/*", 1.0),
        lambda: message("/tc/subscribe", 70000),
        lambda: message("/tc/prime", 42),
        lambda: message("/style/unknown", 0.3),
        lambda: bundle(message("/tc/rate", float("nan")))[:-8],  # truncated bundle
        lambda: b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 4000) + b"abcd",  # element size beyond end
        lambda: message("/tc/rate", 10.0)[:-4] + b"\x00\x00",  # length not a multiple of 4
        lambda: b"/tc/rate\x00\x00\x00\x00,f\x00\x00",  # missing argument bytes
    ]
    return [rng.choice(makers)() for _ in range(n)]


def test_ten_thousand_hostile_packets_are_counted_and_harmless(client):
    before = Status.decode(client.wait_for("/tc/status")).rejected
    packets = hostile_packets(random.Random(7), 10_000)
    for i, p in enumerate(packets):
        client.raw(p)
        if i % 100 == 99:
            time.sleep(0.004)  # stay inside the socket buffer: we count, so nothing may be lost
    s = Status.decode(client.wait_for("/tc/status", lambda p: Status.decode(p).rejected >= before + 10_000,
                                      timeout=30))
    assert s.rejected == before + 10_000
    t0 = Tick.decode(client.wait_for("/tc/tick")).tick
    later = Tick.decode(client.wait_for("/tc/tick", lambda p: Tick.decode(p).tick > t0 + 20))
    assert np.isfinite(later.mixed).all()


def test_listen_with_allow_list_drops_other_hosts(tiny_bank):
    import socket
    import subprocess

    port = free_port()
    # Every interface is listened on, but nothing is announced (engine_command adds --no-mdns: an
    # announcement on 0.0.0.0 would be multicast on the machine's real networks) and no HTTP served.
    proc = subprocess.Popen(engine_command("--listen", "0.0.0.0", "--allow", "127.0.0.3", "--port", port, "--rate", 50,
                                           "--no-oscquery", checkpoints=tiny_bank), stderr=subprocess.DEVNULL)
    assert "--no-mdns" in proc.args
    local = EngineProbe(port)
    try:
        local.wait_until_up()
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind(("127.0.0.2", 0))
        friend = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        friend.bind(("127.0.0.3", 0))
        for _ in range(50):
            stranger.sendto(message("/tc/weights", 0.0, 1.0, 0.0), ("127.0.0.1", port))
        friend.sendto(message("/tc/weights", 0.0, 0.0, 1.0), ("127.0.0.1", port))
        s = Status.decode(local.wait_for("/tc/status", lambda p: Status.decode(p).rejected >= 50, timeout=15))
        assert s.rejected == 50
        local.wait_for("/tc/tick", lambda p: Tick.decode(p).active.tolist() == [2])  # the friend was obeyed
        stranger.close()
        friend.close()
    finally:
        local.close()
        proc.terminate()
        proc.wait(10)
