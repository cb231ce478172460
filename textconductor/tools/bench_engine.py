"""`textconductor bench engine`: the figures that say whether stepping is ever why a char is late.

Everything is measured side by side in one run (these machines are shared and noisy):
batched bank vs a naive loop over each style's own nn.LSTM; the step time vs the time to read
the active styles' weights once at the machine's measured copy bandwidth; the sustained
unthrottled rate while a subscriber receives every tick; and the latency from an OSC weight
message to the first character generated under the new weights.
"""

from __future__ import annotations

import logging
import os
import platform
import socket
import threading
import time

import numpy as np
import torch

from textconductor.engine import mixer
from textconductor.engine.bank import Bank
from textconductor.engine.conductor import Conductor
from textconductor.engine.root import StyleSource, open_bank
from textconductor.engine.sampler import Sampler
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol import OUT_TICK, Tick, message, unpack_messages
from textconductor.protocol.charset import CHARS
from textconductor.protocol.defaults import DEFAULT_MIX, DEFAULT_TEMPERATURE, RESYNC_CHARS
from textconductor.tools.soak import all_active_engine

log = logging.getLogger(__name__)


def _random_bank(n: int, hidden: int = CharLSTMConfig.hidden) -> tuple[list[CharLSTM], list[str]]:
    torch.manual_seed(0)
    return [CharLSTM(CharLSTMConfig(hidden=hidden)).eval() for _ in range(n)], [f"random{i}" for i in range(n)]


def size_table(n: int, hiddens: list[int], ticks: int, threads: int = 1, rounds: int = 3) -> str:
    """Step time of `n` active random styles at each width, measured in alternating rounds (so a
    noisy neighbour slows every width alike), with what the bank would weigh on disk as fp16: the
    figures that decide whether a wider style pays for itself at 24 active."""
    torch.set_num_threads(max(1, threads))
    banks = {h: Bank(_random_bank(n, h)[0]) for h in hiddens}
    times: dict[int, list[float]] = {h: [] for h in hiddens}
    for _ in range(rounds):
        for h in hiddens:
            times[h] += time_batched(banks[h], list(range(n)), ticks)
    first = float(np.median(times[hiddens[0]]))
    lines = [f"# bench engine --sizes: {n} active random styles, {torch.get_num_threads()} torch thread(s), "
             f"{rounds} alternating rounds of {ticks} ticks",
             "", "| layers x hidden | params/style | bank on disk, fp16 MB | step median ms | p99 ms "
             "| chars/s ceiling | step / first |", "|---|---:|---:|---:|---:|---:|---:|"]
    for h in hiddens:
        params = banks[h].models[0].num_params()
        med, p99 = _percentiles(times[h])
        lines.append(f"| {banks[h].layers}x{h} | {params / 1e6:.2f} M | {n * params * 2 / 1e6:.1f} | {med:.2f} "
                     f"| {p99:.2f} | {1e3 / med:.0f} | {med / 1e3 / first:.2f}x |")
    return "\n".join(lines)


def _percentiles(xs: list[float]) -> tuple[float, float]:
    a = np.array(xs) * 1e3
    return float(np.median(a)), float(np.percentile(a, 99))


def copy_bandwidth(mb: int = 256, repeats: int = 5) -> float:
    """Bytes/s moved by a large array copy (read + write), best of a few: the machine's bound."""
    src = np.ones(mb * (1 << 20) // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2 * src.nbytes / best


def time_batched(bank: Bank, active: list[int], ticks: int) -> list[float]:
    """Step + mix + sample, the engine's real per-tick work (without the resync of activation)."""
    bank.set_active(active)
    w = np.full(len(active), 1.0 / len(active))
    sampler, ch, out = Sampler(0), "\n", []
    for _ in range(ticks + 10):
        t0 = time.perf_counter()
        logps = bank.step(ch).numpy().astype(np.float64)
        ch = CHARS[sampler.draw(mixer.mix(logps, w, DEFAULT_MIX, DEFAULT_TEMPERATURE))]
        out.append(time.perf_counter() - t0)
    return out[10:]


@torch.inference_mode()
def time_naive(models: list[CharLSTM], active: list[int], ticks: int) -> list[float]:
    """The same work as a Python loop over each style's own nn.LSTM."""
    states = {s: None for s in active}
    w = np.full(len(active), 1.0 / len(active))
    sampler, ch, out = Sampler(0), "\n", []
    for _ in range(ticks + 10):
        t0 = time.perf_counter()
        rows = []
        for s in active:
            logits, states[s] = models[s].step(ch, states[s])
            rows.append(torch.log_softmax(logits, -1))
        logps = torch.stack(rows).numpy().astype(np.float64)
        ch = CHARS[sampler.draw(mixer.mix(logps, w, DEFAULT_MIX, DEFAULT_TEMPERATURE))]
        out.append(time.perf_counter() - t0)
    return out[10:]


def time_resync(bank: Bank, style: int, chars: int, repeats: int = 20) -> float:
    text = ("In the beginning God created the heaven and the earth. " * 4)[:chars]
    bank.set_active([style])
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        bank.feed(style, text)
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1e3)


