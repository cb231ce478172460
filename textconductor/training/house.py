"""A house style: fine-tune a style on the passages a performer kept, away from the ones rejected.

Three terms, each a measured choice (`textconductor bench learn`, docs/models.md):

- Likelihood of the kept passages: the house style should write more like what was kept.
- A leash to where it started, as Magenta's RL Tuner kept its note model near its prior: a KL
  term, KL(origin || house) per character on the same batch (`kl`), and/or replay of the
  origin's own corpus in a share of each batch (`replay`). A hundred passages are a few thousand
  characters; without a leash a 0.9 M-parameter LSTM memorises them and forgets its author.
- Rejected passages as negatives, with DPO on character sequences (`negatives`, `beta`): each
  kept passage is paired with a rejected one and the house is pushed to raise the kept one's
  length-normalised log-likelihood ratio to the frozen origin above the rejected one's. The
  ratio (not the raw likelihood) is what makes it safe: the house is never asked to make common
  characters unlikely, only to prefer one passage over another *more than the origin did*,
  and the logistic loss stops pushing once it does (plain unlikelihood on every character of a
  rejected passage would also push down spaces and vowels). `preference="simpo"` drops the
  origin from the comparison (SimPO): the house's own length-normalised likelihoods, which is
  what the ranking judges; measured to learn the ranking faster and forget the author faster.

Every passage is read from a fresh state after a newline, exactly as the engine opens a
performance, and scored per character (length-normalised) so long and short passages weigh alike.
The result is an ordinary checkpoint with its lineage (training/lineage.py): the origin's runs,
the records it learnt from, and how many kept and rejected characters it saw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from textconductor.model.charlstm import CharLSTM
from textconductor.model.checkpoint import CheckpointMeta, save_checkpoint
from textconductor.protocol.charset import CHARS, encode, fold
from textconductor.training.config import IGNORE, PREFERENCES, HouseConfig, TrainConfig, TrainError
from textconductor.training.lineage import lineage

log = logging.getLogger(__name__)

START = "\n"  # every passage is read after a newline from a zeroed state (how the engine opens)
SCORE_MAX_CHARS = 4096  # longest passage scored (a longer one is cut)


def passages(texts: Sequence[str]) -> list[np.ndarray]:
    """Folded, encoded passages, each opened with START; empty ones are dropped."""
    out = []
    for t in texts:
        f = fold(t)
        if f.strip():
            out.append(encode(START + f).astype(np.int64))
    return out


def _rows(seqs: Sequence[np.ndarray], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x, y) [rows, T]: each sequence's inputs and next-character targets, padded with IGNORE."""
    t = max(1, min(max_len, max(len(s) - 1 for s in seqs)))
    x = np.zeros((len(seqs), t), dtype=np.int64)
    y = np.full((len(seqs), t), IGNORE, dtype=np.int64)
    for r, s in enumerate(seqs):
        s = s[:t + 1]
        x[r, :len(s) - 1] = s[:-1]
        y[r, :len(s) - 1] = s[1:]
    return torch.from_numpy(x), torch.from_numpy(y)


