"""`learn`: a house style from the passages a performer kept (and rejected) in performance records;
and its two benchmarks, `bench hotload` and `bench learn` (hooked into `bench` by cli/bench.py).

The marks are read from the records here (engine/marks.py), because training must not import the
engine: training/house.py gets plain lists of kept and rejected strings. The house is written into
the styles folder, where a running engine loads it with `/tc/load NAME` (or by itself with
`engine --watch-styles`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from textconductor.cli.args import UsageError, fraction, positive_int
from textconductor.training.config import PREFERENCES, HouseConfig

log = logging.getLogger(__name__)


def _origin(ref: str | None, kept_weights: dict[str, float]) -> Path:
    """The checkpoint to start from: `base`, a style of the bundled bank or the styles folder, or a
    file; by default the style that weighs most in the kept passages' mixtures."""
    from textconductor.assets import BANK_DIR, SHIPPED_BASE
    from textconductor.paths import styles_dir
    if ref is None:
        if not kept_weights:
            return SHIPPED_BASE
        ref = max(kept_weights, key=kept_weights.get)
    if ref == "base":
        return SHIPPED_BASE
    if ref.endswith(".safetensors") or "/" in ref:
        return Path(ref)
    for folder in (BANK_DIR, styles_dir()):
        if (folder / f"{ref}.safetensors").is_file():
            return folder / f"{ref}.safetensors"
    raise UsageError(f"--from {ref}: no style of that name in the bundled bank or {styles_dir()} "
                     "(give base, a style name or a .safetensors file)")


def cmd_learn(a: argparse.Namespace) -> int:
    import torch

    from textconductor.engine.marks import read_marks
    from textconductor.model.checkpoint import load_checkpoint
    from textconductor.paths import styles_dir
    from textconductor.protocol.commands import STYLE_FILE_NAME
    from textconductor.training.corpus import load_corpus
    from textconductor.training.house import curation, learn, write_house
    if not STYLE_FILE_NAME.fullmatch(a.name):
        raise UsageError(f"--name {a.name!r}: use [a-z0-9_-]{{1,64}}, so `/tc/load {a.name}` can name it")
    torch.set_num_threads(a.threads)
    marks = read_marks([Path(r) for r in a.records])
    kept = [m.text for m in marks if m.kind == "keep"]
    rejected = [m.text for m in marks if m.kind == "reject"]
    weights: dict[str, float] = {}
    for m in marks:
        if m.kind == "keep":
            for s, w in m.weights.items():
                weights[s] = weights.get(s, 0.0) + w * len(m.text)
    origin_path = _origin(a.origin, weights)
    origin, origin_meta = load_checkpoint(origin_path)
    replay_text = load_corpus(a.corpus).train if a.corpus else None
    replay = a.replay if replay_text is not None else 0.0
    if replay_text is None and a.replay > 0:
        log.warning("no --corpus: learning without replay of the origin's text, leashed by KL alone "
                    "(measured: it forgets more of its author; docs/models.md)")
    cfg = HouseConfig(name=a.name, steps=a.steps, kl=a.kl, replay=replay, negatives=a.negatives,
                      preference=a.preference, seed=a.seed)
    print(f"learning {a.name} from {origin_meta.name} ({origin_path}): {len(kept)} kept, "
          f"{len(rejected)} rejected passage(s) in {len(a.records)} record(s)")
    result = learn(kept, rejected, origin, cfg, replay_text, progress_bar=not a.no_progress)
    bpc = None
    if a.corpus:
        from textconductor.training.train import quick_bpc
        bpc = quick_bpc(result.model, [load_corpus(a.corpus)], 50_000)
    out = (Path(a.out) if a.out else styles_dir()) / f"{a.name}.safetensors"
    write_house(out, result, cfg, origin_meta, curation(a.records, kept, rejected), bpc)
    print(f"{out}: {result.steps} steps in {result.seconds:.0f} s"
          + (f", held-out {bpc:.3f} bits/char on {Path(a.corpus).name}" if bpc is not None else "")
          + f"; load it into a running engine with /tc/load {a.name}")
    return 0


