"""Starting the frontend: the QApplication, a window wired to the engine link, and the `ui` event loop.

Everything Qt is imported inside these functions (and in the widget modules), never by the CLI's
modules, so `--help` stays instant and nothing here can pull in torch. The controllers a window offers
(MIDI, autopilot, hands) are injected by the caller (`textconductor.cli.window_controllers`): the
frontend never imports them. The UI bench, the UI soak and the screenshots are tools on top
(`textconductor.tools.bench_ui`, `.soak_ui`, `.screenshots`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textconductor import protocol
from textconductor.display import has_display, use_offscreen_without_display

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from textconductor.frontend.controller_api import WindowControllers
    from textconductor.frontend.main_window import MainWindow

log = logging.getLogger(__name__)


def qapp() -> QApplication:
    """The one QApplication (created on first use). Without a display, offscreen rather than Qt's abort:
    only the tools get here that way (`ui` refuses first, in words)."""
    if use_offscreen_without_display():
        log.warning("no display: using the offscreen Qt platform (nothing will be visible)")
    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("textconductor")
    return app


def mode_of(fullscreen: bool, talk: bool) -> str:
    return "fullscreen" if fullscreen else "talk" if talk else "default"


def build_window(engine: str = f"{protocol.DEFAULT_HOST}:{protocol.DEFAULT_PORT}", listen_port: int = 0,
                 fullscreen: bool = False, talk: bool = False, presets_path: Path | None = None,
                 controllers: WindowControllers | None = None,
                 screen_size: tuple[int, int] | None = None) -> MainWindow:
    """A MainWindow wired to an EngineLink (started), not yet shown (`win.show_fitted()` shows it as its
    mode says); `controllers` as injected by the caller.

    Its fonts follow the screen it will open on (Qt's primary screen; `screen_size`: a screen of that
    size instead, for tools that render offscreen as if on a real one): `screen_fit.fit_window`.
    """
    qapp()
    from textconductor.frontend.link import EngineLink, parse_endpoint
    from textconductor.frontend.main_window import MainWindow
    from textconductor.frontend.placement import cap_ratio, primary_screen
    from textconductor.frontend.presets import PresetStore
    from textconductor.frontend.screen_fit import Screen, fit_window
    from textconductor.frontend.theme import load_theme
    theme = load_theme(talk=talk or fullscreen)
    mode = mode_of(fullscreen, talk)
    screen = Screen.plain(*screen_size) if screen_size else primary_screen()
    fit = fit_window(mode, screen, theme.fit_rules(), cap_ratio(str(theme.fonts["text_family"])))
    theme.scale = fit.ui_scale
    log.info("%s mode on a %dx%d screen: %s window, UI fonts x%.2f, text %s", mode, screen.geometry.w,
             screen.geometry.h, fit.state, fit.ui_scale, f"{fit.text_px} px" if fit.text_px else "at its theme size")
    host, port = parse_endpoint(engine)
    lk = theme.link
    link = EngineLink(host, port, listen_port, offline_after=float(lk.get("offline_after_s", 2.5)),
                      resubscribe=float(lk.get("resubscribe_s", 1.0)),
                      resubscribe_online=float(lk.get("resubscribe_online_s", 5.0)))
    win = MainWindow(theme, link, mode, PresetStore(presets_path), autostart=fullscreen,
                     controllers=controllers, fit=fit)
    link.start()
    return win


def run_ui(engine: str, listen_port: int, fullscreen: bool, talk: bool, output_window: bool,
           controllers: WindowControllers | None = None,
           start_controllers: Callable[[MainWindow], None] | None = None) -> int:
    """The performer's window until it is closed. `controllers`: what its menus offer; `start_controllers(win)`
    starts what the command line asked for, once the window is shown."""
    from textconductor.errors import UserError
    if not has_display():
        # Qt would abort the process; an invisible offscreen window would be no better for a performer.
        raise UserError("no display: run it on a desktop, or set DISPLAY (e.g. Xvfb) or QT_QPA_PLATFORM")
    app = qapp()
    _quit_on_signals(app)  # before the link subscribes: a Ctrl+C from then on must unsubscribe too
    win = build_window(engine, listen_port, fullscreen, talk, controllers=controllers)
    log.info("listening for the engine on UDP port %d", win.link.listen_port)
    show_window(win)
    if output_window:
        win.show_output_window(True)
    if start_controllers is not None:
        start_controllers(win)
    app.aboutToQuit.connect(win.controllers.shutdown)  # MIDI ports released, tracking threads ended
    app.aboutToQuit.connect(lambda: win.link.stop())  # unsubscribe, so the engine stops sending here
    return app.exec()


def show_window(win: MainWindow) -> None:
    """Show a built window as `ui` does: in gallery mode frameless with the cursor hidden; in every mode
    fitted to its screen (inside it; fullscreen covers it, with or without a window manager)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QCursor
    if win.mode == "fullscreen":
        win.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        qapp().setOverrideCursor(QCursor(Qt.CursorShape.BlankCursor))
    win.show_fitted()


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl+C / SIGTERM quit cleanly. Python runs signal handlers only when it gets control back,
    which Qt's C++ event loop never gives: a cheap timer hands it control a few times a second.
    The quit is queued (a zero timer), so a signal that arrives while the window is still being built,
    before the event loop runs, still ends it (a plain `app.quit()` then would be lost)."""
    import signal

    from PySide6.QtCore import QTimer
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: QTimer.singleShot(0, app.quit))
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(200)
