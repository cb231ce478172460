"""Windows fit the screen they are on (issue #15).

* The sizing rules, a pure function, table-driven over the screens a talk or a gallery meets.
* The window's minimum size never forces it past a 1280x720 screen (24 styles, long status texts).
* Talk mode: the text's cap height, measured with Qt's font metrics, is at least 3% of the screen height.
* The presenter overlay: `P` shows its labels and takes them away again.
* On a real X server (Xvfb, no window manager) at 1280x720 and 1920x1080: the main window lies inside
  the screen in every mode and fullscreen covers it, as the X server itself reports.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF

from textconductor import protocol
from textconductor.frontend.screen_fit import (
    FULLSCREEN,
    MAXIMIZED,
    NORMAL,
    FitRules,
    Rect,
    Screen,
    fit_output,
    fit_window,
    text_px_for_cap,
)

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
RULES = FitRules()  # the defaults, which frontend.toml repeats
HD, FHD, UHD = Screen.plain(1280, 720), Screen.plain(1920, 1080), Screen.plain(3840, 2160)
WXGA = Screen.plain(1366, 768)
# a desktop with a window manager: a 32 px top bar and a 48 px dock take part of a 1920x1080 screen
DESKTOP = Screen(Rect(0, 0, 1920, 1080), Rect(0, 32, 1920, 1000))
SCREENS = {"1280x720": HD, "1366x768": WXGA, "1920x1080": FHD, "3840x2160": UHD, "desktop": DESKTOP}


# -- the pure rules -------------------------------------------------------------------------------
@pytest.mark.parametrize(("screen", "mode", "state", "geometry", "ui_scale"), [
    ("1280x720", "default", MAXIMIZED, Rect(0, 0, 1280, 720), 1.0),  # smaller than the design: all of it
    ("1366x768", "default", MAXIMIZED, Rect(0, 0, 1366, 768), 1.0),
    ("1920x1080", "default", NORMAL, Rect(160, 65, 1600, 950), 1.0),  # the design size, centred
    ("3840x2160", "default", NORMAL, Rect(320, 130, 3200, 1900), 2.0),  # grown with the screen, fonts too
    ("desktop", "default", MAXIMIZED, Rect(0, 32, 1920, 1000), 1.0),  # 950 + a title bar would not fit
    ("1280x720", "talk", MAXIMIZED, Rect(0, 0, 1280, 720), 1.0),
    ("1366x768", "talk", MAXIMIZED, Rect(0, 0, 1366, 768), 1.5 * 768 / 1080),
    ("1920x1080", "talk", MAXIMIZED, Rect(0, 0, 1920, 1080), 1.5),
    ("3840x2160", "talk", MAXIMIZED, Rect(0, 0, 3840, 2160), 3.0),
    ("desktop", "talk", MAXIMIZED, Rect(0, 32, 1920, 1000), 1.5),
    ("1280x720", "fullscreen", FULLSCREEN, Rect(0, 0, 1280, 720), 1.0),
    ("1920x1080", "fullscreen", FULLSCREEN, Rect(0, 0, 1920, 1080), 1.5),
    ("3840x2160", "fullscreen", FULLSCREEN, Rect(0, 0, 3840, 2160), 3.0),
    ("desktop", "fullscreen", FULLSCREEN, Rect(0, 0, 1920, 1080), 1.5),  # the whole screen, over the panels
])
def test_fit_window_table(screen, mode, state, geometry, ui_scale):
    s = SCREENS[screen]
    fit = fit_window(mode, s, RULES)
    assert (fit.state, fit.geometry) == (state, geometry)
    assert fit.ui_scale == pytest.approx(ui_scale)
    if mode == "fullscreen":
        assert fit.geometry == s.geometry
    else:
        assert s.available.contains(fit.geometry)


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("mode", ["default", "talk", "fullscreen"])
def test_every_fit_lies_inside_the_screen(screen, mode):
    s = SCREENS[screen]
    fit = fit_window(mode, s, RULES)
    assert s.geometry.contains(fit.geometry)
    if fit.state == NORMAL:  # room for a window manager's frame around it
        g, a = fit.geometry, s.available
        assert g.x - a.x >= RULES.frame[0] // 2 and g.y - a.y >= RULES.frame[1] // 2


@pytest.mark.parametrize(("h", "fraction", "ratio", "px"), [
    (1080, 0.036, 0.73, 54), (2160, 0.036, 0.73, 107), (720, 0.036, 0.73, 36), (1080, 0.03, 0.73, 45),
    (1080, 0.03, 0.7, 47),
])
def test_text_px_for_cap(h, fraction, ratio, px):
    assert text_px_for_cap(h, fraction, ratio) == px
    assert px * ratio >= fraction * h  # the promised cap height is a floor
    assert (px - 1) * ratio < fraction * h  # and no larger than it needs to be


@pytest.mark.parametrize("screen", SCREENS)
def test_talk_text_cap_height_is_at_least_3_percent(screen):
    s = SCREENS[screen]
    fit = fit_window("talk", s, RULES, cap_ratio=0.73)
    assert fit.text_px * 0.73 >= 0.03 * s.geometry.h


def test_output_window_goes_to_the_second_screen():
    laptop, projector = Screen.plain(1920, 1080), Screen.plain(1280, 720, x=1920)
    fit = fit_output([laptop, projector], main=0, rules=RULES)
    assert (fit.state, fit.geometry) == (FULLSCREEN, projector.geometry)
    assert fit.text_px == text_px_for_cap(720, RULES.output_cap_height)
    fit = fit_output([laptop, projector], main=1, rules=RULES)  # the main window on the projector
    assert fit.geometry == laptop.geometry
    alone = fit_output([HD], main=0, rules=RULES)  # one screen: a window inside it
    assert alone.state == NORMAL and HD.available.contains(alone.geometry)
    assert alone.geometry == Rect(160, 90, 960, 540)


def test_rules_come_from_the_theme():
    from textconductor.frontend.theme import load_theme
    rules = load_theme().fit_rules()
    assert rules.default_size == (1600, 950) and rules.reference == (1920, 1080)
    assert rules.talk_cap_height >= 0.03
    assert FitRules.from_tables({"talk_cap_height": 0.05}, 2.0).talk_cap_height == 0.05
    with pytest.raises(ValueError, match="unknown mode"):
        fit_window("cinema", FHD)


# -- the window (offscreen) -----------------------------------------------------------------------
def bank_window(qtbot, screen_size: tuple[int, int], **kw):
    """A window with the whole shipped bank enabled (the widest it gets), connected to nothing."""
    from textconductor.frontend.app import build_window
    win = build_window("127.0.0.1:9", 0, screen_size=screen_size, **kw)
    win.link.stop(unsubscribe=False)
    qtbot.addWidget(win)
    names = list(win.theme.styles_table)[:24]
    weights = np.zeros(len(names), np.float32)
    weights[:3] = [1.0, 0.6, 0.3]
    win.on_hello(protocol.Hello(names, np.ones(len(names), bool), weights, ""))
    win.status.controllers.setText("MIDI: nanoKONTROL2 · autopilot after 60 s idle · hands: tracking")
    win.status.message.setText("MIDI learned: CC 20 on channel 3 -> style Jane Austen (saved)")
    return win


@pytest.mark.parametrize("mode", ["default", "talk", "fullscreen"])
def test_minimum_size_fits_a_1280x720_screen(qtbot, mode):
    win = bank_window(qtbot, (1280, 720), talk=mode == "talk", fullscreen=mode == "fullscreen")
    win.resize(1280, 720)
    win.show()
    qtbot.wait(50)
    m = win.minimumSizeHint()
    assert m.width() <= 1280 and m.height() <= 720, (mode, m)
    assert win.status.active.text().startswith("active")  # the whole text is kept; only its display elides
    win.close()


@pytest.mark.parametrize(("size", "px"), [((1920, 1080), 54), ((3840, 2160), 107)])
def test_talk_mode_cap_height(qtbot, size, px):
    """The figure the issue asks for: the talk text's cap height in px and as a share of the screen height."""
    win = bank_window(qtbot, size, talk=True)
    win.resize(*size)
    win.show()
    qtbot.wait(50)
    font = win.text.document().defaultFont()  # what the text is drawn in, after the window's style sheet
    cap = QFontMetricsF(font).capHeight()
    share = cap / size[1]
    log.info("talk mode at %dx%d: text %d px, cap height %.1f px = %.2f%% of the screen height",
             *size, font.pixelSize(), cap, share * 100)
    print(f"talk {size[0]}x{size[1]}: text {font.pixelSize()} px, cap height {cap:.1f} px = {share:.2%}")
    assert font.pixelSize() == px and font.family() == win.theme.fonts["text_family"]
    assert share >= 0.03
    win.close()


