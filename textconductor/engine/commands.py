"""Sub-commands of the engine: `engine` (run it headless) and `bench engine`."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path

from textconductor.errors import UserError
from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT, MIX_MODES

log = logging.getLogger(__name__)


def _host_port(s: str) -> tuple[str, int]:
    host, _, port = s.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {s!r}") from None


def _name_weight(s: str) -> tuple[str, float]:
    name, _, w = s.partition("=")
    try:
        return name, float(w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=WEIGHT, got {s!r}") from None


def add_bank_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bank", help="folder of style checkpoints (default: the bundled bank)")
    p.add_argument("--styles", nargs="+", metavar="NAME", help="load only these styles of the bank")
    p.add_argument("--checkpoints", nargs="+", metavar="FILE", help="load exactly these checkpoint files")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads for stepping (default 1: leaves a core for the frontend)")


def add_engine_args(p: argparse.ArgumentParser) -> None:
    add_bank_args(p)
    p.add_argument("--host", default=DEFAULT_HOST, help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"UDP port (default {DEFAULT_PORT}; 0 = any)")
    p.add_argument("--listen", metavar="ADDR", help="listen on this non-loopback interface (needs --allow)")
    p.add_argument("--allow", nargs="+", metavar="HOST", help="hosts allowed to control the engine with --listen")
    p.add_argument("--rate", type=float, default=15.0, help="characters per second (0 = as fast as possible)")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--mix", choices=MIX_MODES, default="linear")
    p.add_argument("--threshold", type=float, default=0.05, help="activation threshold on normalised weights")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resync-chars", type=int, default=80, help="history a newly active style reads")
    p.add_argument("--weights", nargs="+", type=_name_weight, metavar="NAME=W", help="starting weights")
    p.add_argument("--prime", help="text to start from")
    p.add_argument("--subscribe", nargs="+", type=_host_port, default=[], metavar="HOST:PORT",
                   help="send output here from the start")
    p.add_argument("--print", action="store_true", help="stream the text to the terminal")
    p.add_argument("--max-chars", type=int, help="stop after this many characters")


def load_from_args(a: argparse.Namespace):
    """(Bank, names) from --checkpoints, or --bank/--styles, or the bundled bank."""
    import torch

    from textconductor.engine.loader import bank_files, load_bank
    from textconductor.models.bank_recipe import BANK_DIR
    torch.set_num_threads(max(1, a.threads))
    if a.checkpoints:
        paths = [Path(p) for p in a.checkpoints]
    else:
        paths = bank_files(Path(a.bank) if a.bank else BANK_DIR, a.styles)
    return load_bank(paths, a.device)


def build_engine(a: argparse.Namespace, **hooks):
    from textconductor.engine.conductor import Conductor, Tuning
    from textconductor.engine.runner import Engine, terminal_echo
    from textconductor.engine.server import EngineSocket
    from textconductor.protocol import RATE_RANGE, TEMPERATURE_RANGE, THRESHOLD_RANGE, TOP_P_RANGE, Command, Params
    for value, (lo, hi), name in ((a.rate, RATE_RANGE, "--rate"), (a.temperature, TEMPERATURE_RANGE, "--temperature"),
                                  (a.threshold, THRESHOLD_RANGE, "--threshold"), (a.top_p, TOP_P_RANGE, "--top-p")):
        if not lo <= value <= hi:
            raise UserError(f"{name} {value:g} is outside {lo:g}..{hi:g}")
    if a.listen and not a.allow:
        raise UserError("--listen needs --allow HOST... (the hosts that may control the engine)")
    bank, names = load_from_args(a)
    params = Params(temperature=a.temperature, rate=a.rate, mix=a.mix, threshold=a.threshold, top_p=a.top_p)
    conductor = Conductor(bank, names, seed=a.seed, params=params, tuning=Tuning(resync_chars=max(0, a.resync_chars)))
    if a.weights:
        conductor.raw[:] = 0
        for name, w in a.weights:
            conductor.apply(Command("weight", (conductor.style(name) if name in names else name, w)))
    if a.prime:
        conductor.prime(a.prime)
    sock = EngineSocket(a.listen or a.host, a.port, a.allow)
    return Engine(conductor, sock, a.subscribe, echo=terminal_echo if a.print else None, **hooks)


def cmd_engine(a: argparse.Namespace) -> int:
    from textconductor.engine.conductor import CommandError
    try:
        engine = build_engine(a)
    except CommandError as e:
        raise UserError(f"--weights: {e}") from None
    host, port = engine.sock.address
    log.info("engine listening on %s:%d (OSC, see docs/osc.md)", host, port)
    signal.signal(signal.SIGTERM, lambda *_: engine.stop())
    engine.sock.start()
    try:
        engine.run(a.max_chars)
    except KeyboardInterrupt:
        pass
    finally:
        engine.sock.close()
        if a.print:
            print()
    return 0


def cmd_bench_engine(a: argparse.Namespace) -> int:
    from textconductor.engine.bench import run_bench
    print(run_bench(a))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("engine", help="run the engine headless (OSC on 127.0.0.1:57130)",
                       description="Runs the mixing engine. Control it over OSC (docs/osc.md); "
                                   "--print streams the text to the terminal.")
    add_engine_args(e)
    e.set_defaults(func=cmd_engine)

    b = sub.add_parser("bench", help="benchmarks (bench engine)")
    bsub = b.add_subparsers(dest="bench", required=True, metavar="WHAT")
    be = bsub.add_parser("engine", help="step time: batched bank vs naive loop, bandwidth bound, OSC latency",
                         description="Measures, in one run, 1/8/24 active styles: batched step vs a naive loop "
                                     "over each style's nn.LSTM, memory-bandwidth bound, sustained rate while "
                                     "publishing, and OSC weight-change latency.")
    add_bank_args(be)
    be.add_argument("--random", type=int, metavar="N",
                    help="use N randomly initialised 2x256 styles (timing only) instead of trained ones")
    be.add_argument("--ticks", type=int, default=300, help="ticks per measurement")
    be.add_argument("--seconds", type=float, default=5.0, help="length of the sustained-rate run")
    be.set_defaults(func=cmd_bench_engine)
