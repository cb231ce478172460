"""`textconductor soak`: the engine unthrottled for N characters with every style active while a
subscriber receives, to show that memory stays flat and no step stalls over a long run.

`all_active_engine` is shared with `bench engine`'s sustained-rate run; the command itself
(choosing the bank, printing the summary) is in `textconductor.cli.bench`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from textconductor.engine.conductor import Conductor
from textconductor.engine.runner import Engine
from textconductor.engine.server import EngineSocket
from textconductor.memory import rss_mb
from textconductor.protocol import Command, Params


def all_active_engine(conductor: Conductor) -> tuple[Engine, socket.socket]:
    """The engine unthrottled with every style active, publishing to a fresh loopback subscriber."""
    conductor.params = Params(rate=0.0, threshold=0.0, seed=conductor.params.seed)
    conductor.apply(Command("weights", (1.0,) * len(conductor.names)))
    sub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
    sub.bind(("127.0.0.1", 0))
    sub.settimeout(0.5)
    engine = Engine(conductor, EngineSocket("127.0.0.1", 0), [sub.getsockname()])
    engine.sock.start()
    return engine, sub


def soak(conductor: Conductor, chars: int, report_every: int = 100_000,
         log: Callable[[str], None] = print) -> dict:
    """Run `chars` characters after a warm-up; `log` gets a progress line every `report_every`.

    Memory is measured from after the warm-up, so allocator and cache growth that stops is not
    mistaken for a leak; the returned dict has the figures the summary line prints.
    """
    engine, sub = all_active_engine(conductor)
    received = [0]
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                if sub.recv(1 << 16).startswith(b"/tc/tick"):
                    received[0] += 1
            except TimeoutError:
                continue
            except OSError:
                return

    threading.Thread(target=receive, daemon=True).start()
    engine.run(max_ticks=2_000)  # warm up: allocator and caches settle before the baseline
    time.sleep(0.2)
    received[0] = 0
    rss0, t0, max_step = rss_mb(), time.monotonic(), 0.0
    done = 0
    while done < chars:
        n = min(report_every, chars - done)
        engine.stats.step_s.clear()
        engine.run(max_ticks=n)
        done += n
        max_step = max(max_step, max(engine.stats.step_s))
        log(f"{done:>10,} chars  {done / (time.monotonic() - t0):6.0f} chars/s  RSS {rss_mb():7.1f} MB  "
            f"max step {max(engine.stats.step_s) * 1e3:6.1f} ms")
    elapsed = time.monotonic() - t0
    rss1 = rss_mb()
    time.sleep(0.5)
    stop.set()
    engine.sock.close()
    sub.close()
    return {"chars": done, "seconds": elapsed, "rate": done / elapsed, "rss_start_mb": rss0, "rss_end_mb": rss1,
            "rss_growth_mb": rss1 - rss0, "max_step_ms": max_step * 1e3, "received": received[0],
            "styles": len(conductor.names)}