def test_presenter_overlay_toggles_with_p(qtbot):
    win = bank_window(qtbot, (1920, 1080), talk=True)
    win.resize(1920, 1080)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    assert not win.presenter.shown and win.presenter.visible_labels() == {}
    qtbot.keyClick(win, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: win.presenter.shown, timeout=2000)
    labels = win.presenter.visible_labels()
    assert set(labels) == {"text", "bars", "puck"}  # talk mode shows these three panels
    assert "probabilities" in labels["bars"] and "mix" in labels["puck"] and "colour" in labels["text"]
    legend = [win.looks[n].display for n in win.enabled_styles()[:3]]  # the three weighted styles
    assert all(name in labels["text"] for name in legend)
    assert win.looks[win.enabled_styles()[5]].display not in labels["text"]  # unweighted: not writing
    assert win.view_actions.presenter.isChecked()
    assert win.puck.reserved_top > 0  # the circle moves below its note
    for key, label in win.presenter.labels.items():  # each label lies on its panel
        if key in labels:
            target = {"text": win.text, "bars": win.bars, "puck": win.puck}[key]
            top_left = target.mapTo(win.centralWidget(), target.rect().topLeft())
            assert target.rect().translated(top_left).contains(label.geometry()), key
    qtbot.keyClick(win, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: not win.presenter.shown, timeout=2000)
    assert win.presenter.visible_labels() == {} and win.puck.reserved_top == 0
    assert not win.view_actions.presenter.isChecked()
    win.controls.prime_edit.setFocus()  # while typing into the stream, P is a letter
    qtbot.keyClick(win.controls.prime_edit, Qt.Key.Key_P)
    assert win.controls.prime_edit.text().lower() == "p" and not win.presenter.shown
    win.close()


