"""The `play` sub-command: run doctor's checks, set up paths, check the bank, and hand over to the supervisor."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from textconductor.cli.args import add_device, nonnegative_float, udp_port
from textconductor.errors import UserError
from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT
from textconductor.protocol.defaults import DEFAULT_RATE, DEFAULT_SEED

log = logging.getLogger(__name__)


def preflight(a: argparse.Namespace) -> bool:
    """`textconductor doctor`'s checks, before anything starts. False (the report printed) when one that
    makes play impossible fails; what is merely unavailable (MIDI, camera, CUDA) is logged in one line."""
    from textconductor.tools.doctor import format_report, run_checks
    from textconductor.tools.qt_libs import qt_child_env
    checks = run_checks(headless=a.headless, port=a.port, device=a.device, env=qt_child_env(os.environ),
                        cuda_probe=False, bank=False)  # judged in the environment the window will get
    if any(c.blocking for c in checks):
        sys.stderr.write(f"textconductor play: cannot start; the checks (`textconductor doctor`) say:\n"
                         f"{format_report(checks, headless=a.headless, optional_fixes=False)}")
        return False
    missing = [c.name for c in checks if not c.ok]
    if missing:
        log.info("checks passed; not available here: %s (`textconductor doctor` says why)", ", ".join(missing))
    return True


def cmd_play(a: argparse.Namespace) -> int:
    from functools import partial

    from textconductor.assets import BANK_DIR
    from textconductor.engine.loader import bank_files
    from textconductor.paths import data_dir
    from textconductor.supervisor import Supervisor
    from textconductor.tools.doctor import diagnose_child
    from textconductor.tools.qt_libs import qt_child_env
    if a.port == 0:
        raise UserError("play needs a fixed --port (the frontend and restarted engines must find it)")
    if not a.skip_checks and not preflight(a):
        return 1
    if not a.checkpoints:
        bank_files(Path(a.bank) if a.bank else BANK_DIR, a.styles)  # a clear message now, not a restart loop
    data = data_dir()
    data.mkdir(parents=True, exist_ok=True)
    state = Path(a.state) if a.state else data / "engine-state.json"
    if not a.resume:
        state.unlink(missing_ok=True)
    engine = [sys.executable, "-m", "textconductor", "engine", "--port", str(a.port), "--seed", str(a.seed),
              "--rate", str(a.rate)]
    for flag, value in (("--bank", a.bank), ("--device", a.device)):
        if value:
            engine += [flag, value]
    for flag, values in (("--styles", a.styles), ("--checkpoints", a.checkpoints)):
        if values:
            engine += [flag, *values]
    if a.watch_styles:
        engine.append("--watch-styles")
    if a.resume and state.exists():
        engine += ["--restore", str(state)]
    if not a.no_record:
        from textconductor.engine.record import new_path
        engine += ["--record", str(Path(a.record) if a.record else new_path())]
    ui = None
    if a.headless:
        engine.append("--print")
    else:
        ui = [sys.executable, "-m", "textconductor", "ui", "--engine", f"{DEFAULT_HOST}:{a.port}"]
        ui += [f for f, on in (("--fullscreen", a.fullscreen), ("--talk", a.talk),
                               ("--output-window", a.output_window)) if on]
    helpers = {}
    if a.audience:  # the room's phones (cli/audience.py): one room code for the whole session, in the QR
        helpers["audience server"], url = audience_argv(a, a.port)
        if ui:
            ui += ["--audience-url", url]
        print(f"play: phones join at {url}", flush=True)
    ui_env = qt_child_env(os.environ)  # never OpenCV's Qt plugins for the window
    diagnose = partial(diagnose_child, env=ui_env, port=a.port)
    return Supervisor(engine, ui, state, spare=not a.no_spare, ui_env=ui_env, diagnose=diagnose,
                      helpers=helpers).run()


def audience_argv(a: argparse.Namespace, engine_port: int) -> tuple[list[str], str]:
    """`textconductor audience` for `play --audience`, and the room's URL (for the window's QR code)."""
    from textconductor.controllers.audience.room import new_room_code, room_url
    host, port = a.audience
    room = new_room_code()
    argv = [sys.executable, "-m", "textconductor", "audience", "--listen", f"{host}:{port}", "--room", room,
            "--engine", f"{DEFAULT_HOST}:{engine_port}", "--no-terminal-qr"]
    if a.audience_allow:
        argv += ["--allow", *a.audience_allow]
    if a.audience_prime:
        argv.append("--allow-prime")
    if a.audience_url_host:
        argv += ["--url-host", a.audience_url_host]
    return argv, room_url(host, port, room, a.audience_url_host)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("play", help="run the instrument: engine + window, supervised (make play)",
                       description="Starts the engine with the bundled bank and the Qt window, restarts either "
                                   "if it crashes (the engine with its state restored), and records the "
                                   "performance. Closing the window or Ctrl-C stops everything.")
    p.add_argument("--fullscreen", action="store_true", help="gallery mode")
    p.add_argument("--talk", action="store_true", help="larger fonts for a talk")
    p.add_argument("--output-window", action="store_true", help="a text-only window for a second screen")
    p.add_argument("--headless", action="store_true", help="no window: the engine prints the text")
    p.add_argument("--bank", help="folder of style checkpoints (default: the bundled bank)")
    p.add_argument("--styles", nargs="+", metavar="NAME", help="load only these styles")
    p.add_argument("--checkpoints", nargs="+", metavar="FILE", help="load exactly these checkpoints")
    add_device(p, default=None, what="where the engine steps the styles (default: the engine's, cpu)")
    p.add_argument("--port", type=udp_port, default=DEFAULT_PORT, help=f"engine UDP port (default {DEFAULT_PORT})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--rate", type=nonnegative_float, default=DEFAULT_RATE,
                   help=f"characters per second (default {DEFAULT_RATE:g})")
    p.add_argument("--record", metavar="FILE", help="performance record file (default: a new one in the data dir)")
    p.add_argument("--no-record", action="store_true", help="do not record the performance")
    p.add_argument("--state", metavar="FILE", help="engine snapshot file (default: in the data dir)")
    p.add_argument("--resume", action="store_true", help="continue from the last snapshot (after a power cut)")
    p.add_argument("--watch-styles", action="store_true",
                   help="play the styles folder's checkpoints too, and load new or retrained ones (`learn`) "
                        "by themselves")
    p.add_argument("--no-spare", action="store_true", help="no warm spare engine (saves memory; slower restarts)")
    from textconductor.cli.audience import DEFAULT_LISTEN, listen_address
    au = p.add_argument_group("the audience (phones pull the mix; docs/operations.md)")
    au.add_argument("--audience", nargs="?", type=listen_address, const=listen_address(DEFAULT_LISTEN),
                    metavar="HOST:PORT", help=f"also serve the phones' page (default {DEFAULT_LISTEN}; 0.0.0.0:8765 "
                                              "for the venue's network, with --audience-allow); the window's Room "
                                              "control says how much they count, its QR button shows the URL")
    au.add_argument("--audience-allow", nargs="+", metavar="NET", help="networks whose phones may join (e.g. "
                                                                       "192.168.1.0/24; required off loopback)")
    au.add_argument("--audience-prime", action="store_true", help="let phones write into the text (blocklist applies)")
    au.add_argument("--audience-url-host", metavar="HOST", help="host name in the QR code (default: the LAN address)")
    p.add_argument("--skip-checks", action="store_true",
                   help="start even when `textconductor doctor`'s checks say play cannot work")
    p.set_defaults(func=cmd_play)
