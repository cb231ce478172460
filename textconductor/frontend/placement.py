"""Applying a `screen_fit.Fit` with Qt: the screens as plain rectangles, and showing a window in its fit.

Why the geometry is set explicitly before every show: on an X server without a window manager (how
kiosk and gallery machines are often run) `showFullScreen()` and `showMaximized()` only set a window
state that nobody acts on; the window keeps whatever size it had (a 1459x703 "fullscreen" window in
the corner of a 1920x1080 screen). With a window manager the explicit geometry is harmless: the
manager then applies the state on top of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QRect
from PySide6.QtGui import QFont, QFontMetricsF, QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from textconductor.frontend.screen_fit import DEFAULT_CAP_RATIO, FULLSCREEN, MAXIMIZED, Fit, Rect, Screen

log = logging.getLogger(__name__)


def rect(r: QRect) -> Rect:
    return Rect(r.x(), r.y(), r.width(), r.height())


def qrect(r: Rect) -> QRect:
    return QRect(r.x, r.y, r.w, r.h)


def screen_of(s: QScreen) -> Screen:
    return Screen(rect(s.geometry()), rect(s.availableGeometry()))


def screens() -> list[Screen]:
    return [screen_of(s) for s in QGuiApplication.screens()]


def primary_screen() -> Screen:
    """The screen a new main window goes on (Qt's primary), or a 1920x1080 stand-in when Qt has none."""
    s = QGuiApplication.primaryScreen()
    return screen_of(s) if s is not None else Screen.plain(1920, 1080)


def cap_ratio(family: str) -> float:
    """Cap height / pixel size of `family` as Qt will render it (what `text_px_for_cap` needs)."""
    f = QFont(family)
    f.setStyleHint(QFont.StyleHint.Monospace)
    f.setPixelSize(100)
    cap = QFontMetricsF(f).capHeight()
    return cap / 100 if cap > 0 else DEFAULT_CAP_RATIO


def show_fitted(w: QWidget, fit: Fit) -> None:
    """Show `w` as `fit` says: the geometry first (so it holds without a window manager), then the state."""
    w.setGeometry(qrect(fit.geometry))
    if fit.state == FULLSCREEN:
        w.showFullScreen()
    elif fit.state == MAXIMIZED:
        w.showMaximized()
    else:
        w.showNormal()
    log.info("window %r: %s at %s", w.windowTitle(), fit.state, fit.geometry)


class FullscreenToggle:
    """F11 for a window: to the whole screen it is on and back to where it was.

    Remembers the normal geometry itself, because without a window manager `showNormal()` would leave
    the window screen-sized."""

    def __init__(self, w: QWidget, fallback: Callable[[], Rect] | None = None) -> None:
        """`fallback`: where the window goes when it leaves fullscreen without having been elsewhere
        first (a gallery window opens fullscreen)."""
        self.w = w
        self.normal: QRect | None = None
        self.maximized = False
        self.fallback = fallback

    def __call__(self) -> None:
        w = self.w
        if w.isFullScreen():
            if self.normal is None and self.fallback is not None:
                self.normal = qrect(self.fallback())
            if self.normal is not None:
                w.setGeometry(self.normal)
            if self.maximized:
                w.showMaximized()
            else:
                w.showNormal()
                if self.normal is not None:  # again: leaving fullscreen may have kept the screen's size
                    w.setGeometry(self.normal)
            return
        self.normal, self.maximized = w.geometry(), w.isMaximized()
        s = w.screen() or QGuiApplication.primaryScreen()
        if s is not None:
            w.setGeometry(s.geometry())
        w.showFullScreen()
