"""`textconductor bench ui`: the UI thread's frame time, measured on the real window fed synthetic ticks.

It lives among the tools, not in the frontend, because it drives the window from outside as a harness
would (stopping its timer, feeding decoded packets), and the soak reuses its synthetic ticks.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor import protocol
from textconductor.cli.window_controllers import real_controllers
from textconductor.frontend.app import build_window, qapp


def synthetic_tick(rng: np.random.Generator, i: int, n_styles: int, n_active: int) -> protocol.Tick:
    """A plausible tick: peaked distributions (Dirichlet with small alpha); the active set changes every
    two seconds (as when a performer brings a style in), not every tick."""
    from textconductor.protocol.charset import CHARS
    v = len(CHARS)
    sets = np.random.default_rng(i // 120)
    active = np.sort(sets.choice(n_styles, size=n_active, replace=False)).astype(np.int32)
    dists = rng.dirichlet(np.full(v, 0.08), size=n_active).astype(np.float32)
    w = np.zeros(n_styles, np.float32)
    w[active] = rng.dirichlet(np.ones(n_active))
    mixed = (w[active][:, None] * dists).sum(0)
    mixed /= mixed.sum()
    c = int(rng.choice(v, p=mixed))
    attr = np.zeros(n_styles, np.float32)
    share = w[active] * dists[:, c]
    attr[active] = share / share.sum()
    return protocol.Tick(i, CHARS[c], attr, mixed.astype(np.float32), active, dists, w)


@dataclass
class BenchResult:
    frames: int
    median_ms: float
    p99_ms: float
    max_ms: float
    paints_per_frame: float
    cpu_median_ms: float
    cpu_p99_ms: float

    def report(self) -> str:
        return (f"bench ui: {self.frames} frames at 60/s of 97 bars + small multiples + text, 1920x1080, every panel "
                f"visible: wall median {self.median_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms; "
                f"UI-thread CPU median {self.cpu_median_ms:.2f} ms, p99 {self.cpu_p99_ms:.2f} ms "
                f"({self.paints_per_frame:.1f} widget paints/frame)")


def bench_ui(seconds: float = 5.0, styles: int = 8, active: int = 4, rate: float = 60.0, talk: bool = False,
             seed: int = 0) -> BenchResult:
    """Frame time of the UI thread: decode + queue a tick, render it, and let Qt paint what changed.

    The window is 1920x1080 with every panel visible and is connected to nothing (it shows offline),
    so only the frontend is measured. Wall time is what the audience sees; on a shared, loaded machine
    it includes time the scheduler gave to other processes, so the UI thread's CPU time is reported too.
    One synthetic tick per frame is encoded to OSC bytes and decoded as the link would, then the real
    render path runs and `processEvents` performs the paints.
    """
    app = qapp()
    from PySide6.QtCore import QEvent, QObject

    from textconductor.frontend.link import decode_outgoing
    win = build_window("127.0.0.1:9", 0, talk=talk, presets_path=Path(tempfile.mkdtemp()) / "presets.json",
                       screen_size=(1920, 1080),  # fonts as on the 1080p screen it is measured at
                       controllers=real_controllers())
    win.stop_render_timer()  # we drive frames ourselves
    win.link.stop(unsubscribe=False)
    names = [n for n in list(win.theme.styles_table)[:styles]]
    hello = protocol.Hello(names, np.ones(len(names), bool), np.zeros(len(names), np.float32), "")
    win.on_hello(hello)
    win.resize(1920, 1080)
    win.show()
    for _ in range(20):
        app.processEvents()

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                PaintCounter.count += 1
            return False
    counter = PaintCounter()
    app.installEventFilter(counter)
    rng = np.random.default_rng(seed)
    frame_s = 1.0 / rate
    times: list[float] = []
    cpu: list[float] = []
    n_frames = max(10, int(seconds * rate))
    ticks = [synthetic_tick(rng, i, len(names), min(active, len(names))) for i in range(min(n_frames, 300))]
    packets = [t.encode() for t in ticks]
    next_t = time.perf_counter()
    for i in range(n_frames):
        t0, c0 = time.perf_counter(), time.thread_time()
        (addr, args), = decode_outgoing(packets[i % len(packets)])
        win.on_ticks([protocol.Tick.decode(args)])
        win.render_frame()
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        next_t += frame_s
        delay = next_t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    app.removeEventFilter(counter)
    win.close()
    return BenchResult(len(times), float(statistics.median(times)), float(np.percentile(times, 99)), float(max(times)),
                       PaintCounter.count / len(times), float(statistics.median(cpu)), float(np.percentile(cpu, 99)))
