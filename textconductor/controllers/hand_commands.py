"""Sub-commands of the hand-gesture controller (registered into the `textconductor` command by cli.py)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this part's sub-commands; import heavy modules only inside their handlers."""
