"""`textconductor bench audience`: the room's cost to the performance, measured side by side in one run.

Three processes on loopback, as at a venue: this one runs the engine (the bundled bank, its tick loop
on a thread, 8 styles active) and times it; `textconductor audience` is the server (its CPU and RSS
read from /proc); a third process plays N phones (`sim_phones`: lean websocket clients, each moving
its puck at 20 Hz, at nice 10: at a venue the phones' CPUs are not the laptop's). The phones sit in
the snap circles of the same 8 styles the performer's weights hold in the run without an audience,
so both runs step the same 8 styles and only the room's load differs.

Latency: one more phone, in this process, jumps between two of those styles every 250 ms. Inside a
snap circle a puck's weights are exact, so the crowd's weight on the first style says where the probe
is; the engine's conductor is wrapped to note when each `/tc/crowd` is applied. Move -> weights at
the engine is the time from the probe's send to the first applied crowd that shows it.

`--fuzz`: 10,000 hostile requests and frames at the server (wrong room codes, bad JSON, NaN, out of
range, binary and huge frames, floods, primes that are not allowed) while the engine plays: every one
counted by reason on the server, none fatal, and the longest gap between characters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from textconductor.tools.sim_phones import SEND_HZ

log = logging.getLogger(__name__)

PROBE_EVERY_S = 0.25
ACTIVE = 8
PHONES_NICE = 0  # the simulated phones compete with the engine as equals: a worse case than a venue


# -- /proc ---------------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- the engine, in this process ------------------------------------------------------------------

@dataclass
class CrowdTap:
    """Notes (time, crowd weight of style `watch`) each time the conductor applies `/tc/crowd`."""

    watch: int
    seen: list[tuple[float, float]] = field(default_factory=list)

    def wrap(self, conductor) -> None:
        apply = conductor.apply

        def tapped(cmd):
            apply(cmd)
            if cmd.name == "crowd":
                self.seen.append((time.monotonic(), float(cmd.args[self.watch])))
        conductor.apply = tapped


def start_engine(rate: float, active: list[int], port: int):
    from textconductor.engine.root import Live, Settings, StyleSource, build_conductor, open_bank, start_engine
    bank, names = open_bank(StyleSource(), "cpu", threads=1)
    conductor = build_conductor(bank, names, Settings(rate=rate, seed=5))
    engine = start_engine(conductor, Live(port=port))
    engine.sock.start()
    thread = threading.Thread(target=engine.run, name="engine", daemon=True)
    thread.start()
    return engine, thread, names


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_window(engine, seconds: float) -> dict:
    """The engine's achieved rate, step times and longest gap between characters over `seconds`."""
    stats = engine.stats
    t0, k0 = time.monotonic(), engine.conductor.tick_index
    stats.step_s.clear()
    time.sleep(seconds)
    ticks = engine.conductor.tick_index - k0
    steps = np.array(stats.step_s) * 1e3
    times = np.array([t for t in stats.tick_times if t >= t0])
    gaps = np.diff(times) * 1e3 if len(times) > 1 else np.zeros(1)
    return {"rate": ticks / (time.monotonic() - t0), "step_ms": float(np.median(steps)) if len(steps) else 0.0,
            "step_p95_ms": float(np.percentile(steps, 95)) if len(steps) else 0.0,
            "max_gap_ms": float(gaps.max()), "active": len(engine.conductor.bank.active)}


def start_server(engine_port: int, max_phones: int, extra: list[str] = ()) -> tuple[subprocess.Popen, str]:
    web = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", "audience", "--listen", f"127.0.0.1:{web}",
                             "--engine", f"127.0.0.1:{engine_port}", "--room", "benchrqqm",
                             "--max-phones", str(max_phones), "--no-terminal-qr", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "phones join at" not in line:
        raise RuntimeError(f"the audience server did not start: {line}{proc.stderr.read()}")
    return proc, line.split("join at ")[1].split()[0]


def stop_server(proc: subprocess.Popen) -> dict:
    """SIGINT, and the counters it logs on the way out."""
    import signal
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    for line in err.splitlines():
        if "audience counters: " in line:
            return json.loads(line.split("audience counters: ", 1)[1])
    return {}


async def _probe(url: str, spots: list[tuple[float, float]], seconds: float, sends: list[tuple[float, int]]) -> None:
    """The latency phone: jumps between `spots` every PROBE_EVERY_S; notes (time, spot index) of each send."""
    import aiohttp
    async with aiohttp.ClientSession() as http, http.ws_connect(url + "ws") as ws:
        async def drain() -> None:
            async for _ in ws:
                pass
        reader = asyncio.create_task(drain())
        end = time.monotonic() + seconds
        k = 0
        while time.monotonic() < end:
            k ^= 1
            x, y = spots[k]
            sends.append((time.monotonic(), k))
            await ws.send_str(json.dumps({"t": "move", "x": x, "y": y}))
            for _ in range(int(PROBE_EVERY_S * SEND_HZ)):  # a phone keeps sending while it holds still
                await asyncio.sleep(1.0 / SEND_HZ)
                await ws.send_str(json.dumps({"t": "move", "x": x, "y": y}))
        reader.cancel()


