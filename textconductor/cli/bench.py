"""Benchmarks and long runs: `bench engine | ui | train` and `soak [--ui]`.

The measuring code is in `textconductor.tools` (beside the library, as pyqtgraph keeps its speed
tests beside its package); this module only turns options into calls. Each tool is imported
inside its handler, because they pull in torch or Qt and `textconductor --help` must not.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from textconductor.cli.args import positive_float, positive_int
from textconductor.cli.engine import add_bank_args, style_source

log = logging.getLogger(__name__)


def cmd_bench_engine(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_engine import run_bench
    print(run_bench(style_source(a), a.device, a.threads, a.random, ticks=a.ticks, seconds=a.seconds))
    return 0


def cmd_bench_ui(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_ui import bench_ui
    r = bench_ui(seconds=a.seconds, styles=a.styles, active=a.active, talk=a.talk)
    log.info("%s", r.report())
    return 0


def cmd_bench_train(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_train import run
    print(run(Path(a.corpus) if a.corpus else None, a.seconds))
    return 0


def cmd_soak(a: argparse.Namespace) -> int:
    if a.ui:
        from textconductor.tools.soak_ui import soak_ui
        print("# soak ui: the real window fed synthetic ticks as fast as it renders (8 per frame), 24 styles")
        r = soak_ui(a.chars)
        print(f"{r['chars']:,} chars in {r['seconds']:.0f} s; RSS after warm-up {r['rss_start_mb']:.1f} MB -> "
              f"{r['rss_end_mb']:.1f} MB ({r['rss_end_mb'] - r['rss_start_mb']:+.1f} MB), max {r['rss_max_mb']:.1f} MB")
        return 0
    from textconductor.engine.conductor import Conductor
    from textconductor.tools.bench_engine import timing_bank
    from textconductor.tools.soak import soak
    bank, names, what = timing_bank(style_source(a), a.device, a.threads, a.random)
    print(f"# soak: {what}, all active, unthrottled, publishing every tick to a UDP subscriber")
    r = soak(Conductor(bank, names, seed=0), a.chars)
    print(f"{r['chars']:,} chars in {r['seconds']:.0f} s ({r['rate']:.0f} chars/s); RSS {r['rss_start_mb']:.1f} -> "
          f"{r['rss_end_mb']:.1f} MB ({r['rss_growth_mb']:+.1f} MB); max step {r['max_step_ms']:.1f} ms; "
          f"subscriber received {r['received']:,} ticks")
    return 0 if math.isfinite(r["rss_growth_mb"]) else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add `soak` and `bench` with its benchmarks; the tools load only inside their handlers."""
    so = sub.add_parser("soak", help="long unthrottled run with every style active: RSS growth, max step time")
    add_bank_args(so)
    so.add_argument("--chars", type=positive_int, default=1_000_000)
    so.add_argument("--random", type=positive_int, metavar="N", help="N random 2x256 styles instead of trained ones")
    so.add_argument("--ui", action="store_true", help="soak the Qt window instead (needs a display or offscreen)")
    so.set_defaults(func=cmd_soak)

    b = sub.add_parser("bench", help="benchmarks: bench engine | ui | train")
    bsub = b.add_subparsers(dest="bench", required=True, metavar="WHAT")
    be = bsub.add_parser("engine", help="step time: batched bank vs naive loop, bandwidth bound, OSC latency",
                         description="Measures, in one run, 1/8/24 active styles: batched step vs a naive loop "
                                     "over each style's nn.LSTM, memory-bandwidth bound, sustained rate while "
                                     "publishing, and OSC weight-change latency.")
    add_bank_args(be)
    be.add_argument("--random", type=positive_int, metavar="N",
                    help="use N randomly initialised 2x256 styles (timing only) instead of trained ones")
    be.add_argument("--ticks", type=positive_int, default=300, help="ticks per measurement")
    be.add_argument("--seconds", type=positive_float, default=5.0, help="length of the sustained-rate run")
    be.set_defaults(func=cmd_bench_engine)

    bu = bsub.add_parser("ui", help="UI frame time at 60 updates/s of 97 bars + text (median, p99)")
    bu.add_argument("--seconds", type=positive_float, default=5.0)
    bu.add_argument("--styles", type=positive_int, default=8, help="styles loaded (from styles.toml)")
    bu.add_argument("--active", type=positive_int, default=4, help="active styles per tick (small multiples)")
    bu.add_argument("--talk", action="store_true", help="talk-mode fonts")
    bu.set_defaults(func=cmd_bench_ui)

    bt = bsub.add_parser("train", help="training chars/s for 2x256 and 2x512 on 1 and 2 threads")
    bt.add_argument("--corpus", help="text to train on (default: a generated sentence)")
    bt.add_argument("--seconds", type=positive_float, default=15.0, help="per measurement")
    bt.set_defaults(func=cmd_bench_train)
