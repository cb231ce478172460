"""Training a CharLSTM on one or more corpora: truncated BPTT, resumable, budgeted by time or chars.

Each of the `batch` rows reads its own stream: a segment of up to SEGMENT characters from one
corpus, read `seq_len` at a time with the LSTM state carried across steps (truncated BPTT), then a
jump to a fresh random segment with a zeroed state. With several corpora the segment's corpus is
drawn uniformly, so a shared base model sees every style equally however large its file is.

With `line_starts`, every segment begins at a newline: a zeroed state reading "\n" is exactly how
the engine starts a performance (and a reset), so the model learns to open in its own style
there instead of in whatever style a shared base happened to favour from a blank state.

With `reentry` (a share of segments) and `foreign` corpora, a segment may open with a prefix of
another style's text (PREFIX_MIN..prefix_max characters from a random place, so often cut
mid-word; a third of the time ending at a line break) followed by the style's own text (at a line
start or mid-line). The loss is masked on the prefix: the model is never taught to write the
foreign text, only to come home from it. This is exactly what the engine asks of a style that
becomes active: a zeroed state reads the last characters of someone else's text, then writes.

Every random choice is derived from (seed, step, row), and the training state file holds the
weights, Adam's moments, the carried LSTM state and every row's position, so a run killed at any
point and resumed produces the same weights as one that was never interrupted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from textconductor.errors import UserError
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import (
    CheckpointError,
    CheckpointMeta,
    load_checkpoint,
    load_tensors,
    read_meta,
    save_checkpoint,
)
from textconductor.protocol.charset import CHAR_TO_INDEX
from textconductor.training.corpus import Corpus, load_corpus
from textconductor.training.evaluate import model_bpc, scored_windows

log = logging.getLogger(__name__)

STATE_FORMAT = "textconductor-trainstate"
SEGMENT = 8192  # characters a row reads before jumping elsewhere
QUICK_EVAL_CHARS = 50_000
IGNORE = -100  # target index that contributes no loss (cross_entropy's ignore_index)
PREFIX_MIN = 20  # shortest foreign prefix of a re-entry segment


class TrainError(UserError):
    """A training run that cannot start or continue; the message says why."""


@dataclass
class TrainConfig:
    name: str
    layers: int = 2
    hidden: int = 256
    embed: int = 64
    dropout: float = 0.0
    batch: int = 32
    seq_len: int = 128
    lr: float = 4e-3
    min_lr_fraction: float = 0.1
    warmup_steps: int = 100
    clip: float = 5.0
    seed: int = 1234
    minutes: float | None = None
    chars: int | None = None
    save_every_s: float = 120.0
    save_every_steps: int | None = None  # for tests: checkpoint on step counts, not wall time
    base: str | None = None
    display_name: str = ""
    segment: int = SEGMENT
    line_starts: bool = False
    reentry: float = 0.0  # share of segments that open with a foreign prefix (needs foreign corpora)
    prefix_max: int = 160  # longest foreign prefix; capped at seq_len - 8 so own text follows it

    def budget_fraction(self, chars_seen: int, seconds: float) -> float:
        if self.chars is not None:
            return chars_seen / self.chars
        return seconds / (60.0 * (self.minutes or 0.0)) if self.minutes else 0.0


@dataclass
class Streams:
    """Where each batch row is reading: corpus index, position, characters left in its segment."""

    corpus: np.ndarray
    pos: np.ndarray
    left: np.ndarray
    reset: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _rng(seed: int, step: int, row: int) -> np.random.Generator:
    return np.random.default_rng([seed, step, row])


def newline_starts(trains: list[np.ndarray], seq_len: int) -> list[np.ndarray]:
    """Per corpus, the positions of "\n" from which a whole sequence can still be read."""
    nl = CHAR_TO_INDEX["\n"]
    out = []
    for t in trains:
        pos = np.flatnonzero(t[:len(t) - seq_len - 1] == nl)
        out.append(pos if len(pos) else np.zeros(1, dtype=np.int64))  # no newline: start at the top
    return out


def foreign_prefix(g: np.random.Generator, foreign: list[np.ndarray], cfg: TrainConfig) -> np.ndarray:
    """A random piece of another style's text to open a re-entry segment with."""
    f = foreign[int(g.integers(len(foreign)))]
    k = int(g.integers(PREFIX_MIN, max(PREFIX_MIN, min(cfg.prefix_max, cfg.seq_len - 8)) + 1))
    q = int(g.integers(0, len(f) - k))
    piece = f[q:q + k]
    if g.random() < 1 / 3:  # the switch comes at a line break
        nl = np.flatnonzero(piece == CHAR_TO_INDEX["\n"])
        if len(nl) and nl[-1] + 1 >= PREFIX_MIN:
            piece = piece[:nl[-1] + 1]
    return piece


