"""`textconductor anthology RECORD...`: the passages a performer kept, as Markdown or printable HTML.

The rendering lives in `textconductor.tools.anthology` (pure: marks in, text out); this module only
wires arguments. Every passage of an anthology names `replay RECORD --passage START:END` (its type,
`args.tick_span`) to regenerate itself from its record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from textconductor.cli.args import write_output


def cmd_anthology(a: argparse.Namespace) -> int:
    from textconductor.engine.marks import read_marks
    from textconductor.tools.anthology import render
    kinds = ("keep", "reject") if a.rejected else ("keep",)
    marks = [m for m in read_marks([Path(p) for p in a.records]) if m.kind in kinds]
    write_output(render(marks, a.format, records=[Path(p) for p in a.records]), a.out)
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
