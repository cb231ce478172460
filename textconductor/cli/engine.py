"""Sub-commands of the engine: `engine` (run it headless) and `bench engine`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
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
    p.add_argument("--record", nargs="?", const="auto", metavar="FILE",
                   help="append the performance record (events + text) to FILE (default: a new file in the "
                        "user data dir)")
    p.add_argument("--state", metavar="FILE", help="write a restart snapshot here twice a second")
    p.add_argument("--restore", metavar="FILE", help="start from this snapshot if it exists")
    p.add_argument("--standby", action="store_true",
                   help="load everything, then wait for SIGUSR1 before listening (a warm spare for `play`)")


def load_from_args(a: argparse.Namespace):
    """(Bank, names) from --checkpoints, or --bank/--styles, or the bundled bank."""
    import torch

    from textconductor.assets import BANK_DIR
    from textconductor.engine.loader import bank_files, load_bank
    torch.set_num_threads(max(1, a.threads))
    if a.checkpoints:
        paths = [Path(p) for p in a.checkpoints]
    else:
        paths = bank_files(Path(a.bank) if a.bank else BANK_DIR, a.styles)
    return load_bank(paths, a.device)


def build_engine(a: argparse.Namespace):
    """The conductor with its bank and settings: everything up to going live (see start_engine)."""
    from textconductor.engine.conductor import Conductor, Tuning
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
    return conductor


def start_engine(a: argparse.Namespace, conductor):
    """Restore (if asked), open the record, bind the socket: the moment the engine goes live."""
    from textconductor.engine import snapshot
    from textconductor.engine.record import Recorder, file_hashes, new_path
    from textconductor.engine.runner import Engine, terminal_echo
    from textconductor.engine.server import EngineSocket
    restored = snapshot.read(Path(a.restore)) if a.restore else None
    if restored:
        snapshot.restore(conductor, restored)
        log.info("restored engine state at tick %d from %s", conductor.tick_index, a.restore)
    recorder = None
    if a.record:
        path = new_path() if a.record == "auto" else Path(a.record)
        recorder = Recorder(path)
        state = snapshot.snapshot(conductor)
        if restored and path.exists() and path.stat().st_size > 0:
            recorder.restored(state)
        else:
            recorder.start(conductor.params.seed, conductor.names, file_hashes(conductor.bank.paths), state)
        log.info("recording the performance to %s", path)
    sock = EngineSocket(a.listen or a.host, a.port, a.allow)
    subscribers = list(a.subscribe)
    for host, port in (restored or {}).get("subscribers", []):
        if (host, port) not in subscribers:
            subscribers.append((str(host), int(port)))  # listeners carry on through a restart
    return Engine(conductor, sock, subscribers, echo=terminal_echo if a.print else None, recorder=recorder,
                  state_path=Path(a.state) if a.state else None)


def cmd_engine(a: argparse.Namespace) -> int:
    from textconductor.engine.conductor import CommandError
    try:
        conductor = build_engine(a)
    except CommandError as e:
        raise UserError(f"--weights: {e}") from None
    if a.standby:
        wake = threading.Event()
        signal.signal(signal.SIGUSR1, lambda *_: wake.set())
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        log.info("standby: loaded, waiting for SIGUSR1")
        while not wake.wait(0.5):
            pass
    engine = start_engine(a, conductor)
    host, port = engine.sock.address
    log.info("engine listening on %s:%d (OSC, see docs/osc.md)", host, port)
    signal.signal(signal.SIGTERM, lambda *_: engine.stop())
    engine.sock.start()
    try:
        engine.run(a.max_chars)
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()
        if a.print:
            sys.stdout.write("\n")
    return 0


def cmd_replay(a: argparse.Namespace) -> int:
    from textconductor.engine.replay import replay
    r = replay(Path(a.record), Path(a.bank) if a.bank else None, a.device)
    if a.print:
        sys.stdout.write(r.generated + "\n")
    if r.first_mismatch is None:
        print(f"replay matches: {r.matched:,} of {r.ticks:,} characters identical")
        return 0
    print(f"replay DIVERGES at tick {r.first_mismatch}: {r.matched:,} of {r.ticks:,} characters identical")
    return 1


def cmd_export(a: argparse.Namespace) -> int:
    from textconductor.assets import load_styles
    from textconductor.engine.replay import export
    text = export(Path(a.record), a.format, {k: v.display for k, v in load_styles().items()})
    if a.out:
        Path(a.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_soak(a: argparse.Namespace) -> int:
    from textconductor.tools.soak import cmd_soak as run
    return run(a)


def cmd_bench_train(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_train import run
    print(run(Path(a.corpus) if a.corpus else None, a.seconds))
    return 0


def cmd_bench_engine(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_engine import run_bench
    print(run_bench(a))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("engine", help="run the engine headless (OSC on 127.0.0.1:57130)",
                       description="Runs the mixing engine. Control it over OSC (docs/osc.md); "
                                   "--print streams the text to the terminal.")
    add_engine_args(e)
    e.set_defaults(func=cmd_engine)

    r = sub.add_parser("replay", help="re-run a performance record and check the text is reproduced exactly")
    r.add_argument("record", help="a performance-*.jsonl file")
    r.add_argument("--bank", help="folder to find the recorded styles' checkpoints in (default: recorded paths)")
    r.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    r.add_argument("--print", action="store_true", help="print the regenerated text")
    r.set_defaults(func=cmd_replay)

    x = sub.add_parser("export", help="write a performance record's text (txt, or md with the mixture per paragraph)")
    x.add_argument("record")
    x.add_argument("--format", choices=["txt", "md"], default="txt")
    x.add_argument("--out", help="output file (default: standard output)")
    x.set_defaults(func=cmd_export)

    so = sub.add_parser("soak", help="long unthrottled run with every style active: RSS growth, max step time")
    add_bank_args(so)
    so.add_argument("--chars", type=int, default=1_000_000)
    so.add_argument("--random", type=int, metavar="N", help="N random 2x256 styles instead of trained ones")
    so.add_argument("--ui", action="store_true", help="soak the Qt window instead (needs a display or offscreen)")
    so.set_defaults(func=cmd_soak)

    b = sub.add_parser("bench", help="benchmarks: bench engine | ui | train")
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
    from textconductor.cli.frontend import add_bench_ui
    add_bench_ui(bsub)
    bt = bsub.add_parser("train", help="training chars/s for 2x256 and 2x512 on 1 and 2 threads")
    bt.add_argument("--corpus", help="text to train on (default: a generated sentence)")
    bt.add_argument("--seconds", type=float, default=15.0, help="per measurement")
    bt.set_defaults(func=cmd_bench_train)
