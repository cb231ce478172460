"""Sub-commands of the engine: `engine` (run it headless), `replay` and `export` (of a record).

Only argument wiring lives here: the options are turned into plain values and handed to the
engine's composition root (`textconductor.engine.root`), which the benchmarks use as well.
Torch loads inside the handlers, so `textconductor --help` stays instant.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from textconductor.cli.args import (
    UsageError,
    add_device,
    fraction,
    host_port,
    name_weight,
    positive_int,
    tick_span,
    udp_port,
    write_output,
)
from textconductor.errors import UserError
from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT, MIX_MODES
from textconductor.protocol.defaults import (
    DEFAULT_GUARD_ESCAPE,
    DEFAULT_GUARD_STRENGTH,
    DEFAULT_MIX,
    DEFAULT_OSCQUERY_PORT,
    DEFAULT_RATE,
    DEFAULT_SEED,
    DEFAULT_TEMPERATURE,
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_P,
    GUARD_ESCAPES,
    RESYNC_CHARS,
    RESYNC_FROM,
    VERBATIM_MIN_CHARS,
)

log = logging.getLogger(__name__)

# The root names a setting by its field; the user typed an option.
_OPTION = {"top_p": "--top-p", "resync_chars": "--resync-chars", "resync_from": "--resync-from",
           "guard_strength": "--guard-strength", "guard_escape": "--guard-escape"}


def add_bank_args(p: argparse.ArgumentParser) -> None:
    """Which styles to load and where to step them: shared by `engine`, `soak` and `bench engine`."""
    p.add_argument("--bank", help="folder of style checkpoints (default: the bundled bank)")
    p.add_argument("--styles", nargs="+", metavar="NAME", help="load only these styles of the bank")
    p.add_argument("--checkpoints", nargs="+", metavar="FILE", help="load exactly these checkpoint files")
    add_device(p, default="cpu")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads for stepping (default 1: leaves a core for the frontend)")


def style_source(a: argparse.Namespace):  # the root's StyleSource, imported lazily
    """The --bank/--styles/--checkpoints options as the root's StyleSource."""
    from textconductor.engine.root import StyleSource
    return StyleSource(bank=Path(a.bank) if a.bank else None, styles=tuple(a.styles or ()),
                       checkpoints=tuple(Path(p) for p in a.checkpoints or ()))