def advance_streams(streams: Streams, trains: list[np.ndarray], cfg: TrainConfig, step: int,
                    starts: list[np.ndarray] | None = None,
                    foreign: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Batch (x, y) for this step, jumping rows whose segment is used up; marks rows to reset.

    `starts` (from newline_starts) restricts where a fresh segment may begin. With `foreign`
    corpora, a share `cfg.reentry` of fresh segments opens with a foreign prefix whose targets are
    IGNORE; the own text then starts at a line start or mid-line, half and half.
    """
    T = cfg.seq_len
    streams.reset = np.zeros(cfg.batch, dtype=bool)
    x = np.empty((cfg.batch, T), dtype=np.int64)
    y = np.empty((cfg.batch, T), dtype=np.int64)
    for b in range(cfg.batch):
        c, p = int(streams.corpus[b]), int(streams.pos[b])
        if streams.left[b] <= 0 or c < 0 or p + T + 1 > len(trains[c]):
            g = _rng(cfg.seed, step, b)
            c = int(g.integers(len(trains)))
            if starts is None:
                p = int(g.integers(0, len(trains[c]) - T - 1))
            else:
                p = int(starts[c][g.integers(len(starts[c]))])
            streams.corpus[b], streams.left[b] = c, cfg.segment
            streams.reset[b] = True
            if foreign and cfg.reentry > 0 and g.random() < cfg.reentry:
                prefix = foreign_prefix(g, foreign, cfg)
                if g.random() < 0.5:  # mid-line: anywhere in the own text
                    p = int(g.integers(0, len(trains[c]) - T - 1))
                k = len(prefix)
                seq = np.concatenate([prefix, trains[c][p:p + T + 1 - k]])
                x[b], y[b] = seq[:T], seq[1:T + 1]
                y[b, :k - 1] = IGNORE  # targets inside the prefix; the first own character counts
                streams.pos[b] = p + T - k
                streams.left[b] -= T
                continue
        x[b] = trains[c][p:p + T]
        y[b] = trains[c][p + 1:p + T + 1]
        streams.pos[b] = p + T
        streams.left[b] -= T
    return x, y


def corpora_sha(corpora: list[Corpus]) -> str:
    if len(corpora) == 1:
        return corpora[0].sha256
    return hashlib.sha256("".join(c.sha256 for c in corpora).encode()).hexdigest()


def quick_bpc(model: CharLSTM, corpora: list[Corpus], max_chars: int | None) -> float:
    """Mean held-out bits/char over the corpora (each weighted equally, like training)."""
    per = None if max_chars is None else max(max_chars // len(corpora), 1024)
    return float(np.mean([model_bpc(model, c.data, scored_windows(len(c.data), c.heldout, per))
                          for c in corpora]))


def state_path(out: Path) -> Path:
    return out.with_name(out.name + ".train-state.safetensors")


def save_state(path: Path, model: CharLSTM, opt: torch.optim.Optimizer, hidden: tuple[torch.Tensor, torch.Tensor],
               streams: Streams, progress: dict, cfg: TrainConfig, corpora_hash: str) -> None:
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for i, p in enumerate(model.parameters()):
        st = opt.state.get(p)
        if st:
            tensors[f"adam.{i}.exp_avg"] = st["exp_avg"].cpu().contiguous()
            tensors[f"adam.{i}.exp_avg_sq"] = st["exp_avg_sq"].cpu().contiguous()
            tensors[f"adam.{i}.step"] = torch.as_tensor(st["step"], dtype=torch.float64).reshape(1)
    tensors["hidden.h"] = hidden[0].detach().cpu().contiguous()
    tensors["hidden.c"] = hidden[1].detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()  # dropout masks continue exactly after a resume
    tensors["streams.corpus"] = torch.from_numpy(streams.corpus.astype(np.int64))
    tensors["streams.pos"] = torch.from_numpy(streams.pos.astype(np.int64))
    tensors["streams.left"] = torch.from_numpy(streams.left.astype(np.int64))
    meta = {"config": asdict(cfg), "progress": progress, "corpora_sha256": corpora_hash}
    header = {"format": STATE_FORMAT, "version": "1", "meta": json.dumps(meta)}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=header)
    os.replace(tmp, path)


def lineage(meta: CheckpointMeta) -> list[dict]:
    """Every training run behind a checkpoint, oldest first, so its full cost can be reported.

    A fine-tune stores its base's lineage plus the base itself; a settled style adds its fine-tune.
    """
    runs = list(meta.extra.get("lineage", []))
    if not runs and meta.base and "base_train_seconds" in meta.extra:  # written before lineage existed
        runs = [{"name": meta.base, "chars": meta.extra.get("base_train_chars", 0),
                 "seconds": meta.extra["base_train_seconds"]}]
    return [*runs, {"name": meta.name, "chars": meta.train_chars, "seconds": meta.train_seconds}]


def split_lineage(meta: CheckpointMeta) -> tuple[list[dict], list[dict]]:
    """(the style's own runs: fine-tune, settle; the shared runs it started from: the base)."""
    runs = lineage(meta)
    return [r for r in runs if r["name"] == meta.name], [r for r in runs if r["name"] != meta.name]


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
        if (bc.layers, bc.hidden, bc.embed) != (cfg.layers, cfg.hidden, cfg.embed):
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
        progress, hidden = _restore(spath, model, opt, streams, cfg, chash, dev)
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
            lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup_steps) * (
                cfg.min_lr_fraction + (1 - cfg.min_lr_fraction) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))
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
                                 **({"reentry": cfg.reentry, "prefix_max": cfg.prefix_max,
                                     "foreign": [Path(p).name for p in foreign_paths or []]} if foreign else {}),
                                 "device": dev.type, **base_info})
    save_checkpoint(out, model, meta)
    spath.unlink(missing_ok=True)
    log.info("%s: wrote %s (held-out %.3f bits/char)", cfg.name, out, bpc)
    return meta