def _tick_in(data: bytes) -> Tick | None:
    """The tick in a datagram the engine published, or None: decoded by the protocol's own walker,
    so the benchmark reads the wire exactly as the window and the controllers do."""
    for m in unpack_messages(data):
        if m.address == OUT_TICK:
            return Tick.decode(m.args)
    return None


def sustained_and_latency(bank: Bank, names: list[str], seconds: float) -> tuple[float, float, float, int]:
    """Unthrottled engine with every style active, publishing to a real UDP subscriber.

    Returns (chars/s produced, chars/s received, median weight-change latency ms, latency samples).
    """
    n = len(names)
    conductor = Conductor(bank, names, seed=0)
    engine, sub = all_active_engine(conductor)
    sock = engine.sock
    runner = threading.Thread(target=engine.run, daemon=True)
    received, produced0 = 0, conductor.tick_index
    t0 = time.monotonic()
    runner.start()
    while time.monotonic() - t0 < seconds:
        try:
            data = sub.recv(1 << 16)
        except TimeoutError:
            continue
        received += data.startswith(b"/tc/tick")
    elapsed = time.monotonic() - t0
    produced = conductor.tick_index - produced0
    # Latency: flip the weight of style 0 between two values; time until a tick shows it.
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lat = []
    for k in range(40):
        target = 1.0 if k % 2 else 0.25
        weights = [target] + [1.0] * (n - 1)
        expect = target / sum(weights)
        t_send = time.perf_counter()
        ctl.sendto(message("/tc/weights", *map(float, weights)), sock.address)
        deadline = t_send + 2.0
        while time.perf_counter() < deadline:
            try:
                data = sub.recv(1 << 16)
            except TimeoutError:
                continue
            tick = _tick_in(data)
            if tick is not None and abs(float(tick.weights[0]) - expect) < 1e-4:
                lat.append(time.perf_counter() - t_send)
                break
    engine.stop()
    runner.join(2)
    sock.close()
    sub.close()
    ctl.close()
    return produced / elapsed, received / elapsed, float(np.median(lat) * 1e3) if lat else float("nan"), len(lat)


def timing_bank(source: StyleSource | None = None, device: str = "cpu", threads: int = 1,
                random: int | None = None) -> tuple[Bank, list[str], str]:
    """The bank a benchmark or soak runs on, and a line saying what it is: `random` untrained
    2x256 styles (timing only, no checkpoints needed), else the styles `source` names."""
    torch.set_num_threads(max(1, threads))
    if random:
        models, names = _random_bank(random)
        return Bank(models), names, f"{random} randomly initialised 2x256 styles (timing only)"
    bank, names = open_bank(source, device, threads)
    return bank, names, f"{len(names)} trained styles"


def run_bench(source: StyleSource | None = None, device: str = "cpu", threads: int = 1, random: int | None = None,
              ticks: int = 300, seconds: float = 5.0) -> str:
    """The whole `bench engine` report as markdown: per-tick timings for 1/8/24 active styles (and
    all), then re-sync, sustained rate and OSC latency with `seconds` of unthrottled running."""
    bank, names, what = timing_bank(source, device, threads, random)
    models = bank.models
    n = len(names)
    sizes = sorted({s for s in (1, 8, 24) if s <= n} | {n})
    bw = copy_bandwidth()
    lines = [
        f"# bench engine: {what}, {bank.layers}x{bank.hidden}, fp32, device {bank.device}, "
        f"{torch.get_num_threads()} torch thread(s)",
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"measured copy bandwidth {bw / 1e9:.1f} GB/s (256 MB array copy, read + write)",
        "",
        "| active | batched median ms | batched p99 ms | naive median ms | naive p99 ms | naive / batched "
        "| weights read MB | bandwidth bound ms | batched / bound |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for a_n in sizes:
        active = list(range(a_n))
        bm, b99 = _percentiles(time_batched(bank, active, ticks))
        nm, n99 = _percentiles(time_naive(models, active, max(ticks // 3, 50)))
        nbytes = bank.weight_bytes(a_n)
        bound = nbytes / bw * 1e3
        lines.append(f"| {a_n} | {bm:.2f} | {b99:.2f} | {nm:.2f} | {n99:.2f} | {nm / bm:.1f}x "
                     f"| {nbytes / 1e6:.1f} | {bound:.2f} | {bm / bound:.2f}x |")
    rs = time_resync(bank, 0, RESYNC_CHARS - 1)  # the conductor feeds the history before the last char
    produced, received, lat, nlat = sustained_and_latency(bank, names, seconds)
    lines += [
        "",
        f"re-sync of one newly active style on {RESYNC_CHARS} chars of history: {rs:.2f} ms (median)",
        f"sustained, unthrottled, all {n} active, publishing every tick to a UDP subscriber: "
        f"{produced:.0f} chars/s generated, {received:.0f} ticks/s received",
        f"OSC weight change -> first character under the new weights (loopback, unthrottled): "
        f"{lat:.2f} ms median over {nlat} changes",
    ]
    return "\n".join(lines)
