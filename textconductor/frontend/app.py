"""Starting the frontend: the `ui` window, the `screenshots` command and the `bench ui` benchmark.

Everything Qt is imported here (and in the widget modules), never by `commands.py`, so the CLI's
`--help` stays instant and nothing here can pull in torch.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor import protocol

log = logging.getLogger(__name__)


def ensure_qt_platform() -> None:
    """Qt aborts the process without a display; fall back to offscreen instead of dying."""
    if not os.environ.get("QT_QPA_PLATFORM") and not os.environ.get("DISPLAY") and not os.environ.get(
            "WAYLAND_DISPLAY") and sys.platform.startswith("linux"):
        log.warning("no DISPLAY: using the offscreen Qt platform (nothing will be visible)")
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def qapp():
    ensure_qt_platform()
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("textconductor")
    return app


def mode_of(fullscreen: bool, talk: bool) -> str:
    return "fullscreen" if fullscreen else "talk" if talk else "default"


def build_window(engine: str = f"{protocol.DEFAULT_HOST}:{protocol.DEFAULT_PORT}", listen_port: int = 0,
                 fullscreen: bool = False, talk: bool = False, presets_path: Path | None = None):
    """A MainWindow wired to an EngineLink (started), not yet shown."""
    qapp()
    from textconductor.frontend.link import EngineLink, parse_endpoint
    from textconductor.frontend.main_window import MainWindow
    from textconductor.frontend.presets import PresetStore
    from textconductor.frontend.theme import load_theme
    theme = load_theme(talk=talk or fullscreen)
    host, port = parse_endpoint(engine)
    lk = theme.link
    link = EngineLink(host, port, listen_port, offline_after=float(lk.get("offline_after_s", 2.5)),
                      resubscribe=float(lk.get("resubscribe_s", 1.0)),
                      resubscribe_online=float(lk.get("resubscribe_online_s", 5.0)))
    win = MainWindow(theme, link, mode_of(fullscreen, talk), PresetStore(presets_path), autostart=fullscreen)
    link.start()
    return win


def run_ui(engine: str, listen_port: int, fullscreen: bool, talk: bool, output_window: bool,
           midi: str | int | None = None, midi_on: bool = False, midi_api: str | None = None,
           autopilot: float | None = None, no_autopilot: bool = False, hands: bool = False, camera: int = 0) -> int:
    """The performer's window. `midi_on` plays it from MIDI port `midi` (None: the first real port);
    the autopilot runs after `autopilot` idle seconds (default: on in fullscreen only); `hands` tracks camera N."""
    from textconductor.errors import UserError
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort the process; an invisible offscreen window would be no better for a performer.
        raise UserError("no display: run it on a desktop, or set DISPLAY (e.g. Xvfb) or QT_QPA_PLATFORM")
    app = qapp()
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QCursor
    win = build_window(engine, listen_port, fullscreen, talk)
    log.info("listening for the engine on UDP port %d", win.link.listen_port)
    if fullscreen:
        win.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        app.setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
        win.showFullScreen()
    else:
        win.resize(1600, 950)
        win.show()
    if output_window:
        win.show_output_window(True)
    start_controllers(win, fullscreen, midi, midi_on, midi_api, autopilot, no_autopilot, hands, camera)
    _quit_on_signals(app)
    app.aboutToQuit.connect(win.controllers.shutdown)  # MIDI ports released, tracking threads ended
    app.aboutToQuit.connect(lambda: win.link.stop())  # unsubscribe, so the engine stops sending here
    return app.exec()


def start_controllers(win, fullscreen: bool, midi: str | int | None = None, midi_on: bool = False,  # noqa: ANN001
                      midi_api: str | None = None, autopilot: float | None = None, no_autopilot: bool = False,
                      hands: bool = False, camera: int = 0) -> None:
    """What `ui`'s controller flags ask for; a controller that cannot run here says so and the window runs."""
    from textconductor.frontend.controllers_menu import autopilot_idle
    hub = win.controllers
    hub.midi_api = midi_api
    if midi_on:
        hub.start_midi(midi)
    idle = autopilot_idle(autopilot, no_autopilot, fullscreen, hub.default_idle_s)
    if idle is not None:
        hub.set_autopilot(idle)
    if hands:
        hub.start_hands(camera)


def _quit_on_signals(app) -> None:  # noqa: ANN001
    """Ctrl+C / SIGTERM quit cleanly. Python runs signal handlers only when it gets control back,
    which Qt's C++ event loop never gives: a cheap timer hands it control a few times a second."""
    import signal

    from PySide6.QtCore import QTimer
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)


