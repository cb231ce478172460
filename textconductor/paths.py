"""Where textconductor keeps its files: one user data directory, and the folders inside it.

Every process (engine, window, controllers, supervisor, training) agrees on these, so a record
written by the engine is found by `replay`, and a MIDI map saved by the window by `midi`.
The directory can be moved with TEXTCONDUCTOR_DATA (tests point it at a temporary folder).
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "textconductor"


def data_dir() -> Path:
    """The user data directory (~/.local/share/textconductor on Linux), not created here."""
    override = os.environ.get("TEXTCONDUCTOR_DATA")
    if override:
        return Path(override)
    from platformdirs import user_data_dir
    return Path(user_data_dir(APP, appauthor=False))


def records_dir() -> Path:
    """Performance records (JSONL), one file per run of the engine."""
    return data_dir() / "records"


def blocklist_path() -> Path:
    """The operator's blocklist (words the engine never completes), read by the engine if present."""
    return data_dir() / "blocklist.txt"


def styles_dir() -> Path:
    """Styles an engine may load while it runs (`/tc/load NAME`), where `learn` writes by default."""
    return data_dir() / "styles"


def bank_work_dir() -> Path:
    """`train-bank`'s base model and per-stage training states."""
    return data_dir() / "bank-work"


def index_dir() -> Path:
    """The corpus index (`textconductor index`): the engine marks verbatim spans when one is here."""
    return data_dir() / "index"


def hand_models_dir() -> Path:
    """The assembled hand-landmark model (`hands setup`)."""
    return data_dir() / "models"
