"""Tables for the command line and docs: folding per corpus, held-out bits/char vs the n-gram."""

from __future__ import annotations

from pathlib import Path

from textconductor.errors import UserError
from textconductor.model.checkpoint import load_checkpoint
from textconductor.protocol.charset import fold_report
from textconductor.training.corpus import load_corpus, read_text
from textconductor.training.evaluate import model_bpc, scored_positions, scored_windows
from textconductor.training.ngram import KneserNey

DEFAULT_CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora"


def fold_table(files: list[str]) -> str:
    rows = ["| file | chars | changed by folding | dropped |", "|---|---:|---:|---:|"]
    for f in files:
        path = Path(f)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"{path}: cannot read as UTF-8 text ({e})") from None
        r = fold_report(text)
        rows.append(f"| {path.name} | {r.chars_in:,} | {r.changed:,} ({100 * r.changed_fraction:.3f}%) "
                    f"| {r.dropped:,} ({100 * r.dropped_fraction:.4f}%) |")
    return "\n".join(rows)


def eval_rows(checkpoints: list[str], corpus: str | None = None, corpora_dir: str | None = None,
              device: str = "cpu") -> list[dict]:
    """For each checkpoint: its held-out bits/char and the order-5 Kneser-Ney baseline's, same positions.

    Without --corpus, each checkpoint is evaluated on DIR/NAME.txt for its own style name.
    """
    from textconductor.training.lineage import split_lineage
    from textconductor.training.train import resolve_device
    dev = resolve_device(device)
    folder = Path(corpora_dir) if corpora_dir else DEFAULT_CORPORA
    baselines: dict[Path, tuple[object, float, int]] = {}
    rows = []
    for ck in checkpoints:
        model, meta = load_checkpoint(ck, dev)
        path = Path(corpus) if corpus else folder / f"{meta.name}.txt"
        if not path.exists():
            raise UserError(f"{ck}: no corpus for style {meta.name!r} at {path}; pass --corpus FILE or --corpora DIR")
        if path not in baselines:
            c = load_corpus(path)
            windows = scored_windows(len(c.data), c.heldout)
            kn_bpc = KneserNey(5).fit(c.train).bpc(c.data, scored_positions(windows))
            baselines[path] = (c, kn_bpc, len(scored_positions(windows)))
        c, kn_bpc, n = baselines[path]
        bpc = model_bpc(model, c.data, scored_windows(len(c.data), c.heldout))
        rows.append({"checkpoint": str(ck), "style": meta.name, "corpus": path.name, "heldout_chars": n,
                     "bpc": bpc, "ngram_bpc": kn_bpc, "train_chars": meta.train_chars,
                     "train_seconds": meta.train_seconds, "base": meta.base, "runs": split_lineage(meta)})
    return rows


def eval_table(checkpoints: list[str], corpus: str | None = None, corpora_dir: str | None = None,
               device: str = "cpu") -> str:
    rows = eval_rows(checkpoints, corpus, corpora_dir, device)
    out = ["| style | corpus | held-out chars | LSTM bits/char | 5-gram KN bits/char | LSTM - n-gram | trained |",
           "|---|---|---:|---:|---:|---:|---|"]
    for r in rows:
        own, shared = r["runs"]
        trained = " + ".join(f"{run['chars'] / 1e6:.1f}M" for run in own) + \
            f" chars, {sum(run['seconds'] for run in own) / 60:.1f} min"
        if shared:
            trained += f" from {shared[-1]['name']}"
        out.append(f"| {r['style']} | {r['corpus']} | {r['heldout_chars']:,} | {r['bpc']:.3f} | {r['ngram_bpc']:.3f} "
                   f"| {r['bpc'] - r['ngram_bpc']:+.3f} | {trained} |")
    return "\n".join(out)


__all__ = ["eval_rows", "eval_table", "fold_table", "read_text"]
