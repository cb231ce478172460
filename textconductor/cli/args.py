"""Argument types and options shared by every sub-command: one definition each.

Validators raise argparse.ArgumentTypeError, so a bad value becomes argparse's usage message
(exit 2) naming the option, never a traceback. Defaults shown in help texts come from
`textconductor.protocol.defaults` and `textconductor.protocol`, never from a literal here.
"""

from __future__ import annotations

import argparse

from textconductor.errors import UserError
from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_ENGINE = f"{DEFAULT_HOST}:{DEFAULT_PORT}"  # what --engine HOST:PORT means when it is not given


class UsageError(UserError):
    """A bad combination of options (each one valid alone): one line, exit 2, like a bad value."""


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


def udp_port(s: str) -> int:
    """A UDP port, 0..65535 (0: any free one); caught here, because bind() raises OverflowError."""
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {s!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 0..65535, got {s}")
    return v


def host_port(s: str) -> tuple[str, int]:
    """HOST:PORT (HOST may be empty: loopback)."""
    host, _, p = s.rpartition(":")
    try:
        return host or DEFAULT_HOST, int(p)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {s!r}") from None


def name_weight(s: str) -> tuple[str, float]:
    """NAME=WEIGHT, e.g. bible=0.8 (whether NAME is a loaded style is the engine's to say)."""
    name, _, w = s.partition("=")
    try:
        return name, float(w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT, got {s!r}") from None
