"""`textconductor screenshots`: PNGs of the windows fed by a real engine, for the docs.

A tool on top of the frontend: it may start an engine subprocess (the frontend itself never does),
and it drives the window from outside until enough text has been generated.

Two ways to render. Offscreen (Qt's `offscreen` platform, the default without a display): each
window is resized to the shot's size and grabbed as a widget. On an X server (`--xvfb` starts a
private Xvfb of the shot's size and runs this tool again inside it): each window is shown as `ui`
shows it (`show_window`: sized to the screen by `screen_fit`, no window manager) and the shot is the
X server's screen, so it shows where the window really went, black where it did not reach (the
default window and the output window: their own part of the screen).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textconductor.cli.window_controllers import real_controllers
from textconductor.errors import UserError
from textconductor.frontend.app import build_window, qapp, show_window
from textconductor.tools.harness import engine_command, free_udp_port, stop_process

log = logging.getLogger(__name__)

# Every shot, `<shot>.png`, by the name `--shots` takes; each is taken in the window of its mode, opened once.
SHOTS = ("default", "output-window", "talk", "talk-presenter", "fullscreen")
_MODE_OF = {"default": "default", "output-window": "default", "talk": "talk", "talk-presenter": "talk",
            "fullscreen": "fullscreen"}


def start_engine(checkpoints: list[str], port: int, seed: int = 1, rate: float = 30.0,
                 extra: list[str] | None = None) -> subprocess.Popen:
    """`textconductor engine` in a subprocess (the frontend process itself stays torch-free)."""
    cmd = engine_command("--port", port, "--seed", seed, "--rate", rate, *(extra or []), checkpoints=checkpoints)
    log.info("starting engine: %s", " ".join(cmd[3:]))
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _pump_until(pred: Callable[[], bool], timeout: float) -> bool:
    from PySide6.QtWidgets import QApplication
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QApplication.processEvents()
        if pred():
            return True
        time.sleep(0.005)
    return False


def parse_size(s: str) -> tuple[int, int]:
    """'1920x1080' -> (1920, 1080)."""
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise ValueError(f"expected WIDTHxHEIGHT, e.g. 1920x1080; got {s!r}") from None
    if w < 320 or h < 240:
        raise ValueError(f"a screen of at least 320x240; got {s!r}")
    return w, h


def on_x_server() -> bool:
    """True when Qt draws on a real X server (xcb): shots are then the screen as the server shows it."""
    return qapp().platformName() == "xcb"


def _capture(widget, whole_screen: bool):
    """The widget as the audience sees it: on X, the screen (or the widget's part of it); else the widget."""
    if not on_x_server():
        return widget.grab()
    screen = widget.screen() or qapp().primaryScreen()
    if whole_screen:
        return screen.grabWindow(0)
    g = widget.frameGeometry()
    return screen.grabWindow(0, g.x(), g.y(), g.width(), g.height())


def take_screenshots(out_dir: Path, engine: str | None = None, checkpoints: list[str] | None = None,
                     chars: int = 600, weights: dict[str, float] | None = None, timeout: float = 120.0,
                     size: tuple[int, int] = (1920, 1080), shots: tuple[str, ...] | list[str] = SHOTS) -> list[Path]:
    """PNGs (`shots`, named `<shot>.png`) of the main window (default, talk, talk with the presenter
    overlay, fullscreen) and the output window, fed by a real engine.

    Either connects to a running engine (`engine` HOST:PORT) or starts one on `checkpoints`. Waits
    until `chars` characters have been generated so the text and bars show a real performance.
    """
    unknown = set(shots) - set(SHOTS)
    if unknown:
        raise UserError(f"unknown shot(s) {', '.join(sorted(unknown))}; choose from {', '.join(SHOTS)}")
    app = qapp()
    on_x = on_x_server()
    proc = None
    if engine is None:
        if not checkpoints:
            raise UserError("screenshots need a running engine (--engine) or checkpoints to start one")
        port = free_udp_port()
        proc = start_engine(checkpoints, port, rate=200.0)
        engine = f"127.0.0.1:{port}"
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def save(image, name: str) -> None:
        path = out_dir / f"{name}.png"
        if not image.save(str(path)):
            raise UserError(f"could not write {path}")
        taken.append(path)

    try:
        for mode in ("default", "talk", "fullscreen"):
            wanted = [s for s in SHOTS if _MODE_OF[s] == mode and s in shots]
            if not wanted:
                continue
            win = build_window(engine, 0, presets_path=out_dir / ".presets-unused.json",
                               controllers=real_controllers(), talk=mode == "talk", fullscreen=mode == "fullscreen",
                               screen_size=None if on_x else size)
            if on_x:
                show_window(win)  # as `ui` shows it: the fit decides where
            else:
                win.resize(*size)
                win.show()
            if not _pump_until(lambda w=win: bool(w.names), timeout):
                raise UserError(f"no /tc/hello from the engine at {engine} within {timeout:g} s")
            if weights and not taken:  # the first window sets the mix; the engine keeps it for the next ones
                win.set_weights(weights)
                win.control("reset")  # the text shows this mix alone, not what the engine wrote before
            start = win.ticks_received
            if not _pump_until(lambda w=win, s=start: w.ticks_received - s >= chars, timeout):
                raise UserError(f"the engine generated fewer than {chars} characters in {timeout:g} s")
            _pump_until(lambda: False, 0.3)
            if mode in wanted:  # default: the window (smaller than a large screen); the others cover the screen
                save(_capture(win, whole_screen=mode != "default"), mode)
            if "talk-presenter" in wanted:
                win.show_presenter(True)
                _pump_until(lambda: False, 0.3)
                save(_capture(win, whole_screen=True), "talk-presenter")
            if "output-window" in wanted:
                out = win.show_output_window(True)
                if not on_x:
                    out.resize(*size)
                _pump_until(lambda: False, 0.5)
                save(_capture(out, whole_screen=False), "output-window")
            win.close()
            app.processEvents()
    finally:
        if proc is not None:
            stop_process(proc)
    return taken


def take_screenshots_on_xvfb(out_dir: Path, engine: str | None = None, checkpoints: list[str] | None = None,
                             chars: int = 600, weights: dict[str, float] | None = None,
                             size: tuple[int, int] = (1920, 1080), shots: tuple[str, ...] | list[str] = SHOTS,
                             timeout: float = 900.0) -> list[Path]:
    """`take_screenshots` on a private Xvfb of `size` (no window manager), in a subprocess: a Qt process
    cannot switch to another display, and must end before its X server does."""
    from textconductor.tools.xvfb import Xvfb
    cmd = [sys.executable, "-m", "textconductor", "screenshots", "--out", str(out_dir), "--chars", str(chars),
           "--size", f"{size[0]}x{size[1]}", "--shots", *shots]
    cmd += ["--engine", engine] if engine else ["--checkpoints", *(checkpoints or [])]
    if weights:
        cmd += ["--weights", *(f"{k}={v:g}" for k, v in weights.items())]
    with Xvfb(*size) as x:
        log.info("screenshots on Xvfb %s (%dx%d)", x.display, *size)
        try:
            done = subprocess.run(cmd, env=x.env(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise UserError(f"the screenshots on Xvfb took longer than {timeout:g} s") from None
    if done.returncode != 0:
        raise UserError(f"the screenshots on Xvfb failed (exit {done.returncode}); see the log above")
    return [out_dir / f"{s}.png" for s in SHOTS if s in shots]
