"""`textconductor audience`: the web server that lets the room's phones pull the mix (docs/operations.md)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from textconductor.cli.args import positive_float, positive_int
from textconductor.errors import UserError
from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT

log = logging.getLogger(__name__)

DEFAULT_LISTEN = f"{DEFAULT_HOST}:8765"


def listen_address(text: str) -> tuple[str, int]:
    from textconductor.controllers.audience.room import DEFAULT_AUDIENCE_PORT
    from textconductor.protocol.address import parse_address
    try:
        return parse_address(text, default_port=DEFAULT_AUDIENCE_PORT, what="audience address")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def room_code(text: str) -> str:
    from textconductor.controllers.audience.room import ROOM_ALPHABET, valid_room_code
    if not valid_room_code(text):
        raise argparse.ArgumentTypeError(f"a room code is 4..64 of the characters {ROOM_ALPHABET}")
    return text


def cmd_audience(a: argparse.Namespace) -> int:
    import asyncio

    from textconductor.controllers.audience.room import new_room_code, room_url
    from textconductor.controllers.audience.server import AudienceServer, AudienceSettings, serve
    from textconductor.protocol import EngineConnection
    from textconductor.protocol.address import parse_address
    host, port = a.listen
    try:
        engine_host, engine_port = parse_address(a.engine, what="engine address")
    except ValueError as e:
        raise UserError(str(e)) from None
    settings = AudienceSettings(host=host, port=port, allow=tuple(a.allow or ()), room=a.room or new_room_code(),
                                max_phones=a.max_phones, stale_s=a.stale, allow_prime=a.allow_prime,
                                move_rate=a.rate_limit, move_burst=max(a.rate_limit * 4 / 3, 1.0),
                                crowd_hz=a.crowd_hz)
    engine = EngineConnection(engine_host, engine_port, subscribe=True)
    server = AudienceServer(settings, engine)
    engine.on_message = server.on_engine

    def ready(_base: str) -> None:
        url = room_url(host, port, server.room_code, a.url_host)
        print(f"audience: phones join at {url}  (room {server.room_code}; at most {settings.max_phones} phones)")
        if a.qr:
            _save_qr(url, a.qr)
            print(f"audience: QR code written to {a.qr}")
        if not a.no_terminal_qr:
            import segno
            segno.make(url, error="m").terminal(out=sys.stdout, compact=True)
        sys.stdout.flush()

    try:
        asyncio.run(serve(server, ready))
    finally:
        engine.close()
        log.info("audience counters: %s", json.dumps(server.counters()))
    return 0


def _save_qr(url: str, path: str) -> None:
    import segno
    try:
        segno.make(url, error="m").save(path, scale=12, border=4)
    except (OSError, ValueError) as e:
        raise UserError(f"cannot write the QR code to {path}: {e}") from None


def add_audience_options(p: argparse.ArgumentParser) -> None:
    """The options an operator sets for a venue (`play --audience` has its own `--audience-*` ones)."""
    p.add_argument("--allow", nargs="+", metavar="NET",
                   help="networks or hosts whose phones may join (required off loopback; e.g. 192.168.1.0/24, "
                        "or 0.0.0.0/0 for any: the room code still keeps strangers out)")
    p.add_argument("--max-phones", type=positive_int, default=300,
                   help="phones connected at once (default 300); a phone beyond it is told the room is full "
                        "and retries; the phones already in keep playing")
    p.add_argument("--allow-prime", action="store_true",
                   help="let phones write into the text (one line per phone every 10 s, through the blocklist)")
    p.add_argument("--url-host", metavar="HOST",
                   help="host name or address in the QR code (default: the listen address, or this machine's "
                        "LAN address when listening on 0.0.0.0)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audience", help="let the room's phones pull the mix (a web page and a QR code)",
                       description="A small web server: every phone that opens the room's URL (printed, and "
                                   "shown as a QR code) gets a puck over the styles; the mean of their pucks "
                                   "goes to the engine as /tc/crowd. How much the crowd counts is the "
                                   "performer's choice: /tc/crowd_mode or the window's crowd control. "
                                   "Setup at a venue: docs/operations.md.")
    p.add_argument("--listen", type=listen_address, default=listen_address(DEFAULT_LISTEN), metavar="HOST:PORT",
                   help=f"address to serve on (default {DEFAULT_LISTEN}: this machine only; 0.0.0.0:8765 for "
                        "the venue's network, with --allow)")
    p.add_argument("--engine", default=f"{DEFAULT_HOST}:{DEFAULT_PORT}", metavar="HOST:PORT",
                   help=f"the engine (default {DEFAULT_HOST}:{DEFAULT_PORT})")
    p.add_argument("--room", type=room_code, help="room code (default: a new random one each time)")
    add_audience_options(p)
    p.add_argument("--stale", type=positive_float, default=10.0,
                   help="seconds after which a silent phone stops counting (default 10)")
    p.add_argument("--rate-limit", type=positive_float, default=30.0,
                   help="messages a second each phone may send (default 30; the page sends 20)")
    p.add_argument("--crowd-hz", type=positive_float, default=30.0,
                   help="most /tc/crowd updates a second to the engine (default 30: a move is heard within "
                        "33 ms; each is a line of the performance record, ~0.5 KB)")
    p.add_argument("--qr", metavar="FILE", help="also write the QR code to FILE (.png or .svg) for printing")
    p.add_argument("--no-terminal-qr", action="store_true", help="do not draw the QR code in the terminal")
    p.set_defaults(func=cmd_audience)


def cmd_bench_audience(a: argparse.Namespace) -> int:
    from textconductor.tools import bench_audience as ba
    if a.fuzz:
        return run_fuzz(a)
    rows = ba.bench_audience(a.phones, a.seconds, a.rate)
    print(ba.report(rows, a.rate))
    return 0


def run_fuzz(a: argparse.Namespace) -> int:
    """The fuzz beside a playing engine: the server's counters must match what was sent."""
    import asyncio

    from textconductor.protocol import Command
    from textconductor.tools import bench_audience as ba
    from textconductor.tools.fuzz_audience import compare, fuzz
    engine, thread, names = ba.start_engine(a.rate, [], ba.free_port())
    engine.sock.commands.put(Command("weights", tuple(1.0 if i % 3 == 0 else 0.0 for i in range(len(names)))))
    try:
        server, url = ba.start_server(engine.sock.address[1], max_phones=50)
        engine.stats.tick_times.clear()
        t0 = ba.time.monotonic()
        want = asyncio.run(fuzz(url, a.fuzz))
        seconds = ba.time.monotonic() - t0
        alive = server.poll() is None
        counters = ba.stop_server(server)
        times = [t for t in engine.stats.tick_times if t >= t0]
        gap = max((b - x for x, b in zip(times, times[1:], strict=False)), default=0.0) * 1e3
    finally:
        engine.stop()
        thread.join(5)
        engine.close()
    ok, lines = compare(want, counters)
    print(f"fuzz: {want['sent']:,} hostile requests and frames in {seconds:.1f} s; server alive at the end: {alive}")
    print("\n".join(lines))
    print(f"engine at {a.rate:g} chars/s: {len(times)} characters meanwhile, longest gap {gap:.0f} ms "
          f"(one character is {1e3 / a.rate:.0f} ms)")
    print("counters match" if ok and alive else "COUNTERS DO NOT MATCH")
    return 0 if ok and alive else 1


def add_bench_parsers(bsub: argparse._SubParsersAction) -> None:
    """`bench audience` (cli/bench.py calls this while it builds `bench`)."""
    b = bsub.add_parser("audience", help="N simulated phones vs none: engine rate and step time, move -> engine "
                                         "latency, server CPU and RSS; --fuzz: hostile traffic, counters, pauses",
                        description="Three processes on loopback: the engine (bundled bank, 8 styles active) in "
                                    "this one, `textconductor audience`, and N phones (websocket clients at "
                                    "20 Hz). Each room size is measured right after a run with no audience.")
    b.add_argument("--phones", type=positive_int, nargs="+", default=[50, 200, 500], help="room sizes (50 200 500)")
    b.add_argument("--seconds", type=positive_float, default=10.0, help="measured seconds per run (default 10)")
    b.add_argument("--rate", type=positive_float, default=60.0, help="engine chars/s (default 60)")
    b.add_argument("--fuzz", type=positive_int, nargs="?", const=10_000, metavar="N",
                   help="instead: N hostile requests and frames (default 10,000)")
    b.set_defaults(func=cmd_bench_audience)
