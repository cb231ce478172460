"""The `doctor` sub-command: the stage-readiness checks `play` runs first, as a report of their own.

The checks live in `textconductor.tools.doctor` (imported in the handler, so `--help` stays instant);
this module only prints them and turns the verdict into the exit status a script can test.
"""

from __future__ import annotations

import argparse

from textconductor.cli.args import add_device, udp_port
from textconductor.protocol import DEFAULT_PORT


def cmd_doctor(a: argparse.Namespace) -> int:
    from textconductor.tools.doctor import format_report, run_checks
    checks = run_checks(headless=a.headless, port=a.port, device=a.device)
    print(format_report(checks, headless=a.headless), end="")
    return 1 if any(c.blocking for c in checks) else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check this machine for `play`: display, Qt libraries, MIDI, camera, ...",
                       description="One line per check (display; the Qt platform plugin's shared libraries, with "
                                   "the apt-get line for what is missing; MIDI over ALSA/JACK; camera and hand "
                                   "model; CUDA; the user data directory; the engine port), then a verdict. "
                                   "Exit status 1 when `play` cannot work; MIDI, camera and CUDA never block.")
    p.add_argument("--headless", action="store_true", help="judge for `play --headless` (no display or Qt needed)")
    p.add_argument("--port", type=udp_port, default=DEFAULT_PORT, help=f"engine UDP port (default {DEFAULT_PORT})")
    add_device(p, default=None, what="judge CUDA as required when `play` will run with --device cuda")
    p.set_defaults(func=cmd_doctor)
