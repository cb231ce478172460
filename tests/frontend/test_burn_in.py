"""Burn-in care: the pure offset for a time (an injected clock), and the text really moving in a fullscreen
window and never in a normal one (real widgets, offscreen)."""

from __future__ import annotations

import math

import pytest

from tests.fakes import FakeClock
from tests.frontend.test_render import connect
from textconductor.frontend.burn_in import (
    CYCLE_STEPS,
    BurnInSettings,
    burn_in_offset,
    parse_burn_in,
)


@pytest.mark.parametrize("px", [1, 3, 8])
def test_offsets_stay_small_move_rarely_and_cover_the_square(px):
    every = 180.0
    steps = [burn_in_offset(k * every + 1.0, px, every) for k in range(CYCLE_STEPS)]
    assert all(abs(dx) <= px and abs(dy) <= px for dx, dy in steps)
    # constant between steps: the text moves once per `every` seconds, not at every frame
    for k in range(5):
        assert {burn_in_offset(k * every + f * every, px, every) for f in (0.0, 0.3, 0.99)} == {steps[k]}
    # a small step each time, never a jump across the square
    for a, b in zip(steps, steps[1:] + steps[:1], strict=True):
        assert max(abs(a[0] - b[0]), abs(a[1] - b[1])) <= px // 3 + 1
    # the figure spreads over the square: both axes reach both ends, many distinct places
    assert {dx for dx, _ in steps} >= {-px, px} and {dy for _, dy in steps} >= {-px, px}
    assert len(set(steps)) >= min((2 * px + 1) ** 2 // 2, 2 * px + 1)
    # and it is a cycle
    assert burn_in_offset(CYCLE_STEPS * every + 1.0, px, every) == steps[0]


@pytest.mark.parametrize(("px", "every", "t"), [(0, 180, 1e6), (3, 0, 1e6), (-2, 60, 500), (3, 60, math.nan)])
def test_off_or_nonsense_gives_no_offset(px, every, t):
    assert burn_in_offset(t, px, every) == (0, 0)


@pytest.mark.parametrize(("text", "expected"), [("3", BurnInSettings(3, 180.0)), ("4/60", BurnInSettings(4, 60.0)),
                                                ("0", BurnInSettings(0, 180.0))])
def test_parse(text, expected):
    assert parse_burn_in(text) == expected
    assert parse_burn_in(text).on == (expected.px > 0)


@pytest.mark.parametrize("bad", ["", "x", "-1", "3/0", "3/-5", "3/nan", "99"])
def test_parse_refuses(bad):
    with pytest.raises(ValueError):
        parse_burn_in(bad)


def test_settings_from_the_theme():
    from textconductor.frontend.theme import load_theme
    s = BurnInSettings.from_screen(load_theme().screen)
    assert s.on and 1 <= s.px <= 10 and s.every_s >= 60  # a few pixels, every few minutes


def viewport_pos(view) -> tuple[int, int]:
    p = view.viewport().pos()
    return p.x(), p.y()


def test_the_text_moves_in_fullscreen_and_never_in_a_normal_window(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    clock = FakeClock(0.0)
    shift = win.burn_in
    shift.clock = clock
    shift.set_settings(BurnInSettings(px=4, every_s=60.0))
    home = viewport_pos(win.text)
    for _ in range(5):  # a normal window: whatever the time, no offset
        clock.t += 60
        shift.update()
        assert shift.offset == (0, 0) and viewport_pos(win.text) == home
    win.showFullScreen()
    qtbot.waitUntil(win.isFullScreen, timeout=5000)
    qtbot.waitUntil(lambda: shift._margin == 4, timeout=5000)  # the window-state change applied it
    seen = set()
    for _ in range(8):
        clock.t += 60
        shift.update()
        qtbot.wait(1)
        x, y = viewport_pos(win.text)
        seen.add((x, y))
        # the viewport sits where the offset says, inside margins of 4 px
        assert (x - home[0] - 4, y - home[1] - 4) == shift.offset
    assert len(seen) >= 4  # it moved, several times
    full_size = win.text.viewport().size()
    clock.t += 60
    shift.update()
    assert win.text.viewport().size() == full_size  # moving never resizes: no re-wrapping
    win.showNormal()
    qtbot.waitUntil(lambda: not win.isFullScreen(), timeout=5000)
    qtbot.waitUntil(lambda: shift.offset == (0, 0) and viewport_pos(win.text) == home, timeout=5000)


def test_the_output_window_moves_when_fullscreen(qtbot, fake_engine):
    win = connect(qtbot, fake_engine)
    win.set_burn_in(BurnInSettings(px=3, every_s=30.0))
    out = win.show_output_window(True)
    assert out is not None and out.burn_in.settings == BurnInSettings(3, 30.0)
    clock = FakeClock(0.0)
    out.burn_in.clock = clock
    out.showNormal()
    qtbot.waitUntil(lambda: not out.isFullScreen(), timeout=5000)
    out.burn_in.update()
    assert out.burn_in.offset == (0, 0)
    out.showFullScreen()
    qtbot.waitUntil(out.isFullScreen, timeout=5000)
    offsets = set()
    for _ in range(6):
        clock.t += 30
        out.burn_in.update()
        offsets.add(out.burn_in.offset)
    assert len(offsets) >= 3 and all(abs(dx) <= 3 and abs(dy) <= 3 for dx, dy in offsets)
    win.show_output_window(False)


def test_the_ui_option(capsys):
    from textconductor.cli import build_parser
    parser = build_parser()
    assert parser.parse_args(["ui", "--burn-in", "4/60"]).burn_in == BurnInSettings(4, 60.0)
    assert parser.parse_args(["ui"]).burn_in is None  # frontend.toml decides
    with pytest.raises(SystemExit) as e:
        parser.parse_args(["ui", "--burn-in", "lots"])
    assert e.value.code == 2 and "PX" in capsys.readouterr().err
