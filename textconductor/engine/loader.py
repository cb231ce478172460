"""Finding and loading the styles an engine plays: the bundled bank, a folder, or given files."""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from textconductor.assets import BANK_DIR, load_recipe
from textconductor.engine.bank import Bank
from textconductor.errors import UserError
from textconductor.model.checkpoint import load_checkpoint

log = logging.getLogger(__name__)


def bank_files(folder: Path = BANK_DIR, styles: list[str] | None = None) -> list[Path]:
    """Checkpoints in a folder, in the recipe's style order first (so indices are stable)."""
    folder = Path(folder)
    found = {p.stem: p for p in sorted(folder.glob("*.safetensors"))}
    if not found:
        hint = (" The bundled bank has not been trained yet: run `textconductor train-bank --corpora DIR`,"
                " or pass --checkpoints FILE..." if folder == BANK_DIR else "")
        raise UserError(f"no checkpoints (*.safetensors) in {folder}.{hint}")
    if styles:
        missing = [s for s in styles if s not in found]
        if missing:
            raise UserError(f"no style(s) {', '.join(missing)} in {folder} (it has: {', '.join(found)})")
        return [found[s] for s in styles]
    order = [s for s in load_recipe()["finetune"]["styles"] if s in found]
    return [found[s] for s in order] + [p for s, p in found.items() if s not in order]


def load_bank(paths: list[Path], device: str = "cpu") -> tuple[Bank, list[str]]:
    models, names = [], []
    for p in paths:
        model, meta = load_checkpoint(p)
        if meta.name in names:
            raise UserError(f"{p}: style name {meta.name!r} is loaded twice")
        models.append(model)
        names.append(meta.name)
    dev = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                       ("cpu" if device == "auto" else device))
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available")
    bank = Bank(models, dev)
    bank.paths = list(paths)
    log.info("loaded %d style(s) on %s: %s", len(names), dev, ", ".join(names))
    return bank, names
