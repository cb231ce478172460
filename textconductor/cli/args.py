"""Argument types and options shared by every sub-command: one definition each.

Validators raise argparse.ArgumentTypeError, so a bad value becomes argparse's usage message
(exit 2) naming the option, never a traceback.
"""

from __future__ import annotations

import argparse

DEVICES = ("auto", "cpu", "cuda")


def positive_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be > 0, got {s}")
    return v


def nonnegative_float(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be >= 0, got {s}")
    return v


def positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {s!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {s}")
    return v


def fraction(s: str) -> float:
    """A share in 0..1."""
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in 0..1, got {s!r}") from None
    if not 0 <= v <= 1:
        raise argparse.ArgumentTypeError(f"must be in 0..1, got {s}")
    return v


def add_device(p: argparse.ArgumentParser, default: str | None = "auto", what: str = "") -> None:
    """--device auto|cpu|cuda (auto: CUDA when this torch build sees a GPU)."""
    p.add_argument("--device", default=default, choices=DEVICES,
                   help=what or f"where torch runs (default {default}; auto picks CUDA when present)")
