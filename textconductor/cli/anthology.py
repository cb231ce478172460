"""`textconductor anthology RECORD...`: the passages a performer kept, as Markdown or printable HTML.

The rendering lives in `textconductor.tools.anthology` (pure: marks in, text out); this module only
wires arguments. `tick_span` is also the type of `replay --passage START:END`, the command every
passage of an anthology names to regenerate itself from its record.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def tick_span(s: str) -> tuple[int, int]:
    """START:END, whole ticks with 0 <= START < END (END exclusive)."""
    try:
        a, b = (int(x) for x in s.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END (whole ticks), got {s!r}") from None
    if not 0 <= a < b:
        raise argparse.ArgumentTypeError(f"must be START:END with 0 <= START < END, got {s}")
    return a, b


def cmd_anthology(a: argparse.Namespace) -> int:
    from textconductor.engine.marks import read_marks
    from textconductor.tools.anthology import render
    kinds = ("keep", "reject") if a.rejected else ("keep",)
    marks = [m for m in read_marks([Path(p) for p in a.records]) if m.kind in kinds]
    text = render(marks, a.format, records=[Path(p) for p in a.records])
    if a.out:
        Path(a.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("anthology", help="the passages kept during performances (md or printable html)",
                       description="Writes the passages marked with /tc/keep (window: K, or the Keep button) "
                                   "in order, each with its mixture, time and the command that regenerates it "
                                   "from its record (`textconductor replay RECORD --passage START:END`).")
    p.add_argument("records", nargs="+", metavar="RECORD", help="performance-*.jsonl files (engine --record)")
    p.add_argument("--format", choices=["md", "html"], default="md")
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    p.add_argument("--rejected", action="store_true", help="include the rejected passages too (marked as such)")
    p.set_defaults(func=cmd_anthology)
