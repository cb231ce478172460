"""The `textconductor` command: one sub-command per task, each a thin shell over the library.

Every sub-command lives in a module of this package, listed once in PLUGIN_COMMANDS; each module
has `register(subparsers)`. Heavy imports (torch, Qt) happen inside the handler that needs them,
so `--help` is instant and the frontend never pays for torch. A `UserError` from any handler
becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys

from textconductor.errors import UserError

log = logging.getLogger("textconductor")

# The sub-command modules, in the order `--help` lists them. A module listed here must import
# nothing heavy at import time (no torch, no Qt): `textconductor --help` imports them all.
PLUGIN_COMMANDS = (
    "textconductor.cli.training",  # train, eval, sample, train-bank, bank-report, fold-report
    "textconductor.cli.play",  # play: engine + window, supervised
    "textconductor.cli.doctor",  # doctor: can play work here (the checks play runs first)
    "textconductor.cli.engine",  # engine, replay, export
    "textconductor.cli.anthology",  # anthology: the kept passages of performance records
    "textconductor.cli.bench",  # soak, bench engine | ui | train
    "textconductor.cli.frontend",  # ui, screenshots
    "textconductor.cli.controllers",  # midi, autopilot, osc-bridge
    "textconductor.cli.hands",  # hands setup | check | run | bench-filter
    "textconductor.cli.audience",  # audience: phones pull the mix (web page + QR code)
    "textconductor.cli.tempo",  # tempo (MIDI clock, Link, BPM), notes-out
    "textconductor.cli.perform",  # perform: play a score file
    "textconductor.cli.index",  # index: the corpora, for verbatim marks
    "textconductor.cli.learn",  # learn: a house style from kept passages
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="textconductor", description="A real-time instrument for conducting text.")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in PLUGIN_COMMANDS:
        importlib.import_module(module).register(sub)
    return p


def _interruptible() -> None:
    """SIGINT (Ctrl+C, `kill -INT`, the tests) stops every command cleanly, even one started in the
    background of a script: there the shell leaves SIGINT ignored, and a process that starts with it
    ignored never raises KeyboardInterrupt, so `audience` or `tempo` would run on until killed."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str] | None = None) -> int:
    _interruptible()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return args.func(args)
    except UserError as e:
        print(f"textconductor {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
