"""Argument types and options shared by every sub-command: one definition each.

Validators raise argparse.ArgumentTypeError, so a bad value becomes argparse's usage message
(exit 2) naming the option, never a traceback. Defaults shown in help texts come from
`textconductor.protocol.defaults` and `textconductor.protocol`, never from a literal here.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from textconductor.errors import UserError
from textconductor.protocol.address import DEFAULT_HOST, DEFAULT_PORT, parse_address

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_ENGINE = f"{DEFAULT_HOST}:{DEFAULT_PORT}"  # what --engine HOST:PORT means when it is not given
N = TypeVar("N", int, float)


class UsageError(UserError):
    """A bad combination of options (each one valid alone): one line, exit 2, like a bad value."""


def _checked(s: str, convert: Callable[[str], N], ok: Callable[[N], bool], expected: str, rule: str) -> N:
    """`convert(s)` if it parses and satisfies `ok`: every numeric option's one shape, so each says
    what it expected and which rule it broke in the same words."""
    try:
        v = convert(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {s!r}") from None
    if not ok(v):
        raise argparse.ArgumentTypeError(f"must be {rule}, got {s}")
    return v


def positive_float(s: str) -> float:
    """A finite number > 0 (a length, a rate): NaN and inf would reach a sleep or a timer, so are refused."""
    return _checked(s, float, lambda v: 0 < v < math.inf, "a number", "> 0")


def nonnegative_float(s: str) -> float:
    """A finite number >= 0 (0 usually means 'off' or 'as fast as possible')."""
    return _checked(s, float, lambda v: 0 <= v < math.inf, "a number", ">= 0")


def positive_int(s: str) -> int:
    """A count, at least 1."""
    return _checked(s, int, lambda v: v > 0, "a whole number", "> 0")


def fraction(s: str) -> float:
    """A share in 0..1."""
    return _checked(s, float, lambda v: 0 <= v <= 1, "a number in 0..1", "in 0..1")


def add_device(p: argparse.ArgumentParser, default: str | None = "auto", what: str = "") -> None:
    """--device auto|cpu|cuda (auto: CUDA when this torch build sees a GPU)."""
    p.add_argument("--device", default=default, choices=DEVICES,
                   help=what or f"where torch runs (default {default}; auto picks CUDA when present)")


def udp_port(s: str) -> int:
    """A UDP port, 0..65535 (0: any free one); caught here, because bind() raises OverflowError."""
    return _checked(s, int, lambda v: 0 <= v <= 65535, "a port number", "in 0..65535")


def host_port(s: str) -> tuple[str, int]:
    """HOST:PORT, :PORT or PORT (no host: loopback), read by the protocol's `parse_address` so
    every process accepts the same address text. The port is required: a subscriber has no
    default port to be sent to, so the default given to `parse_address` (0) is one it refuses."""
    try:
        return parse_address(s, default_port=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT with a port in 1..65535, got {s!r}") from None


def name_weight(s: str) -> tuple[str, float]:
    """NAME=WEIGHT, e.g. bible=0.8 (whether NAME is a loaded style is the engine's to say)."""
    name, _, w = s.partition("=")
    try:
        return name, float(w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT, got {s!r}") from None


def tick_span(s: str) -> tuple[int, int]:
    """START:END, whole ticks with 0 <= START < END (END exclusive)."""
    try:
        a, b = (int(x) for x in s.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END (whole ticks), got {s!r}") from None
    if not 0 <= a < b:
        raise argparse.ArgumentTypeError(f"must be START:END with 0 <= START < END, got {s}")
    return a, b


def write_output(text: str, out: str | None) -> None:
    """A command's text output: into the file `--out FILE` names (UTF-8), else to standard output."""
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
