"""Checkpoints: safetensors weights plus JSON metadata, never pickle.

A style checkpoint is one `.safetensors` file whose header metadata holds a JSON document (style
name, character set, shape, provenance, held-out bits/char). Loading reads only tensors and JSON,
so a crafted file can at worst be refused with a message naming the file and the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from textconductor.errors import UserError
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol.charset import CHARS

FORMAT = "textconductor-charlstm"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 1 << 20  # a real header is a few KB; refuse absurd ones before parsing


class CheckpointError(UserError):
    """A file that is not a loadable textconductor checkpoint; the message names file and reason."""


@dataclass
class CheckpointMeta:
    name: str
    display_name: str = ""
    layers: int = 2
    hidden: int = 256
    embed: int = 64
    charset: str = CHARS
    corpus_sha256: str = ""
    train_chars: int = 0
    train_seconds: float = 0.0
    heldout_bpc: float | None = None
    base: str | None = None  # name of the base model this style was fine-tuned from
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> CharLSTMConfig:
        return CharLSTMConfig(layers=self.layers, hidden=self.hidden, embed=self.embed)


def expected_shapes(config: CharLSTMConfig) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes of a CharLSTM, derived from a freshly built one (no guessing)."""
    with torch.device("meta"):
        model = CharLSTM(config)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def save_checkpoint(path: str | Path, model: CharLSTM, meta: CheckpointMeta,
                    dtype: torch.dtype = torch.float16) -> Path:
    """Write atomically (temp file + rename) so a kill mid-write never leaves a half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    header = {"format": FORMAT, "version": str(FORMAT_VERSION), "meta": json.dumps(meta.__dict__)}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=header)
    os.replace(tmp, path)
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    """Parse and check a safetensors header by hand before handing the file to safetensors.

    Checks the 8-byte length, that the header is JSON, and that every tensor's byte range lies
    inside the file: a truncated or corrupt file is refused here with a precise reason.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: not a safetensors file (only {size} bytes)")
        n = int.from_bytes(head, "little")
        if n <= 0 or n > MAX_HEADER_BYTES or 8 + n > size:
            raise CheckpointError(f"{path}: not a safetensors file or truncated (header length {n}, file {size} bytes)")
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise CheckpointError(f"{path}: corrupt header ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt header (not a JSON object)")
    data_len = size - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            start, end = info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise CheckpointError(f"{path}: corrupt header entry for tensor {name!r}") from None
        if not (0 <= start <= end <= data_len):
            raise CheckpointError(f"{path}: truncated (tensor {name!r} needs bytes up to {end}, file has {data_len})")
    return header


def read_meta(path: str | Path, expected_format: str = FORMAT) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, after checking it is one of ours."""
    header = read_header(path)
    md = header.get("__metadata__") or {}
    if md.get("format") != expected_format:
        raise CheckpointError(f"{path}: not a {expected_format} file (format={md.get('format')!r})")
    if md.get("version") != str(FORMAT_VERSION):
        raise CheckpointError(f"{path}: unsupported version {md.get('version')!r} (this build reads {FORMAT_VERSION})")
    try:
        meta = json.loads(md["meta"])
        if not isinstance(meta, dict):
            raise ValueError("metadata is not an object")
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: corrupt metadata ({e})") from None
    return meta


def load_meta(path: str | Path) -> CheckpointMeta:
    raw = read_meta(path)
    known = set(CheckpointMeta.__dataclass_fields__)
    try:
        meta = CheckpointMeta(**{k: v for k, v in raw.items() if k in known})
        layers, hidden, embed = int(meta.layers), int(meta.hidden), int(meta.embed)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: corrupt metadata ({e})") from None
    if not (1 <= layers <= 8 and 1 <= hidden <= 8192 and 1 <= embed <= 8192):
        raise CheckpointError(f"{path}: implausible shape (layers={layers}, hidden={hidden}, embed={embed})")
    if meta.charset != CHARS:
        raise CheckpointError(f"{path}: different character set ({len(meta.charset)} symbols, "
                              f"this build uses {len(CHARS)}); retrain it on folded text")
    return meta


def load_tensors(path: str | Path, shapes: dict[str, tuple[int, ...]], allow_extra: bool = False
                 ) -> dict[str, torch.Tensor]:
    """Load exactly the named tensors with exactly these shapes, as float32, or refuse."""
    path = Path(path)
    out: dict[str, torch.Tensor] = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            names = set(f.keys())
            missing, extra = set(shapes) - names, set() if allow_extra else names - set(shapes)
            if missing or extra:
                raise CheckpointError(f"{path}: tensors do not match the declared model "
                                      f"(missing {sorted(missing)}, unexpected {sorted(extra)})")
            for name, shape in shapes.items():
                t = f.get_tensor(name)
                if tuple(t.shape) != shape:
                    raise CheckpointError(f"{path}: tensor {name} has shape {tuple(t.shape)}, expected {shape}")
                if not t.is_floating_point():
                    raise CheckpointError(f"{path}: tensor {name} is {t.dtype}, expected floating point")
                out[name] = t.float()
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types for malformed files
        raise CheckpointError(f"{path}: corrupt safetensors data ({e})") from None
    bad = [k for k, v in out.items() if not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path}: non-finite values in {bad}")
    return out


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[CharLSTM, CheckpointMeta]:
    """Build the model a checkpoint declares and fill it; float32 whatever the stored dtype."""
    meta = load_meta(path)
    config = meta.config
    tensors = load_tensors(path, expected_shapes(config))
    model = CharLSTM(config)
    model.load_state_dict(tensors)
    return model.to(device).eval(), meta
