"""Benchmarks and long runs: `bench engine | ui | train | guard | midi | ...` and `soak [--ui]`.

Other modules add their own `bench` sub-commands (tempo, audience, hotload, learn, provenance,
memorisation) through their `add_bench_parsers`, beside the command they measure.

The measuring code is in `textconductor.tools` (beside the library, as pyqtgraph keeps its speed
tests beside its package); this module only turns options into calls. Each tool is imported
inside its handler, because they pull in torch or Qt and `textconductor --help` must not.
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from textconductor.cli.args import UsageError, fraction, positive_float, positive_int
from textconductor.cli.engine import add_bank_args, style_source
from textconductor.protocol.defaults import DEFAULT_GUARD_ESCAPE, DEFAULT_GUARD_STRENGTH, GUARD_ESCAPES

log = logging.getLogger(__name__)



def cmd_bench_engine(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_engine import run_bench, size_table
    if a.sizes:
        if not a.random:
            raise UsageError("--sizes compares random styles of each width: give --random N too")
        print(size_table(a.random, a.sizes, a.ticks, a.threads))
        return 0
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


GUARD_PARTS = ("generation", "escapes", "heldout", "blocklist", "timing")


def cmd_bench_guard(a: argparse.Namespace) -> int:
    """Print the loop guard's and the blocklist's tables (docs/performance.md has a run's output)."""
    from textconductor.engine.root import open_bank
    from textconductor.tools import bench_guard as bg
    bank, names = open_bank(style_source(a), a.device, a.threads)
    only = names if a.only is None else a.only
    unknown = [s for s in only if s not in names]
    if unknown:
        raise UsageError(f"--only: no style(s) {', '.join(unknown)} in the bank ({', '.join(names)})")
    mixes = bg.available_mixes(names, a.mixes)
    escapes = a.compare or list(GUARD_ESCAPES)
    parts = a.parts or list(GUARD_PARTS)
    cache = bg.RunCache(Path(a.work), style_source(a).paths()) if a.work else None
    run = cache.generate if cache is not None else bg.generate
    print(f"# bench guard: {len(names)} styles loaded; escape {a.escape}, strength {a.strength:g}; seed {a.seed}")
    if "generation" in parts:
        t = ", ".join(f"{x:g}" for x in a.temperatures)
        print(f"\n## Generation: {len(only)} single style(s) and {len(mixes)} mix(es), T = {t}, "
              f"{a.chars:,} chars each\n")
        table, worst = bg.generation_table(bank, names, only, mixes, a.temperatures, a.chars, a.seed, a.escape,
                                           a.strength, run=run)
        print(table)
        print(f"\nguard on: worst repeat share {100 * worst['repeats_on']:.2f}% (target <= 1%), "
              f"{worst['over_1pct']} of {worst['cases']} runs over 1%; longest whitespace run "
              f"{worst['whitespace_on']} (target <= 80)")
    if "escapes" in parts:
        cases = [((s,), t) for s, t in bg.WORST if s in names]
        seeds = a.seeds or [a.seed]
        judged = ("; nw: words no corpus has; b/c: bits/char under an order-5 n-gram of the style's corpus"
                  if a.corpora else "")
        print(f"\n## Escapes compared on the worst cases, {a.chars:,} chars each, mean of seeds "
              f"{', '.join(map(str, seeds))} (repeat share{judged}; median tick time)\n")
        print(bg.escape_table(bank, names, cases, a.chars, seeds, escapes, a.strength,
                              Path(a.corpora) if a.corpora else None, run=run))
    if "heldout" in parts:
        if not a.corpora:
            print("\n## Held-out text: skipped (give --corpora DIR, the folder of STYLE.txt corpora)")
        else:
            print(f"\n## Held-out text: detector over all of it; {a.heldout_chars:,} chars per style scored at T=1\n")
            table, summary = bg.heldout_table(bank, names, only, Path(a.corpora), a.heldout_chars, a.escape,
                                              a.strength, cache=cache)
            print(table)
            print(f"\nbits/char on - off: largest {summary['max_difference']:+.4f}, mean "
                  f"{summary['mean_difference']:+.4f} (target <= 0.01)")
    if "blocklist" in parts:
        t = ", ".join(f"{x:g}" for x in a.blocklist_temperatures)
        print(f"\n## Blocklist: {len(bg.STAND_INS)} common words as stand-ins, T = {t}, {a.blocklist_chars:,} chars "
              "per style and temperature\n")
        table, total = bg.blocklist_table(bank, names, only, a.blocklist_temperatures, a.blocklist_chars, a.seed,
                                          run=run)
        print(table)
        print(f"\n{total['chars']:,} chars: {total['written']} blocked words written (target 0; "
              f"{total['written_off']:,} without the list), {total['masks']:,} masks")
    if "timing" in parts:
        r = bg.timing(bank, names, a.timing_ticks)
        print(f"\n## Step time, all {r['styles']} styles active: guards off {r['off_ms']:.2f} ms, on (loop guard + "
              f"{len(bg.STAND_INS)}-word blocklist) {r['on_ms']:.2f} ms: {100 * r['overhead']:+.1f}% "
              "(target within 10%)")
    if cache is not None:
        print(f"\n({cache.hits} run(s) from {a.work}, {cache.misses} run here)")
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


def cmd_bench_midi(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_midi import bench_midi, report
    print(report(bench_midi(rounds=a.rounds, seed=a.seed)))
    return 0


def cmd_bench_tempo(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_tempo import bench_tempo, report
    rows, notes = bench_tempo(a.bpm, a.chars_per_beat, a.seconds, a.bank, a.active)
    print(report(rows, notes, a.bpm, a.chars_per_beat, a.seconds))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `soak` and `bench` with its benchmarks; the tools load only inside their handlers."""
    so = sub.add_parser("soak", help="long unthrottled run with every style active: RSS growth, max step time")
    add_bank_args(so)
    so.add_argument("--chars", type=positive_int, default=1_000_000)
    so.add_argument("--random", type=positive_int, metavar="N", help="N random 2x256 styles instead of trained ones")
    so.add_argument("--ui", action="store_true", help="soak the Qt window instead (needs a display or offscreen)")
    so.set_defaults(func=cmd_soak)

    b = sub.add_parser("bench", help="benchmarks: engine, ui, train, guard, midi, tempo, audience, hotload, ...")
    bsub = b.add_subparsers(dest="bench", required=True, metavar="WHAT")
    from textconductor.cli.learn import add_bench_parsers
    add_bench_parsers(bsub)  # bench hotload, bench learn
    from textconductor.cli.index import add_bench_parsers as add_index_benches
    add_index_benches(bsub)  # bench memorisation, bench provenance
    from textconductor.cli.audience import add_bench_parsers as add_audience_bench
    add_audience_bench(bsub)  # bench audience (--fuzz)
    be = bsub.add_parser("engine", help="step time: batched bank vs naive loop, bandwidth bound, OSC latency",
                         description="Measures, in one run, 1/8/24 active styles: batched step vs a naive loop "
                                     "over each style's nn.LSTM, memory-bandwidth bound, sustained rate while "
                                     "publishing, and OSC weight-change latency.")
    add_bank_args(be)
    be.add_argument("--random", type=positive_int, metavar="N",
                    help="use N randomly initialised 2x256 styles (timing only) instead of trained ones")
    be.add_argument("--sizes", type=positive_int, nargs="+", metavar="HIDDEN",
                    help="with --random: only the step time at these widths side by side (e.g. 256 384 512)")
    be.add_argument("--ticks", type=positive_int, default=300, help="ticks per measurement")
    be.add_argument("--seconds", type=positive_float, default=5.0, help="length of the sustained-rate run")
    be.set_defaults(func=cmd_bench_engine)

    bu = bsub.add_parser("ui", help="UI frame time at 60 updates/s of 97 bars + text (median, p99)")
    bu.add_argument("--seconds", type=positive_float, default=5.0)
    bu.add_argument("--styles", type=positive_int, default=8, help="styles loaded (from styles.toml)")
    bu.add_argument("--active", type=positive_int, default=4, help="active styles per tick (small multiples)")
    bu.add_argument("--talk", action="store_true", help="talk mode: its layout and fonts on a 1080p screen")
    bu.set_defaults(func=cmd_bench_ui)

    bt = bsub.add_parser("train", help="training chars/s for 2x256 and 2x512 on 1 and 2 threads")
    bt.add_argument("--corpus", help="text to train on (default: a generated sentence)")
    bt.add_argument("--seconds", type=positive_float, default=15.0, help="per measurement")
    bt.set_defaults(func=cmd_bench_train)

    bm = bsub.add_parser("midi", help="MIDI fader move -> effect at the engine, with soft takeover (median, p99)",
                         description="A fake port through the real MidiController and OscSink to the engine's "
                                     "parser on UDP loopback: each round someone else moves a style and a fader "
                                     "sweeps past it; pickup, then jump mode for comparison.")
    bm.add_argument("--rounds", type=positive_int, default=50, help="takeovers to measure (one sweep each)")
    bm.add_argument("--seed", type=int, default=0, help="seed of the values someone else sets")
    bm.set_defaults(func=cmd_bench_midi)

    btp = bsub.add_parser("tempo", help="character onsets against the beat at 120 BPM: own rate vs /tc/advance "
                                        "from a timer and from MIDI clock over JACK (median, p99)",
                          description="A real engine on the bundled bank; each character's arrival at a UDP "
                                      "subscriber against the ideal beat grid, mode by mode in one run.")
    btp.add_argument("--bpm", type=positive_float, default=120.0)
    btp.add_argument("--chars-per-beat", type=positive_float, default=4.0)
    btp.add_argument("--seconds", type=positive_float, default=20.0, help="per mode (default 20)")
    btp.add_argument("--active", type=positive_int, default=3, help="active styles (default 3)")
    btp.add_argument("--bank", help="folder of style checkpoints (default: the bundled bank)")
    btp.set_defaults(func=cmd_bench_tempo)

    bg = bsub.add_parser("guard", help="loop guard and blocklist: repeats off vs on, escapes, real text, timing",
                         description="Generates with every style and ten mixes at each temperature, guard off and "
                                     "on; compares the escapes on the worst cases; scores held-out text with the "
                                     "guard off and on; checks a 200-word stand-in blocklist; times a step. The "
                                     "full run (the defaults) takes hours on 2 cores: --only, --chars and --parts "
                                     "make a smaller one.")
    add_bank_args(bg)
    bg.add_argument("--only", nargs="*", metavar="STYLE",
                    help="single styles to run (default: every style; none: the mixes alone)")
    bg.add_argument("--mixes", type=int, default=10, help="how many of the ten fixed mixes to run (default 10)")
    bg.add_argument("--temperatures", nargs="+", type=positive_float, default=[0.1, 0.2, 0.3, 0.5, 0.8])
    bg.add_argument("--chars", type=positive_int, default=20_000, help="characters per run (default 20,000)")
    bg.add_argument("--seed", type=int, default=1)
    bg.add_argument("--seeds", nargs="+", type=int,
                    help="seeds to average the escape comparison over (default: --seed)")
    bg.add_argument("--escape", choices=GUARD_ESCAPES, default=DEFAULT_GUARD_ESCAPE,
                    help=f"the escape for the guard-on runs (default {DEFAULT_GUARD_ESCAPE})")
    bg.add_argument("--strength", type=fraction, default=DEFAULT_GUARD_STRENGTH,
                    help=f"guard strength 0..1 (default {DEFAULT_GUARD_STRENGTH:g})")
    bg.add_argument("--compare", nargs="+", metavar="ESCAPE[:STRENGTH]",
                    help=f"escapes to compare, each at --strength or its own (default: {', '.join(GUARD_ESCAPES)})")
    bg.add_argument("--parts", nargs="+", choices=GUARD_PARTS, help="which tables (default: all)")
    bg.add_argument("--corpora", help="folder of STYLE.txt corpora, for the held-out part (e.g. ../shared/corpora)")
    bg.add_argument("--heldout-chars", type=positive_int, default=20_000, help="held-out chars scored per style")
    bg.add_argument("--blocklist-chars", type=positive_int, default=14_000,
                    help="chars per style and temperature (default 14,000: 1,000,000+ over 24 styles x 3)")
    bg.add_argument("--blocklist-temperatures", nargs="+", type=positive_float, default=[0.3, 0.8, 1.2])
    bg.add_argument("--work", metavar="DIR",
                    help="keep each finished run here and reuse it: a stopped run resumes where it stopped")
    bg.add_argument("--timing-ticks", type=positive_int, default=200, help="ticks per timing block (8 blocks each)")
    bg.set_defaults(func=cmd_bench_guard)
