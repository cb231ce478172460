"""Pretend to be a TouchOSC XY pad: circle the puck slowly through the osc-bridge.

    textconductor engine &
    textconductor osc-bridge &             # listens on 127.0.0.1:57140
    python examples/xy_pad.py              # sends /puck x y (0..1, like TouchOSC)

Useful to check a bridge setup before the tablet is on the network.
"""

from __future__ import annotations

import argparse
import math
import time

from pythonosc.udp_client import SimpleUDPClient


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bridge", default="127.0.0.1:57140", help="HOST:PORT of the osc-bridge")
    p.add_argument("--period", type=float, default=30.0, help="seconds per turn")
    p.add_argument("--radius", type=float, default=0.45, help="0..0.5 in pad units (0.5 = the rim)")
    p.add_argument("--seconds", type=float, default=math.inf, help="stop after this long (default: never)")
    args = p.parse_args(argv)
    host, _, port = args.bridge.rpartition(":")
    pad = SimpleUDPClient(host or "127.0.0.1", int(port))
    start = time.monotonic()
    while (t := time.monotonic() - start) < args.seconds:
        a = 2 * math.pi * t / args.period
        pad.send_message("/puck", [0.5 + args.radius * math.sin(a), 0.5 + args.radius * math.cos(a)])
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
