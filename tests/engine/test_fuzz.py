"""Issue-level fuzz: 100,000 hostile packets from another process at full speed."""

import subprocess
import sys
import time

import numpy as np

from textconductor.protocol import Status, Tick

N = 100_000

SENDER = f"""
import random, socket, sys
sys.path.insert(0, {str(__import__("pathlib").Path(__file__).resolve().parents[2])!r})
from tests.engine.test_osc import hostile_packets
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
packets = hostile_packets(random.Random(11), 2000)
for i in range({N}):
    s.sendto(packets[i % len(packets)], ("127.0.0.1", port))
print("sent")
"""


def udp_drops(port: int) -> int:
    """Datagrams the kernel dropped for this local port (receive buffer full): /proc/net/udp."""
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port:
                return int(cols[-1])
    return 0


def test_hundred_thousand_hostile_packets_at_full_speed(client, engine):
    _, port = engine
    client.send("/tc/rate", 100.0)
    before = Status.decode(client.wait_for("/tc/status")).rejected
    drops0 = udp_drops(port)
    sender = subprocess.Popen([sys.executable, "-c", SENDER, str(port)], stdout=subprocess.PIPE, text=True)
    gaps, last, t0 = [], None, time.monotonic()
    for addr, _ in client.messages(0.2):
        if addr == "/tc/tick":
            now = time.monotonic()
            if last is not None:
                gaps.append(now - last)
            last = now
        if (sender.poll() is not None and time.monotonic() - t0 > 1.0) or time.monotonic() - t0 > 120:
            break
    assert sender.wait(30) == 0
    dropped = udp_drops(port) - drops0
    s = Status.decode(client.wait_for(
        "/tc/status", lambda p: Status.decode(p).rejected >= before + N - dropped, timeout=60))
    assert s.rejected == before + N - dropped  # every packet that reached the engine was counted
    # The engine really parsed a flood, whatever the kernel dropped: how much it drops depends on
    # how fast the sender is against the engine's receive thread (16,405 parsed was the least seen,
    # in a CI run; usually far more), so the floor is a tenth of the flood.
    assert N - dropped >= N // 10
    # At 100 chars/s a character is due every 10 ms. A flood that starved the tick thread would
    # stretch many gaps; a single one can stretch when the sender, the engine's two threads and this
    # client share two cores (144 ms seen once in a local CI run), and these gaps are measured here,
    # in the client, so the scheduler's hiccups count too. So: almost every gap short, none long.
    assert len(gaps) > 50, len(gaps)
    p99 = float(np.percentile(gaps, 99))
    assert p99 < 0.1 and max(gaps) < 0.5, f"generation stalled: p99 {p99 * 1000:.0f} ms, max {max(gaps) * 1000:.0f} ms"
    Tick.decode(client.wait_for("/tc/tick"))  # and it is still generating
    print(f"\n{N:,} packets sent; kernel dropped {dropped:,}; engine rejected {s.rejected - before:,}; "
          f"longest gap between characters {max(gaps) * 1000:.0f} ms at 100 chars/s")
