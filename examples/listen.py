"""Print the text an engine writes, with the style that contributed most to each character.

    textconductor engine &
    python examples/listen.py             # subscribes on port 57131 and prints ticks

Subscribes with `/tc/subscribe PORT` through the protocol's engine client, which keeps the
subscription alive and decodes `/tc/tick` (docs/osc.md): the character, and `attribution`, each
style's share of the chosen character. `--why` prints one line per character with the leading
style; without it the text streams as written.
"""

from __future__ import annotations

import argparse
import queue
import sys
import time

from textconductor.protocol import EngineConnection, Tick, parse_address


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", default="127.0.0.1:57130", help="HOST:PORT of the engine")
    p.add_argument("--port", type=int, default=57131, help="local port for the engine's output (0 = any)")
    p.add_argument("--why", action="store_true", help="one line per character: char, leading style, its share")
    p.add_argument("--chars", type=int, default=0, help="stop after this many characters (0 = never)")
    p.add_argument("--timeout", type=float, default=0, help="give up after this many silent seconds (0 = never)")
    args = p.parse_args(argv)
    try:
        host, port = parse_address(args.engine, what="engine address")
    except ValueError as e:
        p.error(str(e))
    ticks: queue.Queue[Tick] = queue.Queue()
    engine = EngineConnection(host, port, subscribe=True, listen_port=args.port,
                              on_message=lambda m: ticks.put(m) if isinstance(m, Tick) else None)
    n, last = 0, time.monotonic()
    try:
        while not args.chars or n < args.chars:
            try:
                tick = ticks.get(timeout=1.0)
            except queue.Empty:
                if args.timeout and time.monotonic() - last > args.timeout:
                    print("no ticks from the engine", file=sys.stderr)
                    return 1
                continue
            last = time.monotonic()
            n += 1
            if args.why:
                names, shares = engine.styles, tick.attribution
                best = int(shares.argmax()) if shares.size else -1
                who = names[best] if 0 <= best < len(names) else f"#{best}"
                print(f"{tick.char!r:6} {who:14} {shares[best] if shares.size else 0:.2f}", flush=True)
            else:
                sys.stdout.write(tick.char)
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()  # unsubscribes, so the engine stops sending here
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