def test_default_mode_presenter_labels_every_visible_panel(qtbot):
    win = bank_window(qtbot, (1920, 1080))
    win.resize(1600, 950)
    win.show()
    win.show_presenter(True)
    qtbot.wait(50)
    assert set(win.presenter.visible_labels()) == {"text", "bars", "puck", "multiples", "sliders", "styles"}
    win.show_presenter(False)
    win.close()


# -- a real X server ------------------------------------------------------------------------------
def _xvfb_missing() -> str | None:
    for tool in ("Xvfb", "xwininfo"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian: apt-get install xvfb x11-utils)"
    return None


@pytest.mark.skipif(_xvfb_missing() is not None, reason=_xvfb_missing() or "")
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_windows_fit_the_screen_on_xvfb(size):
    """Xvfb, no window manager: every mode inside the screen, fullscreen (and F11) covering it, per the
    X server (xwininfo) and its pixels (no black corner left)."""
    from textconductor.tools.xvfb import Xvfb
    w, h = size
    env = None
    with Xvfb(w, h) as x:
        env = x.env()
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        done = subprocess.run([sys.executable, "-m", "tests.frontend.xvfb_windows", "default", "talk", "fullscreen"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["platform"] == "xcb" and got["screen"] == [0, 0, w, h]
    screen = Rect(0, 0, w, h)
    for mode, r in got["modes"].items():
        assert r["styles"] == 24, mode
        for key in ("qt", "frame", "x"):
            assert screen.contains(Rect(*r[key])), (mode, key, r[key])
        assert r["minimum"][0] <= w and r["minimum"][1] <= h, (mode, r["minimum"])
    full = got["modes"]["fullscreen"]
    assert full["x"] == [0, 0, w, h] and full["frame"] == [0, 0, w, h]
    assert "#000000" not in full["screen_pixels"]  # Xvfb's black shows nowhere: the window covers the screen
    talk = got["modes"]["talk"]
    assert talk["x"] == [0, 0, w, h] and talk["cap_height"] >= 0.03 * h
    default = got["modes"]["default"]
    assert default["f11_x"] == [0, 0, w, h]  # F11 covers the screen without a window manager too
    assert default["f11_back_x"] == default["x"]  # and gives the window back where it was
    assert full["f11_out_x"] == default["x"]  # a gallery window leaving fullscreen goes where `ui` puts one
    assert full["f11_in_x"] == [0, 0, w, h]
    if (w, h) == (1920, 1080):
        assert default["x"] == [160, 65, 1600, 950]
    else:
        assert default["x"] == [0, 0, w, h]
