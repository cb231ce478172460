"""Lineage: every training run behind a checkpoint, so its whole cost can be reported."""

from __future__ import annotations

from textconductor.model.checkpoint import CheckpointMeta


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


def curation(meta: CheckpointMeta) -> dict | None:
    """What a house style learnt from (`learn`): records, kept/rejected passages and characters."""
    cur = meta.extra.get("curation")
    return dict(cur) if isinstance(cur, dict) else None