def cmd_bench_hotload(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_hotload import run
    print(run(active=a.active, rate=a.rate, loads=a.loads))
    return 0


def cmd_bench_learn(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_learn import run
    print(run(Path(a.corpora), a.origin, a.samples, a.steps, a.seeds, a.variants, Path(a.work) if a.work else None,
              a.temperature, a.curator))
    return 0


def add_bench_parsers(bsub: argparse._SubParsersAction) -> None:
    """`bench hotload` and `bench learn` (cli/bench.py calls this while it builds `bench`)."""
    h = bsub.add_parser("hotload", help="/tc/load into a running engine: latency to the first mixed character, "
                                        "tick gaps while loading vs not")
    h.add_argument("--active", type=positive_int, default=24, help="styles active while loading (default 24)")
    h.add_argument("--rate", type=float, default=100.0, help="characters per second (default 100)")
    h.add_argument("--loads", type=positive_int, default=5, help="loads to time (default 5)")
    h.set_defaults(func=cmd_bench_hotload)
    lb = bsub.add_parser("learn", help="the simulated curator: ranking, curator score and held-out bits/char, "
                                       "origin vs house styles")
    lb.add_argument("--corpora", required=True, help="folder with NAME.txt per style (../shared/corpora)")
    lb.add_argument("--origin", default="austen", help="bank style to learn from (default austen)")
    lb.add_argument("--samples", type=positive_int, default=240, help="origin samples for the curator to label")
    lb.add_argument("--steps", type=positive_int, default=HouseConfig.steps, help="learn steps per variant")
    lb.add_argument("--seeds", type=positive_int, default=3, help="training seeds per variant")
    lb.add_argument("--variants", nargs="+", default=["nll", "kl", "replay", "kl+dpo", "kl=2+replay=0.5+dpo"],
                    help="objectives to compare: nll, kl, replay, dpo or simpo, margin, beta, lr joined with +, "
                         "each optionally =VALUE (e.g. kl=2+replay=0.5+dpo)")
    lb.add_argument("--work", help="keep samples and labels here")
    lb.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    lb.add_argument("--curator", default="words",
                    help="the simulated curator: words (real words of the corpus) or dialogue (share inside "
                         "quotation marks); tools/bench_learn.py says why (default words)")
    lb.set_defaults(func=cmd_bench_learn)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("learn", help="train a house style from the passages kept in performance records",
                       description="Fine-tunes a style on the passages kept with /tc/keep (rejected ones are "
                                   "negatives) and writes NAME.safetensors into the styles folder, where a running "
                                   "engine loads it with /tc/load NAME. docs/models.md has the measurements.")
    p.add_argument("records", nargs="+", metavar="RECORD", help="performance records (performance-*.jsonl)")
    p.add_argument("--name", default="house", help="the new style's name (default house)")
    p.add_argument("--from", dest="origin", metavar="STYLE",
                   help="start from: base, a style name, or a .safetensors file (default: the style weighing "
                        "most in the kept passages)")
    p.add_argument("--out", metavar="DIR", help="folder to write NAME.safetensors into (default: the styles folder "
                                                "in the user data dir)")
    p.add_argument("--corpus", metavar="FILE",
                   help="the origin's training text: replayed to keep the house near its author, and its "
                        "held-out bits/char reported (recommended)")
    p.add_argument("--steps", type=positive_int, default=HouseConfig.steps)
    p.add_argument("--kl", type=float, default=HouseConfig.kl, help="weight of KL(origin || house)")
    p.add_argument("--replay", type=fraction, default=HouseConfig.replay,
                   help=f"share of each batch read from --corpus (default {HouseConfig.replay:g}; 0 without --corpus)")
    p.add_argument("--negatives", type=float, default=HouseConfig.negatives,
                   help="weight of the preference term on rejected passages (0: ignore them)")
    p.add_argument("--preference", choices=PREFERENCES, default=HouseConfig.preference,
                   help="dpo: prefer kept over rejected more than the origin did (default); simpo: rank them "
                        "by the house's own likelihood, which learns the taste faster and forgets the author "
                        "faster (docs/models.md)")
    p.add_argument("--seed", type=int, default=HouseConfig.seed)
    p.add_argument("--threads", type=positive_int, default=1, help="torch threads (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_learn)
