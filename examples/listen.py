"""Print the text an engine writes, with the style that contributed most to each character.

    textconductor engine &
    python examples/listen.py             # subscribes on port 57131 and prints ticks

Subscribes with `/tc/subscribe PORT` and decodes `/tc/tick` (docs/osc.md): the character, and
`attribution`, each style's share of the chosen character. `--why` prints one line per character
with the leading style; without it the text streams as written.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
import time

from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.udp_client import SimpleUDPClient


def messages(data: bytes):
    if OscBundle.dgram_is_bundle(data):
        for item in OscBundle(data):
            yield from messages(item.dgram)
    elif OscMessage.dgram_is_message(data):
        yield OscMessage(data)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", default="127.0.0.1:57130", help="HOST:PORT of the engine")
    p.add_argument("--port", type=int, default=57131, help="local port for the engine's output (0 = any)")
    p.add_argument("--why", action="store_true", help="one line per character: char, leading style, its share")
    p.add_argument("--chars", type=int, default=0, help="stop after this many characters (0 = never)")
    p.add_argument("--timeout", type=float, default=0, help="give up after this many silent seconds (0 = never)")
    args = p.parse_args(argv)
    host, _, port = args.engine.rpartition(":")
    host = host or "127.0.0.1"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(1.0)
    engine = SimpleUDPClient(host, int(port))
    engine.send_message("/tc/subscribe", sock.getsockname()[1])
    names: list[str] = []
    n, last = 0, time.monotonic()
    try:
        while not args.chars or n < args.chars:
            try:
                data = sock.recv(1 << 16)
            except TimeoutError:
                if args.timeout and time.monotonic() - last > args.timeout:
                    print("no ticks from the engine", file=sys.stderr)
                    return 1
                engine.send_message("/tc/subscribe", sock.getsockname()[1])  # engine restarted? ask again
                continue
            last = time.monotonic()
            for m in messages(data):
                if m.address == "/tc/hello":
                    names = [s for s in str(m.params[0]).split(",") if s]
                elif m.address == "/tc/tick":
                    char, attribution = m.params[1], m.params[2]
                    shares = struct.unpack(f"<{len(attribution) // 4}f", attribution)
                    n += 1
                    if args.why:
                        best = max(range(len(shares)), key=shares.__getitem__) if shares else -1
                        who = names[best] if 0 <= best < len(names) else f"#{best}"
                        print(f"{char!r:6} {who:14} {shares[best] if shares else 0:.2f}", flush=True)
                    else:
                        sys.stdout.write(char)
                        sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        engine.send_message("/tc/unsubscribe", sock.getsockname()[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
