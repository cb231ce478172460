"""`textconductor bench hotload`: /tc/load into a running engine, measured from outside and inside.

The engine runs in-process on its own thread with the bundled bank, every style at equal weight and
threshold 0 (so `active` styles are really stepped), at a set rate. A styles folder holds copies
of a bank style under new names; each load is sent over UDP as `/tc/load NAME 1` (the new style
comes in at once, at the same raw weight as the others). Measured per load, side by side with a
stretch of the same run without loading:

- request -> joined: from the command's arrival to the style swapped into the bank (the loader
  thread reads and stacks it meanwhile);
- send -> first mixed character: from sending the datagram to the first `/tc/tick` whose active
  styles include the new one, as a subscriber receives it;
- the tick gaps: the intervals between two ticks (p99, max, and how many came over 1/rate + 50 ms)
  in the second after each load, against the second after a style of the bank comes in by
  weight (the same re-synchronisation, no load) and a stretch with neither; and whether any
  tick was dropped (ticks counted against rate x time).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from textconductor.protocol import MAX_PACKET, OUT_TICK, Message, Tick, message, unpack


def _copy_style(src: Path, folder: Path, name: str) -> None:
    from textconductor.model.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
    model, meta = load_checkpoint(src)
    save_checkpoint(folder / f"{name}.safetensors", model,
                    CheckpointMeta(**{**meta.__dict__, "name": name, "display_name": name}))


def _first_tick_with(sock: socket.socket, style: int, deadline: float) -> float | None:
    while time.monotonic() < deadline:
        try:
            data = sock.recv(MAX_PACKET)
        except TimeoutError:
            continue
        for m in unpack(data):
            if isinstance(m, Message) and m.address == OUT_TICK and style in Tick.decode(m.args).active:
                return time.monotonic()
    return None


def run(active: int = 24, rate: float = 100.0, loads: int = 5, source_style: str | None = None) -> str:
    import torch

    from textconductor.engine.conductor import Conductor
    from textconductor.engine.loader import bank_files, load_bank
    from textconductor.engine.runner import Engine
    from textconductor.engine.server import EngineSocket
    from textconductor.protocol import Params
    torch.set_num_threads(1)
    files = bank_files()
    bank, names = load_bank(files[:active])
    src = next((f for f in files if f.stem == source_style), files[0])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        new = [f"house-{k}" for k in range(loads)]
        for name in new:
            _copy_style(src, folder, name)
        c = Conductor(bank, names, seed=1, params=Params(rate=rate, threshold=0.0))
        c.raw[:] = 1.0
        c._update_weights()
        sub = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sub.bind(("127.0.0.1", 0))
        sub.settimeout(0.2)
        eng = Engine(c, EngineSocket("127.0.0.1", 0), [sub.getsockname()], styles_dir=folder)
        eng.sock.start()
        th = threading.Thread(target=eng.run, daemon=True)
        th.start()
        ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            time.sleep(3.0)  # settle: every style active and re-synchronised
            base_t0 = time.monotonic()
            time.sleep(2.0 * loads)
            base_t1 = time.monotonic()
            first_mixed, windows = [], []
            for name in new:
                k = len(c.names)
                t0 = time.monotonic()
                ctl.sendto(message("/tc/load", name, 1.0), eng.sock.address)
                t1 = _first_tick_with(sub, k, t0 + 10.0)
                first_mixed.append(np.nan if t1 is None else t1 - t0)
                time.sleep(1.0)
                windows.append((t0, time.monotonic()))
                time.sleep(1.0)
            comes_in = []  # the same cost without a load: a style of the bank comes in by weight
            for _ in new:
                ctl.sendto(message("/tc/weight", 0, 0.0), eng.sock.address)
                time.sleep(1.0)
                t0 = time.monotonic()
                ctl.sendto(message("/tc/weight", 0, 1.0), eng.sock.address)
                time.sleep(1.0)
                comes_in.append((t0, time.monotonic()))
        finally:
            eng.stop()
            th.join(10)
            eng.close()
            ctl.close()
            sub.close()
    ticks = np.array(eng.stats.tick_times)

    def gaps(a: float, b: float) -> tuple[np.ndarray, int, int]:
        t = ticks[(ticks >= a) & (ticks <= b)]
        return np.diff(t), len(t), int(round((b - a) * rate))

    g_base, n_base, want_base = gaps(base_t0, base_t1)
    per_load = [gaps(a, b) for a, b in windows]
    g_load = np.concatenate([g for g, _, _ in per_load])
    per_in = [gaps(a, b) for a, b in comes_in]
    g_in = np.concatenate([g for g, _, _ in per_in])
    n_in, want_in = sum(n for _, n, _ in per_in), sum(w for _, _, w in per_in)
    n_load, want_load = sum(n for _, n, _ in per_load), sum(w for _, _, w in per_load)
    late = 1.0 / rate + 0.050  # a tick more than 50 ms after its due time
    joined = [s for _, s, _, _ in eng.hotload.loaded]
    swap_ms = [j * 1e3 for _, _, _, j in eng.hotload.loaded]
    steps = np.array(eng.stats.step_s) * 1e3
    fm = np.array(first_mixed)
    rows = [
        f"# bench hotload: {active} active styles (+1 per load), {rate:g} chars/s (tick every {1e3 / rate:.1f} ms), "
        f"{loads} loads of a 2x{bank.hidden} style, 1 torch thread",
        "| measure | while loading | a style comes in by weight | neither |",
        "|---|---:|---:|---:|",
        f"| /tc/load -> style joined the bank, median / max (ms) | {np.median(joined) * 1e3:.0f} / "
        f"{max(joined) * 1e3:.0f} | | |",
        f"| send -> first character mixed from it, median / max (ms) | {np.nanmedian(fm) * 1e3:.0f} / "
        f"{np.nanmax(fm) * 1e3:.0f} | | |",
        f"| the swap into the bank on the tick thread, median / max (ms) | {np.median(swap_ms):.2f} / "
        f"{max(swap_ms):.2f} | | |",
        "| gap between two ticks, p99 / max (ms) | "
        + " | ".join(f"{np.percentile(g, 99) * 1e3:.1f} / {g.max() * 1e3:.1f}" for g in (g_load, g_in, g_base)) + " |",
        "| gaps over 1/rate + 50 ms | " + " | ".join(f"{(g > late).sum()} of {len(g)}" for g in (g_load, g_in, g_base))
        + " |",
        f"| ticks produced / due at the rate | {n_load} / {want_load} | {n_in} / {want_in} | {n_base} / {want_base} |",
        f"| step time at the end, median (ms; {len(c.bank.active)} active) | {np.median(steps[-200:]):.2f} | | |",
    ]
    if len(joined) < loads or np.isnan(fm).any():
        rows.append(f"\n{loads - len(joined)} load(s) never joined; rejected: {eng.sock.rejected.snapshot()}")
    return "\n".join(rows)
