"""Is there a display for a Qt window? One answer for the supervisor, `play`, `ui` and tests.

Qt aborts the whole process (exit 134) when it has no platform to open, so every caller asks
here first and chooses: refuse with a message (`ui`, `play`), or fall back to offscreen (tools).
"""

from __future__ import annotations

import os
import sys

HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def qt_platform() -> str:
    """The platform Qt was told to use (QT_QPA_PLATFORM without its options), or ""."""
    return os.environ.get("QT_QPA_PLATFORM", "").split(":")[0]


def has_display() -> bool:
    """True when a Qt window can open: a platform that needs no display, an X or Wayland display,
    or macOS/Windows. QT_QPA_PLATFORM=xcb without DISPLAY is not enough: Qt would abort."""
    if qt_platform() in HEADLESS_PLATFORMS:
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or sys.platform in ("darwin", "win32")


def use_offscreen_without_display() -> bool:
    """Tools that only render (screenshots, UI bench): offscreen when there is no display. True if it did."""
    if has_display():
        return False
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return True