def _token_logp(model: CharLSTM, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(log-probabilities [B, T, V], log p of each target [B, T] with 0 where there is none)."""
    logits, _ = model(x)
    lp = torch.log_softmax(logits, dim=-1)
    tok = lp.gather(-1, y.clamp(min=0).unsqueeze(-1)).squeeze(-1) * (y != IGNORE)
    return lp, tok


def _row_mean(tok: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return tok.sum(1) / (y != IGNORE).sum(1).clamp(min=1)


@torch.no_grad()
def mean_logp(model: CharLSTM, seqs: Sequence[np.ndarray], batch: int = 64) -> np.ndarray:
    """Length-normalised log-likelihood (nats/char) of each passage: how the ranking is judged."""
    was = model.training
    model.eval()
    out = []
    for i in range(0, len(seqs), batch):
        x, y = _rows(seqs[i:i + batch], SCORE_MAX_CHARS)
        _, tok = _token_logp(model, x, y)
        out.append(_row_mean(tok, y).numpy())
    model.train(was)
    return np.concatenate(out) if out else np.zeros(0)


def ranking_accuracy(kept_scores: np.ndarray, rejected_scores: np.ndarray) -> float:
    """Share of (kept, rejected) pairs in which the kept passage scores higher (ties count half)."""
    if not len(kept_scores) or not len(rejected_scores):
        return float("nan")
    d = kept_scores[:, None] - rejected_scores[None, :]
    return float(((d > 0).sum() + 0.5 * (d == 0).sum()) / d.size)


@torch.no_grad()
def sample_batch(model: CharLSTM, n: int, chars: int, temperature: float = 1.0, seed: int = 0) -> list[str]:
    """`n` independent samples of `chars` characters, each from a fresh state after a newline,
    stepped together (one batched LSTM step per character, not n separate loops)."""
    gen = torch.Generator().manual_seed(seed)
    was = model.training
    model.eval()
    x = torch.full((n, 1), CHARS.index(START), dtype=torch.long)
    state, out = None, []
    for _ in range(chars):
        logits, state = model(x, state)
        probs = torch.softmax(logits[:, -1].float() / max(temperature, 1e-3), dim=-1)
        x = torch.multinomial(probs, 1, generator=gen)
        out.append(x[:, 0].clone())
    model.train(was)
    idx = torch.stack(out, dim=1).numpy() if out else np.zeros((n, 0), dtype=np.int64)
    return ["".join(CHARS[i] for i in row) for row in idx]


@dataclass
class LearnResult:
    model: CharLSTM
    steps: int
    chars: int  # characters the house read with a gradient (kept, replayed and rejected)
    seconds: float
    losses: dict[str, float] = field(default_factory=dict)  # the last step's terms


def learn(kept: Sequence[str], rejected: Sequence[str], origin: CharLSTM, cfg: HouseConfig | None = None,
          replay_text: np.ndarray | None = None, progress_bar: bool = True) -> LearnResult:
    """Fine-tune a copy of `origin` on `kept`, leashed to `origin`, away from `rejected`.

    `replay_text`: the origin's corpus as character indices (training/corpus.py), for `cfg.replay`.
    `origin` is left untouched (it is the frozen reference of the KL and DPO terms).
    """
    from textconductor.training.train import _bar, learning_rate
    cfg = cfg or HouseConfig()
    keep, rej = passages(kept), passages(rejected)
    if len(keep) < max(1, cfg.min_kept):
        raise TrainError(f"learn needs at least {max(1, cfg.min_kept)} kept passage(s); got {len(keep)}")
    if cfg.preference not in PREFERENCES:
        raise TrainError(f"preference {cfg.preference!r}: use one of {', '.join(PREFERENCES)}")
    if cfg.replay > 0 and (replay_text is None or len(replay_text) < cfg.seq_len + 2):
        raise TrainError("replay needs the origin's corpus (give --corpus FILE), or set replay to 0")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    origin = origin.eval()
    house = CharLSTM(origin.config)
    house.load_state_dict(origin.state_dict())
    house.train()
    opt = torch.optim.Adam(house.parameters(), lr=cfg.lr)
    n_replay = int(round(cfg.replay * cfg.batch)) if cfg.replay > 0 else 0
    n_kept = max(1, cfg.batch - n_replay)
    n_pairs = max(1, n_kept // 2) if cfg.negatives > 0 and rej else 0
    per_step = n_kept * min(cfg.seq_len, max(len(s) for s in keep)) + n_replay * cfg.seq_len
    schedule = TrainConfig(name=cfg.name, lr=cfg.lr, warmup_steps=cfg.warmup_steps, chars=cfg.steps)
    bar = _bar(TrainConfig(name=cfg.name, chars=cfg.steps * per_step), {"chars": 0, "seconds": 0.0}) \
        if progress_bar else None
    t0, chars, terms = time.monotonic(), 0, {}
    try:
        for step in range(cfg.steps):
            for g in opt.param_groups:
                g["lr"] = learning_rate(schedule, step, step / cfg.steps)
            rows = [keep[i] for i in rng.integers(len(keep), size=n_kept)]
            for _ in range(n_replay):
                p = int(rng.integers(0, len(replay_text) - cfg.seq_len - 1))
                rows.append(np.asarray(replay_text[p:p + cfg.seq_len + 1], dtype=np.int64))
            x, y = _rows(rows, cfg.seq_len)
            lp, tok = _token_logp(house, x, y)
            mask = y != IGNORE
            nll = -tok.sum() / mask.sum()
            loss = nll
            terms = {"nll": float(nll.detach()) / np.log(2)}
            if cfg.kl > 0 or n_pairs:
                with torch.no_grad():
                    lp_o, tok_o = _token_logp(origin, x, y)
            if cfg.kl > 0:
                kl = ((lp_o.exp() * (lp_o - lp)).sum(-1) * mask).sum() / mask.sum()
                loss = loss + cfg.kl * kl
                terms["kl"] = float(kl.detach())
            if n_pairs:
                xr, yr = _rows([rej[j] for j in rng.integers(len(rej), size=n_pairs)], cfg.seq_len)
                _, tok_r = _token_logp(house, xr, yr)
                k_reward, r_reward = _row_mean(tok[:n_pairs], y[:n_pairs]), _row_mean(tok_r, yr)
                if cfg.preference == "dpo":  # rewards relative to the frozen origin
                    with torch.no_grad():
                        _, tok_ro = _token_logp(origin, xr, yr)
                    k_reward = k_reward - _row_mean(tok_o[:n_pairs], y[:n_pairs])
                    r_reward = r_reward - _row_mean(tok_ro, yr)
                pref = -F.logsigmoid(cfg.beta * (k_reward - r_reward) - cfg.margin).mean()
                loss = loss + cfg.negatives * pref
                terms[cfg.preference] = float(pref.detach())
                chars += int((yr != IGNORE).sum())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(house.parameters(), cfg.clip)
            opt.step()
            chars += int(mask.sum())
            if bar is not None:
                bar.update(per_step)
                bar.set_postfix({k: f"{v:.3f}" for k, v in terms.items()}, refresh=False)
    finally:
        if bar is not None:
            bar.close()
    house.eval()
    return LearnResult(house, cfg.steps, chars, time.monotonic() - t0, terms)


def curation(records: Sequence[str | Path], kept: Sequence[str], rejected: Sequence[str]) -> dict:
    """What the house learnt from, as its lineage stores it (training/lineage.py reads it back)."""
    return {"records": [Path(r).name for r in records], "kept": len(kept),
            "kept_chars": sum(len(fold(t)) for t in kept), "rejected": len(rejected),
            "rejected_chars": sum(len(fold(t)) for t in rejected)}


def write_house(out: str | Path, result: LearnResult, cfg: HouseConfig, origin_meta: CheckpointMeta,
                cur: dict, heldout_bpc: float | None = None) -> CheckpointMeta:
    """The house as an ordinary checkpoint (fp16, like the bank), with the origin's lineage."""
    meta = CheckpointMeta(name=cfg.name, display_name=cfg.name, layers=origin_meta.layers,
                          hidden=origin_meta.hidden, embed=origin_meta.embed, corpus_sha256=origin_meta.corpus_sha256,
                          train_chars=result.chars, train_seconds=round(result.seconds, 1),
                          heldout_bpc=None if heldout_bpc is None else round(heldout_bpc, 4), base=origin_meta.name,
                          extra={"lineage": lineage(origin_meta), "curation": cur,
                                 "house": {k: v for k, v in asdict(cfg).items() if k != "name"},
                                 "corpora": origin_meta.extra.get("corpora", [])})
    save_checkpoint(out, result.model, meta)
    log.info("%s: wrote %s (%d steps, %.0f s)", cfg.name, out, result.steps, result.seconds)
    return meta
