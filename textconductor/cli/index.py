"""`textconductor index`: the corpus index behind the engine's verbatim marks (is it copying?).

A folder among CORPORA stands for the bank's styles found in it (NAME.txt for each style of
assets/bank.toml), or every .txt in it with --all; a file is indexed as the style named by its stem.
The index goes to the user data directory unless --out says otherwise; an engine started later
finds it there by itself (`engine --index`, `--no-index`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from textconductor.errors import UserError


def corpus_files(items: list[str], every: bool = False) -> list[Path]:
    """The corpus files that CORPORA names, in a stable order (folders expanded)."""
    from textconductor.assets import load_recipe
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            if every:
                found = sorted(p.glob("*.txt"))
            else:
                found = [p / f"{s}.txt" for s in load_recipe()["finetune"]["styles"] if (p / f"{s}.txt").is_file()]
            if not found:
                raise UserError(f"{p}: no corpus files (NAME.txt) for the bank's styles here; name files, or --all")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise UserError(f"{p}: no such file or folder")
    return files


def cmd_index(a: argparse.Namespace) -> int:
    from textconductor.paths import index_dir
    from textconductor.tools.corpus_index import build, lookup_cost
    files = corpus_files(a.corpora, a.all)
    out = Path(a.out) if a.out else index_dir()
    report = build(files, out, progress=None if a.quiet else lambda s: print(s, flush=True))
    print(f"{out}: {report.corpora} corpora, {report.chars:,} characters; read+fold {report.read_s:.1f} s, "
          f"suffix sort {report.sort_s:.1f} s, write {report.write_s:.1f} s; "
          f"{report.bytes_on_disk / 1e6:.1f} MB on disk")
    if not a.quiet:
        print(lookup_cost(out))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="index the training corpora, so the engine marks text copied verbatim",
                       description="Builds a suffix array of the corpora, folded as training folds them. "
                                   "With an index in place the engine sends /tc/verbatim for every span of "
                                   "at least --verbatim-min characters that occurs word for word in a corpus.")
    p.add_argument("corpora", nargs="+", metavar="CORPUS", help="corpus files, or folders of NAME.txt per style")
    p.add_argument("--out", metavar="DIR", help="where the index goes (default: the user data directory's index/)")
    p.add_argument("--all", action="store_true", help="a folder gives every .txt in it, not only the bank's styles")
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    p.set_defaults(func=cmd_index)


def _index_folder(a: argparse.Namespace) -> Path:
    from textconductor.paths import index_dir
    folder = Path(a.index) if a.index else index_dir()
    if not (folder / "manifest.json").exists():
        raise UserError(f"{folder}: no corpus index; build one with `textconductor index CORPORA --out {folder}`")
    return folder


def cmd_bench_memorisation(a: argparse.Namespace) -> int:
    from textconductor.cli.engine import style_source
    from textconductor.tools.bench_memorisation import run
    print(run(_index_folder(a), style_source(a).paths(), a.temperatures, a.seqs, a.chars, a.seed, a.threads,
              Path(a.out) if a.out else None))
    return 0


def cmd_bench_provenance(a: argparse.Namespace) -> int:
    from textconductor.cli.engine import style_source
    from textconductor.tools.bench_provenance import run
    print(run(_index_folder(a), style_source(a), a.ticks, a.active, a.min_span, a.seed, a.temperature))
    return 0


def add_bench_parsers(bsub: argparse._SubParsersAction) -> None:
    """`bench memorisation` and `bench provenance` (added to `bench` by cli/bench.py)."""
    from textconductor.cli.args import positive_float, positive_int
    from textconductor.cli.engine import add_bank_args
    m = bsub.add_parser("memorisation", help="share of each style's text copied verbatim from a corpus (>=20/>=40)",
                        description="Samples every style in batches through the model layer and matches the text "
                                    "against the corpus index: the table in docs/models.md.")
    add_bank_args(m)
    m.add_argument("--index", metavar="DIR", help="the corpus index (default: the user data directory's)")
    m.add_argument("--temperatures", nargs="+", type=positive_float, default=[0.5, 0.8])
    m.add_argument("--seqs", type=positive_int, default=50, help="sequences per style, sampled side by side")
    m.add_argument("--chars", type=positive_int, default=2000, help="characters per sequence")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--out", metavar="FILE", help="also write the report here after every style (a partial run "
                                                  "keeps what it finished)")
    m.set_defaults(func=cmd_bench_memorisation)
    p = bsub.add_parser("provenance", help="marking verbatim spans: cost per tick beside the engine's step",
                        description="Runs the engine's conductor on the bank with and without the verbatim "
                                    "marker in one run, and the incremental matcher beside a search from scratch.")
    add_bank_args(p)
    p.add_argument("--index", metavar="DIR", help="the corpus index (default: the user data directory's)")
    p.add_argument("--ticks", type=positive_int, default=3000)
    p.add_argument("--active", type=positive_int, default=3, help="styles mixed (the first N of the bank)")
    p.add_argument("--min-span", type=positive_int, default=None, help="shortest span marked (default: the engine's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=positive_float, help="the engine's temperature (default: its own)")
    p.set_defaults(func=cmd_bench_provenance)