def _restore(spath: Path, model: CharLSTM, opt: torch.optim.Optimizer, streams: Streams, cfg: TrainConfig,
             chash: str, dev: torch.device) -> tuple[dict, tuple[torch.Tensor, torch.Tensor]]:
    try:
        meta = read_meta(spath, STATE_FORMAT)
    except CheckpointError as e:
        raise TrainError(f"cannot resume: {e}") from None
    saved = meta["config"]
    for key in ("layers", "hidden", "embed", "batch", "seq_len", "seed", "segment", "line_starts", "reentry",
                "prefix_max"):
        if saved.get(key, getattr(TrainConfig, key, None)) != getattr(cfg, key):
            raise TrainError(f"cannot resume from {spath}: it was started with {key}={saved.get(key)}, "
                             f"this run asks for {getattr(cfg, key)}")
    if meta["corpora_sha256"] != chash:
        raise TrainError(f"cannot resume from {spath}: the corpus files changed since it was started")
    params = list(model.parameters())
    shapes = {f"model.{k}": tuple(v.shape) for k, v in model.state_dict().items()}
    for i, p in enumerate(params):
        shapes[f"adam.{i}.exp_avg"] = tuple(p.shape)
        shapes[f"adam.{i}.exp_avg_sq"] = tuple(p.shape)
        shapes[f"adam.{i}.step"] = (1,)
    shapes["hidden.h"] = shapes["hidden.c"] = (cfg.layers, cfg.batch, cfg.hidden)
    shapes["streams.corpus"] = shapes["streams.pos"] = shapes["streams.left"] = (cfg.batch,)
    from safetensors import safe_open
    with safe_open(str(spath), framework="pt") as f:
        present = set(f.keys())
    if not any(k.startswith("adam.") for k in present):  # saved before the first optimizer step
        shapes = {k: v for k, v in shapes.items() if not k.startswith("adam.")}
    try:
        t = load_tensors(spath, {k: v for k, v in shapes.items() if not k.startswith("streams.")}, allow_extra=True)
        with safe_open(str(spath), framework="pt") as f:
            for k in ("corpus", "pos", "left"):
                setattr(streams, k, f.get_tensor(f"streams.{k}").numpy().copy())
            if "rng.torch" in present:
                torch.set_rng_state(f.get_tensor("rng.torch"))
    except (CheckpointError, Exception) as e:
        raise TrainError(f"cannot resume from {spath}: {e}") from None
    model.load_state_dict({k[6:]: v for k, v in t.items() if k.startswith("model.")})
    model.to(dev)
    for i, p in enumerate(params):
        if f"adam.{i}.step" in t:
            opt.state[p] = {"step": t[f"adam.{i}.step"].reshape(()).to(torch.float32),
                            "exp_avg": t[f"adam.{i}.exp_avg"].to(dev), "exp_avg_sq": t[f"adam.{i}.exp_avg_sq"].to(dev)}
    return meta["progress"], (t["hidden.h"].to(dev), t["hidden.c"].to(dev))


def _bar(cfg: TrainConfig, progress: dict):
    from tqdm import tqdm
    tty = sys.stderr.isatty()
    if cfg.chars is not None:
        return tqdm(total=cfg.chars, initial=progress["chars"], unit="char", unit_scale=True, desc=cfg.name,
                    mininterval=0.5 if tty else 30, dynamic_ncols=True)
    return tqdm(total=round(cfg.minutes * 60, 1), initial=round(progress["seconds"], 1), unit="s", desc=cfg.name,
                mininterval=0.5 if tty else 30, dynamic_ncols=True,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s [{elapsed}<{remaining}{postfix}]")