# ---------------------------------------------------------------------------------------------
# Synthetic ticks for the benchmark (the real widgets, fed the real message type)

def synthetic_tick(rng: np.random.Generator, i: int, n_styles: int, n_active: int) -> protocol.Tick:
    """A plausible tick: peaked distributions (Dirichlet with small alpha); the active set changes every
    two seconds (as when a performer brings a style in), not every tick."""
    from textconductor.protocol.charset import CHARS
    v = len(CHARS)
    sets = np.random.default_rng(i // 120)
    active = np.sort(sets.choice(n_styles, size=n_active, replace=False)).astype(np.int32)
    dists = rng.dirichlet(np.full(v, 0.08), size=n_active).astype(np.float32)
    w = np.zeros(n_styles, np.float32)
    w[active] = rng.dirichlet(np.ones(n_active))
    mixed = (w[active][:, None] * dists).sum(0)
    mixed /= mixed.sum()
    c = int(rng.choice(v, p=mixed))
    attr = np.zeros(n_styles, np.float32)
    share = w[active] * dists[:, c]
    attr[active] = share / share.sum()
    return protocol.Tick(i, CHARS[c], attr, mixed.astype(np.float32), active, dists, w)


@dataclass
class BenchResult:
    frames: int
    median_ms: float
    p99_ms: float
    max_ms: float
    paints_per_frame: float
    cpu_median_ms: float
    cpu_p99_ms: float

    def report(self) -> str:
        return (f"bench ui: {self.frames} frames at 60/s of 97 bars + small multiples + text, 1920x1080, every panel "
                f"visible: wall median {self.median_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms; "
                f"UI-thread CPU median {self.cpu_median_ms:.2f} ms, p99 {self.cpu_p99_ms:.2f} ms "
                f"({self.paints_per_frame:.1f} widget paints/frame)")


def bench_ui(seconds: float = 5.0, styles: int = 8, active: int = 4, rate: float = 60.0, talk: bool = False,
             seed: int = 0) -> BenchResult:
    """Frame time of the UI thread: decode + queue a tick, render it, and let Qt paint what changed.

    The window is 1920x1080 with every panel visible and is connected to nothing (it shows offline),
    so only the frontend is measured. Wall time is what the audience sees; on a shared, loaded machine
    it includes time the scheduler gave to other processes, so the UI thread's CPU time is reported too.
    One synthetic tick per frame is encoded to OSC bytes and decoded as the link would, then the real
    render path runs and `processEvents` performs the paints.
    """
    app = qapp()
    import tempfile

    from PySide6.QtCore import QEvent, QObject

    from textconductor.frontend.link import decode_outgoing
    win = build_window("127.0.0.1:9", 0, talk=talk, presets_path=Path(tempfile.mkdtemp()) / "presets.json")
    win._render_timer.stop()  # we drive frames ourselves
    win.link.stop(unsubscribe=False)
    names = [n for n in list(win.theme.styles_table)[:styles]]
    hello = protocol.Hello(names, np.ones(len(names), bool), np.zeros(len(names), np.float32), "")
    win.on_hello(hello)
    win.resize(1920, 1080)
    win.show()
    for _ in range(20):
        app.processEvents()

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, obj, ev):  # noqa: ANN001
            if ev.type() == QEvent.Type.Paint:
                PaintCounter.count += 1
            return False
    counter = PaintCounter()
    app.installEventFilter(counter)
    rng = np.random.default_rng(seed)
    frame_s = 1.0 / rate
    times: list[float] = []
    cpu: list[float] = []
    n_frames = max(10, int(seconds * rate))
    ticks = [synthetic_tick(rng, i, len(names), min(active, len(names))) for i in range(min(n_frames, 300))]
    packets = [t.encode() for t in ticks]
    next_t = time.perf_counter()
    for i in range(n_frames):
        t0, c0 = time.perf_counter(), time.thread_time()
        (addr, args), = decode_outgoing(packets[i % len(packets)])
        win.on_ticks([protocol.Tick.decode(args)])
        win.render_frame()
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        next_t += frame_s
        delay = next_t - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    app.removeEventFilter(counter)
    win.close()
    return BenchResult(len(times), float(statistics.median(times)), float(np.percentile(times, 99)), float(max(times)),
                       PaintCounter.count / len(times), float(statistics.median(cpu)), float(np.percentile(cpu, 99)))