def add_engine_args(p: argparse.ArgumentParser) -> None:
    add_bank_args(p)
    p.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})")
    p.add_argument("--port", type=udp_port, default=DEFAULT_PORT, help=f"UDP port (default {DEFAULT_PORT}; 0 = any)")
    p.add_argument("--listen", metavar="ADDR", help="listen on this non-loopback interface (needs --allow)")
    p.add_argument("--allow", nargs="+", metavar="HOST", help="hosts allowed to control the engine with --listen")
    p.add_argument("--oscquery-port", type=udp_port, default=DEFAULT_OSCQUERY_PORT, metavar="PORT",
                   help="TCP port of the OSCQuery server (the OSC namespace as JSON; default: the same number as "
                        "--port; 0 = any)")
    p.add_argument("--no-oscquery", action="store_true", help="no OSCQuery server")
    p.add_argument("--no-mdns", action="store_true",
                   help="announce nothing over mDNS (by default _osc._udp and _oscjson._tcp, on the --listen "
                        "interface only: loopback unless told)")
    p.add_argument("--rate", type=float, default=DEFAULT_RATE,
                   help=f"characters per second (default {DEFAULT_RATE:g}; 0 = as fast as possible)")
    p.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE,
                   help=f"default {DEFAULT_TEMPERATURE:g}")
    p.add_argument("--mix", choices=MIX_MODES, default=DEFAULT_MIX)
    p.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                   help=f"activation threshold on normalised weights (default {DEFAULT_THRESHOLD:g})")
    p.add_argument("--top-p", type=float, default=DEFAULT_TOP_P)
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--resync-chars", type=int, default=RESYNC_CHARS,
                   help=f"history a newly active style reads (default {RESYNC_CHARS})")
    p.add_argument("--resync-from", choices=RESYNC_FROM, default=RESYNC_FROM[0],
                   help="where a newly active style starts before it reads that history: home (the state its "
                        "own opening leaves it in; default) or blank (a zeroed state: the first design, "
                        "best with --resync-chars 80). docs/models.md measures both")
    p.add_argument("--no-guard", dest="guard", action="store_false",
                   help="start with the loop guard off (it is on by default; /tc/guard switches it live)")
    p.add_argument("--guard-strength", type=fraction, default=DEFAULT_GUARD_STRENGTH,
                   help=f"loop guard strength 0..1 (default {DEFAULT_GUARD_STRENGTH:g})")
    p.add_argument("--guard-escape", choices=GUARD_ESCAPES, default=DEFAULT_GUARD_ESCAPE,
                   help=f"how the loop guard leaves a loop (default {DEFAULT_GUARD_ESCAPE}; docs/performance.md)")
    p.add_argument("--blocklist", metavar="FILE",
                   help=f"words and phrases never to complete, one a line, re-read when it changes "
                        f"(default: {_default_blocklist()} if it exists; docs/operations.md)")
    p.add_argument("--no-blocklist", action="store_true", help="no blocklist, even if the default file exists")
    p.add_argument("--styles-dir", metavar="DIR",
                   help="folder that `/tc/load NAME` loads NAME.safetensors from while the engine runs "
                        "(default: styles/ in the user data dir, where `learn` writes)")
    p.add_argument("--watch-styles", action="store_true",
                   help="load every checkpoint in the styles folder, and any new or changed one, by itself")
    p.add_argument("--index", metavar="DIR",
                   help="corpus index (`textconductor index`): send /tc/verbatim for text copied from a corpus "
                        "(default: index/ in the user data dir, when one was built there)")
    p.add_argument("--no-index", action="store_true", help="mark nothing, even if the default index exists")
    p.add_argument("--verbatim-min", type=positive_int, default=VERBATIM_MIN_CHARS, metavar="N",
                   help=f"shortest verbatim span marked, in characters (default {VERBATIM_MIN_CHARS})")
    p.add_argument("--weights", nargs="+", type=name_weight, metavar="NAME=W", help="starting weights")
    p.add_argument("--prime", help="text to start from")
    p.add_argument("--subscribe", nargs="+", type=host_port, default=[], metavar="HOST:PORT",
                   help="send output here from the start")
    p.add_argument("--print", action="store_true", help="stream the text to the terminal")
    p.add_argument("--max-chars", type=positive_int, help="stop after this many characters")
    p.add_argument("--record", nargs="?", const="auto", metavar="FILE",
                   help="append the performance record (events + text) to FILE (default: a new file in the "
                        "user data dir)")
    p.add_argument("--state", metavar="FILE", help="write a restart snapshot here twice a second")
    p.add_argument("--restore", metavar="FILE", help="start from this snapshot if it exists")
    p.add_argument("--standby", action="store_true",
                   help="load everything, then wait for SIGUSR1 before listening (a warm spare for `play`)")


def _settings(a: argparse.Namespace):  # the root's Settings, imported lazily
    from textconductor.engine.root import Settings
    return Settings(rate=a.rate, temperature=a.temperature, mix=a.mix, threshold=a.threshold, top_p=a.top_p,
                    seed=a.seed, resync_chars=a.resync_chars, resync_from=a.resync_from, guard=a.guard,
                    guard_strength=a.guard_strength,
                    guard_escape=a.guard_escape, weights=tuple(a.weights or ()), prime=a.prime)


def _default_blocklist() -> str:
    try:
        from textconductor.paths import blocklist_path
        return str(blocklist_path())
    except ImportError:  # platformdirs missing: --help must still work
        return "blocklist.txt in the user data dir"


def _blocklist(a: argparse.Namespace) -> Path | None:
    if a.no_blocklist:
        return None
    if a.blocklist:
        return Path(a.blocklist)
    from textconductor.paths import blocklist_path
    return blocklist_path()


def _styles_dir(a: argparse.Namespace) -> Path:
    if a.styles_dir:
        return Path(a.styles_dir)
    from textconductor.paths import styles_dir
    return styles_dir()


def _index(a: argparse.Namespace) -> Path | None:
    if a.no_index:
        return None
    if a.index:
        return Path(a.index)
    from textconductor.paths import index_dir
    return index_dir()


def _live(a: argparse.Namespace):  # the root's Live, imported lazily
    from textconductor.engine.record import new_path
    from textconductor.engine.root import Live
    from textconductor.engine.runner import terminal_echo
    record = None if not a.record else new_path() if a.record == "auto" else Path(a.record)
    return Live(host=a.listen or a.host, port=a.port, allow=tuple(a.allow or ()), subscribers=tuple(a.subscribe),
                record=record, state=Path(a.state) if a.state else None,
                restore=Path(a.restore) if a.restore else None, echo=terminal_echo if a.print else None,
                blocklist=_blocklist(a), styles_dir=_styles_dir(a), watch_styles=a.watch_styles,
                oscquery=not a.no_oscquery, oscquery_port=a.oscquery_port, mdns=not a.no_mdns,
                index=_index(a), index_required=bool(a.index) and not a.no_index, verbatim_min=a.verbatim_min)


