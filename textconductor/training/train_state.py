"""The training state file: everything a killed run needs to continue as if never interrupted.

Weights, Adam's moments, the carried LSTM state, the dropout RNG and every batch row's position,
as safetensors with the config and progress in its JSON header (never a pickle).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from textconductor.model.charlstm import CharLSTM
from textconductor.model.checkpoint import CheckpointError, load_tensors, read_meta
from textconductor.training.batches import Streams
from textconductor.training.config import TrainConfig, TrainError

STATE_FORMAT = "textconductor-trainstate"


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


def restore_state(spath: Path, model: CharLSTM, opt: torch.optim.Optimizer, streams: Streams, cfg: TrainConfig,
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
    except Exception as e:  # noqa: BLE001 - a damaged state file fails in torch, safetensors or numpy
        raise TrainError(f"cannot resume from {spath}: {e}") from None
    model.load_state_dict({k[6:]: v for k, v in t.items() if k.startswith("model.")})
    model.to(dev)
    for i, p in enumerate(params):
        if f"adam.{i}.step" in t:
            opt.state[p] = {"step": t[f"adam.{i}.step"].reshape(()).to(torch.float32),
                            "exp_avg": t[f"adam.{i}.exp_avg"].to(dev), "exp_avg_sq": t[f"adam.{i}.exp_avg_sq"].to(dev)}
    return meta["progress"], (t["hidden.h"].to(dev), t["hidden.c"].to(dev))
