"""Circle the puck slowly around the styles: a whole controller, written on the protocol client.

    textconductor engine &
    python examples/xy_pad.py              # one turn every 30 s

`EngineConnection` learns the styles from the engine and sends the weights the on-screen puck
would give for (x, y); a new controller needs no more than this file (docs/osc.md).
"""

import argparse
import math
import time

from textconductor.protocol import EngineConnection, parse_address


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", default="127.0.0.1:57130", help="HOST:PORT of the engine")
    p.add_argument("--period", type=float, default=30.0, help="seconds per turn")
    p.add_argument("--radius", type=float, default=0.9, help="0..1 (1 = the circle the styles sit on)")
    p.add_argument("--seconds", type=float, default=math.inf, help="stop after this long (default: never)")
    args = p.parse_args(argv)
    engine = EngineConnection(*parse_address(args.engine, what="engine address"))
    try:
        if not engine.wait_for_engine(10):
            p.exit(1, f"no engine answers at {args.engine}\n")
        start = time.monotonic()
        while (t := time.monotonic() - start) < args.seconds:
            engine.set_puck(args.radius * math.sin(2 * math.pi * t / args.period),
                            args.radius * math.cos(2 * math.pi * t / args.period))
            time.sleep(0.05)
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