def cmd_engine(a: argparse.Namespace) -> int:
    from textconductor.engine.root import SettingError, build_conductor, open_bank, start_engine
    settings = _settings(a)
    try:
        settings.check()  # before the bank loads: a typo costs no seconds
        if a.listen and not a.allow:
            raise UsageError("--listen needs --allow HOST... (the hosts that may control the engine)")
        conductor = build_conductor(*open_bank(style_source(a), a.device, a.threads), settings)
    except SettingError as e:
        raise UserError(f"{_OPTION.get(e.setting, '--' + e.setting)}: {e.problem}") from None
    if a.standby:
        wake = threading.Event()
        signal.signal(signal.SIGUSR1, lambda *_: wake.set())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})  # play starts a spare with it blocked
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        log.info("standby: loaded, waiting for SIGUSR1")
        while not wake.wait(0.5):
            pass
    engine = start_engine(conductor, _live(a))
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
    if a.passage:
        return _replay_passage(a)
    r = replay(Path(a.record), Path(a.bank) if a.bank else None, a.device)
    if a.print:
        sys.stdout.write(r.generated + "\n")
    if r.first_mismatch is None:
        print(f"replay matches: {r.matched:,} of {r.ticks:,} characters identical")
        return 0
    print(f"replay DIVERGES at tick {r.first_mismatch}: {r.matched:,} of {r.ticks:,} characters identical")
    return 1


def _replay_passage(a: argparse.Namespace) -> int:
    """--passage START:END: the regenerated text of those ticks on stdout, exactly; the verdict on stderr."""
    from textconductor.engine.marks import passage_text
    from textconductor.engine.replay import replay
    start, end = a.passage
    r = replay(Path(a.record), Path(a.bank) if a.bank else None, a.device, until=end)
    if end > max(r.chars, default=-1) + 1:
        raise UserError(f"the record has no ticks {start}..{end} (it ends at tick {max(r.chars, default=-1) + 1})")
    sys.stdout.write(passage_text(r.chars, r.primes, start, end))
    sys.stdout.flush()
    recorded = _recorded(Path(a.record))
    bad = [t for t in range(start, end) if t in recorded and r.chars.get(t) != recorded[t]]
    if bad:
        print(f"\nreplay DIVERGES at tick {bad[0]} of the passage {start}:{end}", file=sys.stderr)
        return 1
    print(f"\npassage {start}:{end} regenerated: identical to the record", file=sys.stderr)
    return 0


def _recorded(path: Path) -> dict[int, str]:
    from textconductor.engine.record import read_record
    from textconductor.engine.replay import recorded_text
    return recorded_text(read_record(path))


def cmd_export(a: argparse.Namespace) -> int:
    from textconductor.assets import load_styles
    from textconductor.engine.replay import export
    write_output(export(Path(a.record), a.format, {k: v.display for k, v in load_styles().items()}), a.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this part's sub-commands; import heavy modules only inside their handlers."""
    e = sub.add_parser("engine", help=f"run the engine headless (OSC on {DEFAULT_HOST}:{DEFAULT_PORT})",
                       description="Runs the mixing engine. Control it over OSC (docs/osc.md); "
                                   "--print streams the text to the terminal.")
    add_engine_args(e)
    e.set_defaults(func=cmd_engine)

    r = sub.add_parser("replay", help="re-run a performance record and check the text is reproduced exactly")
    r.add_argument("record", help="a performance-*.jsonl file")
    r.add_argument("--bank", help="folder to find the recorded styles' checkpoints in (default: recorded paths)")
    add_device(r, default="cpu")
    r.add_argument("--print", action="store_true", help="print the regenerated text")
    r.add_argument("--passage", type=tick_span, metavar="START:END",
                   help="regenerate only ticks START..END-1 (a kept passage: see `anthology`) and print its text")
    r.set_defaults(func=cmd_replay)

    x = sub.add_parser("export", help="write a performance record's text (txt, or md with the mixture per paragraph)")
    x.add_argument("record")
    x.add_argument("--format", choices=["txt", "md"], default="txt")
    x.add_argument("--out", help="output file (default: standard output)")
    x.set_defaults(func=cmd_export)
