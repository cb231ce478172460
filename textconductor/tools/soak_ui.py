"""`textconductor soak --ui`: the real window fed synthetic ticks for a long run; its RSS must stay flat.

A tool on top of the frontend (not part of it): it drives the window as a harness would.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from textconductor import protocol
from textconductor.cli.window_controllers import real_controllers
from textconductor.frontend.app import build_window, qapp
from textconductor.frontend.link import decode_outgoing
from textconductor.memory import rss_mb
from textconductor.tools.bench_ui import synthetic_tick


def soak_ui(chars: int = 200_000, per_frame: int = 8, styles: int = 24, active: int = 6, report_every: int = 20_000,
            log_line=print) -> dict:
    """Feed the real window `chars` synthetic ticks as fast as it renders them; RSS must stay flat.

    A gallery runs for days: bounded scrollback and no per-tick growth anywhere are what keep it alive.
    """
    app = qapp()
    win = build_window("127.0.0.1:9", 0, presets_path=Path(tempfile.mkdtemp()) / "presets.json",
                       screen_size=(1920, 1080),
                       controllers=real_controllers())
    win.stop_render_timer()
    win.link.stop(unsubscribe=False)
    names = list(win.theme.styles_table)[:styles]
    win.on_hello(protocol.Hello(names, np.ones(len(names), bool), np.zeros(len(names), np.float32), ""))
    win.resize(1920, 1080)
    win.show()
    rng = np.random.default_rng(0)
    packets = [synthetic_tick(rng, i, len(names), min(active, len(names))).encode() for i in range(600)]
    fed, rss = 0, []
    t0 = time.monotonic()
    start = None
    warm = min(5_000, chars // 2)  # a short soak still gets a baseline (after fonts and glyph caches)
    while fed < chars:
        batch = []
        for _ in range(per_frame):
            (_, args), = decode_outgoing(packets[fed % len(packets)])
            tick = protocol.Tick.decode(args)
            tick.tick = fed
            batch.append(tick)
            fed += 1
        win.on_ticks(batch)
        win.render_frame()
        app.processEvents()
        if start is None and fed >= warm:
            start = rss_mb()  # after warm-up: fonts, glyph caches, the first scrollback fill
        if fed % report_every < per_frame:
            rss.append(rss_mb())
            log_line(f"{fed:>9,} chars fed  RSS {rss[-1]:7.1f} MB  ({fed / (time.monotonic() - t0):.0f} chars/s)")
    end = rss_mb()
    win.close()
    return {"chars": fed, "rss_start_mb": start, "rss_end_mb": end, "rss_max_mb": max(rss or [end]),
            "seconds": time.monotonic() - t0}
