"""Run by tests/frontend/test_screen_fit.py inside an Xvfb (QT_QPA_PLATFORM=xcb): opens the window in each
mode as `ui` does and prints, as JSON, where the X server put it.

A subprocess because a Qt process cannot change its platform, and must end before its X server does.
The window is fed by a fake engine with 24 styles (the whole bank: the widest sliders, the longest status
line), and the status line is given long texts, so the minimum sizes are the worst case. Geometry is
read three ways: Qt's, the X server's (`xwininfo`), and the pixels of the root window (a screen
grab), so "covers the screen" means the X server really shows the window there.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.frontend.xvfb_windows default talk fullscreen
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes import FakeEngine
from textconductor.assets import load_styles
from textconductor.frontend.app import build_window, qapp, show_window


def pump(seconds: float) -> None:
    app = qapp()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def x_geometry(win_id: int) -> list[int]:
    """[x, y, w, h] of the window as the X server has it."""
    out = subprocess.run(["xwininfo", "-id", str(win_id)], capture_output=True, text=True, check=True).stdout

    def num(label: str) -> int:
        return int(re.search(rf"{label}:\s+(-?\d+)", out).group(1))  # type: ignore[union-attr]
    return [num("Absolute upper-left X"), num("Absolute upper-left Y"), num("Width"), num("Height")]


def root_pixels(points: list[tuple[int, int]]) -> list[str]:
    """Colours of the screen (root window) at `points`: what the X server shows there."""
    img = qapp().primaryScreen().grabWindow(0).toImage()
    return [img.pixelColor(x, y).name() for x, y in points]


def qrect(r) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def main(modes: list[str]) -> dict:
    from PySide6.QtGui import QFontMetricsF
    app = qapp()
    screen = app.primaryScreen()
    sg = screen.geometry()
    names = list(load_styles())[:24]
    fake = FakeEngine(names, threaded=True, weights=[1.0, 0.6, 0.3] + [0.0] * (len(names) - 3))
    result: dict = {"platform": app.platformName(), "screen": qrect(sg), "available": qrect(screen.availableGeometry()),
                    "modes": {}}
    w, h = sg.width(), sg.height()
    corners = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, h // 2)]
    try:
        for mode in modes:
            win = build_window(f"127.0.0.1:{fake.port}", 0, talk=mode == "talk", fullscreen=mode == "fullscreen",
                               presets_path=Path(tempfile.mkdtemp()) / "presets.json")
            show_window(win)
            end = time.monotonic() + 15
            while time.monotonic() < end and len(win.names) < len(names):
                pump(0.05)
            win.status.controllers.setText("MIDI: nanoKONTROL2 · autopilot after 60 s idle · hands: tracking")
            win.status.message.setText("MIDI learned: CC 20 on channel 3 -> style Jane Austen (saved)")
            pump(1.0)
            m = win.minimumSizeHint()
            r = {"styles": len(win.names), "qt": qrect(win.geometry()), "frame": qrect(win.frameGeometry()),
                 "x": x_geometry(int(win.winId())), "minimum": [m.width(), m.height()],
                 "state": win.fit.state if win.fit else None, "text_px": win.text.font().pixelSize(),
                 "cap_height": QFontMetricsF(win.text.font()).capHeight(), "screen_pixels": root_pixels(corners),
                 "background": win.theme.colours["background"]}
            if mode == "default":  # F11 without a window manager: covers the screen, and comes back
                win.toggle_fullscreen()
                pump(1.0)
                r["f11_x"] = x_geometry(int(win.winId()))
                win.toggle_fullscreen()
                pump(1.0)
                r["f11_back_x"] = x_geometry(int(win.winId()))
            if mode == "fullscreen":  # F11 out of a window that opened fullscreen: to the default place
                win.toggle_fullscreen()
                pump(1.0)
                r["f11_out_x"] = x_geometry(int(win.winId()))
                win.toggle_fullscreen()
                pump(1.0)
                r["f11_in_x"] = x_geometry(int(win.winId()))
            result["modes"][mode] = r
            win.close()
            pump(0.3)
    finally:
        fake.close()
    return result


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:] or ["default", "talk", "fullscreen"])))
