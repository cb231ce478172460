"""Training a CharLSTM on one or more corpora: truncated BPTT, resumable, budgeted by time or chars.

The loop reads batches (batches.py), steps Adam on a schedule (`learning_rate`), and saves its full
state regularly (train_state.py), so a run killed at any point and resumed produces the same
weights as one that was never interrupted. The defaults are in config.py.

With `line_starts`, every segment begins at a newline: a zeroed state reading "\n" is exactly how
the engine starts a performance (and a reset), so the model learns to open in its own style
there instead of in whatever style a shared base happened to favour from a blank state.

With `reentry` (a share of segments) and `foreign` corpora, a segment may open with a prefix of
another style's text (PREFIX_MIN..prefix_max characters from a random place, so often cut
mid-word; a third of the time ending at a line break) followed by the style's own text (at a line
start or mid-line). The loss is masked on the prefix: the model is never taught to write the
foreign text, only to come home from it. This is exactly what the engine asks of a style that
becomes active: a zeroed state reads the last characters of someone else's text, then writes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from textconductor.training.batches import Streams, advance_streams, newline_starts
from textconductor.training.config import IGNORE, TrainConfig, TrainError
from textconductor.training.corpus import Corpus, load_corpus
from textconductor.training.evaluate import model_bpc, scored_windows
from textconductor.training.lineage import lineage
from textconductor.training.train_state import restore_state, save_state, state_path
from textconductor.training.widen import widen

__all__ = ["TrainConfig", "TrainError", "learning_rate", "train"]

log = logging.getLogger(__name__)

QUICK_EVAL_CHARS = 50_000


def learning_rate(cfg: TrainConfig, step: int, budget_fraction: float) -> float:
    """Linear warm-up over `warmup_steps`, then a cosine from `lr` down to `min_lr_fraction * lr`
    over the budget (characters or minutes), so a run budgeted in time still ends cool."""
    warm = min(1.0, (step + 1) / cfg.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(budget_fraction, 1.0)))
    return cfg.lr * warm * (cfg.min_lr_fraction + (1 - cfg.min_lr_fraction) * cosine)


def corpora_sha(corpora: list[Corpus]) -> str:
    if len(corpora) == 1:
        return corpora[0].sha256
    return hashlib.sha256("".join(c.sha256 for c in corpora).encode()).hexdigest()


def quick_bpc(model: CharLSTM, corpora: list[Corpus], max_chars: int | None) -> float:
    """Mean held-out bits/char over the corpora (each weighted equally, like training)."""
    per = None if max_chars is None else max(max_chars // len(corpora), 1024)
    return float(np.mean([model_bpc(model, c.data, scored_windows(len(c.data), c.heldout, per))
                          for c in corpora]))


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainError("--device cuda: no CUDA device is available to this torch build "
                         f"(torch {torch.__version__}); use --device cpu or auto")
    if device not in ("cpu", "cuda"):
        raise TrainError(f"unknown device {device!r}: choose auto, cpu or cuda")
    return torch.device(device)


def train(corpus_paths: list[str | Path], out: str | Path, cfg: TrainConfig, resume: bool = False,
          device: str = "auto", threads: int | None = None, progress_bar: bool = True,
          foreign_paths: list[str | Path] | None = None) -> CheckpointMeta:
    """Train, checkpointing the full training state regularly; return the final checkpoint's metadata.

    `foreign_paths`: other styles' corpora for re-entry segments (`cfg.reentry`).
    """
    if cfg.minutes is None and cfg.chars is None:
        raise TrainError("give a budget: --minutes M or --chars N")
    if cfg.reentry > 0 and not foreign_paths:
        raise TrainError("--reentry needs other styles' text to re-enter from: give --foreign FILE...")
    if not 0 <= cfg.reentry <= 1:
        raise TrainError(f"--reentry is a share of segments, 0..1; got {cfg.reentry}")
    dev = resolve_device(device)
    if threads:
        torch.set_num_threads(threads)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    spath = state_path(out)
    corpora = [load_corpus(p) for p in corpus_paths]
    trains = [c.train for c in corpora]
    for c, t in zip(corpora, trains, strict=False):
        if len(t) < cfg.seq_len + 2:
            raise TrainError(f"{c.path}: training split ({len(t)} chars) is shorter than one sequence ({cfg.seq_len})")
    chash = corpora_sha(corpora)
    starts = newline_starts(trains, cfg.seq_len) if cfg.line_starts else None
    foreign = [load_corpus(p).train for p in foreign_paths or []] if cfg.reentry > 0 else None
    for p, f in zip(foreign_paths or [], foreign or [], strict=False):
        if len(f) < cfg.prefix_max + 1:
            raise TrainError(f"{p}: too short to take a {cfg.prefix_max}-character prefix from")
    torch.manual_seed(cfg.seed)
    model = CharLSTM(CharLSTMConfig(cfg.layers, cfg.hidden, cfg.embed, dropout=cfg.dropout))
    progress = {"step": 0, "chars": 0, "seconds": 0.0, "heldout_bpc": None}
    base_name, base_info = None, {}
    if cfg.base:
        base_model, base_meta = load_checkpoint(cfg.base)
        bc = base_meta.config
        if cfg.widen:
            if cfg.hidden < bc.hidden:
                raise TrainError(f"--widen grows {bc.layers}x{bc.hidden} to more units per layer; "
                                 f"asked for --hidden {cfg.hidden}")
            cfg.layers, cfg.embed = bc.layers, bc.embed  # only the width grows
            log.info("widening the base model from %dx%d to %dx%d", bc.layers, bc.hidden, cfg.layers, cfg.hidden)
            base_model = widen(base_model, cfg.hidden, cfg.seed)
        elif (bc.layers, bc.hidden, bc.embed) != (cfg.layers, cfg.hidden, cfg.embed):
            log.info("using the base model's shape %dx%d (embed %d)", bc.layers, bc.hidden, bc.embed)
            cfg.layers, cfg.hidden, cfg.embed = bc.layers, bc.hidden, bc.embed
        model = CharLSTM(CharLSTMConfig(cfg.layers, cfg.hidden, cfg.embed, dropout=cfg.dropout))
        model.load_state_dict(base_model.state_dict())
        base_name = base_meta.name
        base_info = {"lineage": lineage(base_meta)}
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    hidden = model.initial_state(cfg.batch)
    streams = Streams(np.full(cfg.batch, -1), np.zeros(cfg.batch, dtype=np.int64), np.zeros(cfg.batch, dtype=np.int64))

    if spath.exists() and not resume:
        raise TrainError(f"{spath} exists: an earlier run of {cfg.name!r} was interrupted. "
                         "Add --resume to continue it, or delete that file to start over")
    if resume and spath.exists():
        progress, hidden = restore_state(spath, model, opt, streams, cfg, chash, dev)
        log.info("resumed %s at step %d (%.1fM chars, %.0f s)", cfg.name, progress["step"],
                 progress["chars"] / 1e6, progress["seconds"])
    elif resume:
        log.info("no training state at %s: starting fresh", spath)

    bar = _bar(cfg, progress) if progress_bar else None
    last_save, step_chars = time.monotonic(), cfg.batch * cfg.seq_len
    model.train()
    try:
        while cfg.budget_fraction(progress["chars"], progress["seconds"]) < 1.0:
            t0 = time.monotonic()
            step = progress["step"]
            x, y = advance_streams(streams, trains, cfg, step, starts, foreign)
            if streams.reset.any():
                keep = torch.from_numpy(~streams.reset).to(dev, hidden[0].dtype).view(1, -1, 1)
                hidden = (hidden[0] * keep, hidden[1] * keep)
            frac = cfg.budget_fraction(progress["chars"], progress["seconds"])
            lr = learning_rate(cfg, step, frac)
            for g in opt.param_groups:
                g["lr"] = lr
            logits, hidden = model(torch.from_numpy(x).to(dev), hidden)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(y).to(dev).reshape(-1),
                                   ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            hidden = (hidden[0].detach(), hidden[1].detach())
            dt = time.monotonic() - t0
            progress["step"] += 1
            progress["chars"] += step_chars
            progress["seconds"] += dt
            if bar is not None:
                bar.update(step_chars if cfg.chars is not None else dt)
                bar.set_postfix(chars_s=f"{step_chars / dt:,.0f}", loss=f"{loss.item() / math.log(2):.3f}",
                                heldout=progress["heldout_bpc"] and f"{progress['heldout_bpc']:.3f}", refresh=False)
            due = (progress["step"] % cfg.save_every_steps == 0) if cfg.save_every_steps else (
                time.monotonic() - last_save >= cfg.save_every_s)
            if due:
                progress["heldout_bpc"] = quick_bpc(model, corpora, QUICK_EVAL_CHARS)
                save_state(spath, model, opt, hidden, streams, progress, cfg, chash)
                last_save = time.monotonic()
                log.info("%s step %d: %.1fM chars, held-out %.3f bits/char, state saved",
                         cfg.name, progress["step"], progress["chars"] / 1e6, progress["heldout_bpc"])
    finally:
        if bar is not None:
            bar.close()

    # Judge the weights as they ship: rounded to fp16.
    shipped = CharLSTM(model.config)
    shipped.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
    shipped.to(dev)
    bpc = quick_bpc(shipped, corpora, None)
    meta = CheckpointMeta(name=cfg.name, display_name=cfg.display_name or cfg.name, layers=cfg.layers,
                          hidden=cfg.hidden, embed=cfg.embed, corpus_sha256=chash, train_chars=progress["chars"],
                          train_seconds=round(progress["seconds"], 1), heldout_bpc=round(bpc, 4), base=base_name,
                          extra={"corpora": [c.path.name for c in corpora], "steps": progress["step"],
                                 "batch": cfg.batch, "seq_len": cfg.seq_len, "lr": cfg.lr, "seed": cfg.seed,
                                 "segment": cfg.segment, "line_starts": cfg.line_starts,
                                 **({"dropout": cfg.dropout} if cfg.dropout else {}),
                                 **({"reentry": cfg.reentry, "prefix_max": cfg.prefix_max,
                                     "foreign": [Path(p).name for p in foreign_paths or []]} if foreign else {}),
                                 "device": dev.type, **base_info})
    save_checkpoint(out, model, meta)
    spath.unlink(missing_ok=True)
    log.info("%s: wrote %s (held-out %.3f bits/char)", cfg.name, out, bpc)
    return meta


def _bar(cfg: TrainConfig, progress: dict):
    from tqdm import tqdm
    tty = sys.stderr.isatty()
    if cfg.chars is not None:
        return tqdm(total=cfg.chars, initial=progress["chars"], unit="char", unit_scale=True, desc=cfg.name,
                    mininterval=0.5 if tty else 30, dynamic_ncols=True)
    return tqdm(total=round(cfg.minutes * 60, 1), initial=round(progress["seconds"], 1), unit="s", desc=cfg.name,
                mininterval=0.5 if tty else 30, dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]")