def latencies(sends: list[tuple[float, int]], seen: list[tuple[float, float]]) -> np.ndarray:
    """ms from each probe jump to the first applied crowd that shows it: the watched style's weight goes
    up when the probe comes to it (k == 0) and down when it leaves (k == 1); the rest of the room holds
    still inside its snap circles, so nothing else moves that weight."""
    out = []
    for t, k in sends:
        before = [v for ts, v in seen if ts < t]
        if not before:
            continue
        hit = next((ts for ts, v in seen if ts >= t and (v > before[-1] if k == 0 else v < before[-1])), None)
        if hit is not None and hit - t < 2.0:
            out.append((hit - t) * 1e3)
    return np.array(out)


def run_room(engine, names: list[str], active: list[int], phones: int, seconds: float) -> dict:
    from textconductor.protocol.puck_geometry import style_positions
    from textconductor.protocol.wire import message
    port = engine.sock.address[1]
    server, url = start_server(port, max_phones=phones + 50)
    tap = CrowdTap(active[0])
    tap.wrap(engine.conductor)
    send = engine.sock.sock
    send.sendto(message("/tc/crowd_mode", "crowd"), ("127.0.0.1", port))
    warm = 4.0 + phones / 100
    # The phones are someone else's CPUs at a venue: here they run below the engine and the server (nice).
    proc = subprocess.Popen(["nice", "-n", str(PHONES_NICE), sys.executable, "-m", "textconductor.tools.sim_phones",
                             url, str(phones), str(seconds + warm + 2), str(len(names)), ",".join(map(str, active))],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(warm)  # every phone connected and playing
    pos = style_positions(len(names))
    spots = [tuple(map(float, pos[active[0]])), tuple(map(float, pos[active[1]]))]
    sends: list[tuple[float, int]] = []
    cpu0, w0 = cpu_seconds(server.pid), time.monotonic()
    probe = threading.Thread(target=lambda: asyncio.run(_probe(url, spots, seconds, sends)), daemon=True)
    probe.start()
    eng = engine_window(engine, seconds)
    cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - w0)
    rss = rss_mb(server.pid)
    probe.join(10)
    try:
        out = proc.communicate(timeout=120)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        out = proc.communicate()[0]
    counters = stop_server(server)
    send.sendto(message("/tc/crowd_mode", "off"), ("127.0.0.1", port))
    engine.conductor.apply = type(engine.conductor).apply.__get__(engine.conductor)
    lat = latencies(sends, tap.seen)
    sim = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    return {"phones": phones, **eng, "latency_p50_ms": float(np.median(lat)) if len(lat) else math.nan,
            "latency_p95_ms": float(np.percentile(lat, 95)) if len(lat) else math.nan, "latency_n": len(lat),
            "jumps": len(sends), "server_cpu": cpu, "server_rss_mb": rss, "sent": sim.get("sent", 0),
            "moves_per_s": sim.get("sent", 0) / max(sim.get("seconds", 1.0), 1e-9),
            "phone_errors": sim.get("errors", 0), "connected": counters.get("accepted", {}).get("connections", 0),
            "rejected": counters.get("rejected", {})}


def bench_audience(counts: list[int], seconds: float, rate: float) -> list[dict]:
    engine, thread, names = start_engine(rate, [], free_port())
    active = [round(k * len(names) / ACTIVE) for k in range(ACTIVE)]
    raw = tuple(1.0 if i in active else 0.0 for i in range(len(names)))
    from textconductor.protocol import Command
    engine.sock.commands.put(Command("weights", raw))
    time.sleep(3)  # settled: the 8 styles re-synchronised
    rows = []
    try:
        for phones in counts:
            base = engine_window(engine, seconds)
            rows.append({"phones": 0, **base})
            rows.append(run_room(engine, names, active, phones, seconds))
            log.info("%d phones: %s", phones, rows[-1])
    finally:
        engine.stop()
        thread.join(5)
        engine.close()
    return rows


def report(rows: list[dict], rate: float) -> str:
    lines = [f"engine at {rate:g} chars/s, {ACTIVE} styles active; each phone moves at {SEND_HZ:g} Hz; "
             "no audience measured just before each room",
             "| phones | rate (chars/s) | step median / p95 (ms) | longest gap (ms) | move -> engine p50 / p95 (ms) "
             "| server CPU | server RSS (MB) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["phones"] == 0:
            lines.append(f"| none | {r['rate']:.1f} | {r['step_ms']:.2f} / {r['step_p95_ms']:.2f} | "
                         f"{r['max_gap_ms']:.0f} | | | |")
        else:
            lines.append(f"| {r['phones']} | {r['rate']:.1f} | {r['step_ms']:.2f} / {r['step_p95_ms']:.2f} | "
                         f"{r['max_gap_ms']:.0f} | {r['latency_p50_ms']:.1f} / {r['latency_p95_ms']:.1f} "
                         f"(n={r['latency_n']}) | {100 * r['server_cpu']:.0f}% | {r['server_rss_mb']:.0f} |")
    for r in rows:
        if r["phones"]:
            lines.append(f"{r['phones']} phones: {r['connected']} connected, {r['sent']} moves sent "
                         f"({r['moves_per_s']:.0f}/s of {r['phones'] * SEND_HZ:.0f}/s asked), "
                         f"{r['phone_errors']} phone errors, server rejected {r['rejected'] or 'nothing'}")
    return "\n".join(lines)


