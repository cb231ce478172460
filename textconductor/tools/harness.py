"""Running the instrument's parts as child processes on loopback, the one way every tool and test does:
a free port, the engine's command line, and stopping a child.

Why a module of its own: benchmarks, screenshot tools and the tests' fixtures all start a real
`textconductor engine` (or a JACK or X server) as a child on a free loopback port, and each must
leave nothing behind however the run ends. Standard library only, so importing it costs nothing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that was free when asked (another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_command(*args: object, checkpoints: Iterable[str | Path] = (), mdns: bool = False) -> list[str]:
    """The command line of `textconductor engine` in this interpreter, on `checkpoints` (none: the
    engine's default bank) with these further arguments (`"--port", port, ...`, made strings).

    Without `mdns=True` the engine announces nothing (`--no-mdns`): the engines that tests and
    benchmarks start have no one to be found by, and one started with `--listen 0.0.0.0` would
    otherwise announce itself by multicast on every interface of the machine.
    """
    paths = [str(p) for p in checkpoints]
    return [sys.executable, "-m", "textconductor", "engine", *(["--checkpoints", *paths] if paths else []),
            *map(str, args), *([] if mdns else ["--no-mdns"])]


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM, up to `timeout` s for it to exit, then SIGKILL (and reap it). A process that has
    already exited is only reaped."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