def soak_ui(chars: int = 200_000, per_frame: int = 8, styles: int = 24, active: int = 6, report_every: int = 20_000,
            log_line=print) -> dict:
    """Feed the real window `chars` synthetic ticks as fast as it renders them; RSS must stay flat.

    A gallery runs for days: bounded scrollback and no per-tick growth anywhere are what keep it alive.
    """
    import tempfile

    from textconductor.frontend.link import decode_outgoing
    from textconductor.memory import rss_mb
    app = qapp()
    win = build_window("127.0.0.1:9", 0, presets_path=Path(tempfile.mkdtemp()) / "presets.json")
    win._render_timer.stop()
    win.link.stop(unsubscribe=False)
    names = list(win.theme.styles_table)[:styles]
    win.on_hello(protocol.Hello(names, np.ones(len(names), bool), np.zeros(len(names), np.float32), ""))
    win.resize(1920, 1080)
    win.show()
    rng = np.random.default_rng(0)
    packets = [synthetic_tick(rng, i, len(names), min(active, len(names))).encode() for i in range(600)]
    fed, rss = 0, []
    t0 = time.monotonic()
    start = None
    while fed < chars:
        batch = []
        for _ in range(per_frame):
            (_, args), = decode_outgoing(packets[fed % len(packets)])
            tick = protocol.Tick.decode(args)
            tick.tick = fed
            batch.append(tick)
            fed += 1
        win.on_ticks(batch)
        win.render_frame()
        app.processEvents()
        if start is None and fed >= 5_000:
            start = rss_mb()  # after warm-up: fonts, glyph caches, the first scrollback fill
        if fed % report_every < per_frame:
            rss.append(rss_mb())
            log_line(f"{fed:>9,} chars fed  RSS {rss[-1]:7.1f} MB  ({fed / (time.monotonic() - t0):.0f} chars/s)")
    end = rss_mb()
    win.close()
    return {"chars": fed, "rss_start_mb": start, "rss_end_mb": end, "rss_max_mb": max(rss or [end]),
            "seconds": time.monotonic() - t0}


# ---------------------------------------------------------------------------------------------
# Screenshots

def start_engine(checkpoints: list[str], port: int, seed: int = 1, rate: float = 30.0,
                 extra: list[str] | None = None) -> subprocess.Popen:
    """`textconductor engine` in a subprocess (the frontend process itself stays torch-free)."""
    cmd = [sys.executable, "-m", "textconductor", "engine", "--checkpoints", *checkpoints, "--port", str(port),
           "--seed", str(seed), "--rate", str(rate), *(extra or [])]
    log.info("starting engine: %s", " ".join(cmd[3:]))
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def free_udp_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pump_until(pred, timeout: float) -> bool:  # noqa: ANN001
    from PySide6.QtWidgets import QApplication
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if pred():
            return True
        time.sleep(0.005)
    return False


def take_screenshots(out_dir: Path, engine: str | None = None, checkpoints: list[str] | None = None,
                     chars: int = 600, weights: dict[str, float] | None = None, timeout: float = 120.0,
                     size: tuple[int, int] = (1920, 1080)) -> list[Path]:
    """PNGs of the main window (default, fullscreen, talk) and the output window, fed by a real engine.

    Either connects to a running engine (`engine` HOST:PORT) or starts one on `checkpoints`. Waits
    until `chars` characters have been generated so the text and bars show a real performance.
    """
    from textconductor.errors import UserError
    app = qapp()
    proc = None
    if engine is None:
        if not checkpoints:
            raise UserError("screenshots need a running engine (--engine) or checkpoints to start one")
        port = free_udp_port()
        proc = start_engine(checkpoints, port, rate=200.0)
        engine = f"127.0.0.1:{port}"
    out_dir.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    try:
        for name, kw in (("default", {}), ("talk", {"talk": True}), ("fullscreen", {"fullscreen": True})):
            win = build_window(engine, 0, presets_path=out_dir / ".presets-unused.json", **kw)
            win.resize(*size)
            win.show()
            if not _pump_until(lambda w=win: bool(w.names), timeout):
                raise UserError(f"no /tc/hello from the engine at {engine} within {timeout:g} s")
            if name == "default" and weights:
                win.set_weights(weights)
                win.control("reset")  # the text shows this mix alone, not what the engine wrote before
            start = win.ticks_received
            if not _pump_until(lambda w=win, s=start: w.ticks_received - s >= chars, timeout):
                raise UserError(f"the engine generated fewer than {chars} characters in {timeout:g} s")
            _pump_until(lambda: False, 0.3)
            path = out_dir / f"{name}.png"
            win.grab().save(str(path))
            shots.append(path)
            if name == "default":
                out = win.show_output_window(True)
                out.resize(*size)
                _pump_until(lambda: False, 0.3)
                path = out_dir / "output-window.png"
                out.grab().save(str(path))
                shots.append(path)
            win.close()
            app.processEvents()
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return shots
