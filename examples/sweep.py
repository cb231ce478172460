"""Crossfade two styles back and forth on a running engine, through the protocol's engine client.

    textconductor engine &                 # listens on 127.0.0.1:57130
    python examples/sweep.py bible linux   # bible -> linux -> bible ... every 20 s

Each step sets both weights by name (`/tc/weight NAME W` twice, in one bundle: docs/osc.md), so
the text turns from one style into the other mid-word.
"""

from __future__ import annotations

import argparse
import math
import time

from textconductor.protocol import EngineConnection, parse_address


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", help="first style name")
    p.add_argument("b", help="second style name")
    p.add_argument("--engine", default="127.0.0.1:57130", help="HOST:PORT of the engine")
    p.add_argument("--period", type=float, default=20.0, help="seconds for a -> b -> a")
    p.add_argument("--seconds", type=float, default=math.inf, help="stop after this long (default: never)")
    p.add_argument("--hz", type=float, default=20.0, help="updates per second")
    args = p.parse_args(argv)
    try:
        engine = EngineConnection(*parse_address(args.engine, what="engine address"), ping=False)
    except ValueError as e:
        p.error(str(e))
    start = time.monotonic()
    try:
        while (t := time.monotonic() - start) < args.seconds:
            mix = 0.5 - 0.5 * math.cos(2 * math.pi * t / args.period)  # 0 -> 1 -> 0, smooth at the ends
            engine.set_weights({args.a: 1.0 - mix, args.b: mix})
            time.sleep(1.0 / args.hz)
    except KeyboardInterrupt:
        pass
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
