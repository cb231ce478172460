"""Where a window goes and how large its fonts are, from the screen it is on: a pure function, no Qt.

Why a pure function: the window once opened at a fixed 1600x950, larger than a 1280x720 projector
(the puck, controls and status line were cut off), and its talk-mode text was sized in points, not
relative to the screen the audience reads. Every rule here is a few lines of arithmetic on
rectangles, so it is tested table-driven for every screen size without a display; `placement.py`
applies the result with Qt.

The rules (numbers from `[screen]` in `assets/frontend.toml`):

* **default** (the performer's window): the design size (1600x950 at 1920x1080) grown with larger
  screens (x2 at 3840x2160, fonts too), centred in the available area with room for a window
  manager's frame; on a screen too small for it (1366x768, 1280x720) the window fills the
  available area (maximised) instead.
* **talk**: maximised on the available area; the text's pixel size is chosen so its cap height is
  `talk_cap_height` of the screen height; other fonts are `talk_scale` at 1080 lines, scaled with
  the screen's height (never below the default size).
* **fullscreen** (gallery): the whole screen, with the geometry set explicitly: without a window
  manager `showFullScreen()` alone does not resize the window. Fonts as in talk, text at
  `fullscreen_cap_height`.
* **output** (the text-only window): fullscreen on a screen other than the main window's when there
  is one; otherwise `output_fraction` of the available area, centred. Text at `output_cap_height`
  of its screen's height.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NORMAL, MAXIMIZED, FULLSCREEN = "normal", "maximized", "fullscreen"
MODES = ("default", "talk", "fullscreen")
DEFAULT_CAP_RATIO = 0.73  # cap height / pixel size of DejaVu Sans Mono (measured: 73 px at 100 px)


@dataclass(frozen=True)
class Rect:
    """A rectangle in screen pixels (Qt's device-independent pixels)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    def centred(self, w: int, h: int) -> Rect:
        """A w x h rectangle centred in this one (clipped to it)."""
        w, h = min(w, self.w), min(h, self.h)
        return Rect(self.x + (self.w - w) // 2, self.y + (self.h - h) // 2, w, h)


@dataclass(frozen=True)
class Screen:
    """One screen: its whole geometry and the part windows may use (without panels and docks;
    without a window manager the two are the same)."""

    geometry: Rect
    available: Rect

    @classmethod
    def plain(cls, w: int, h: int, x: int = 0, y: int = 0) -> Screen:
        """A screen without panels (as an X server without a window manager reports it)."""
        r = Rect(x, y, w, h)
        return cls(r, r)


@dataclass(frozen=True)
class FitRules:
    """The numbers the rules use (`[screen]` in frontend.toml, `talk_scale` from `[fonts]`)."""

    default_size: tuple[int, int] = (1600, 950)  # the performer's window on the reference screen
    reference: tuple[int, int] = (1920, 1080)  # the screen the theme's sizes were designed on
    frame: tuple[int, int] = (40, 80)  # room left for a window manager's frame and title bar
    talk_scale: float = 1.5  # UI fonts in talk and fullscreen at the reference height
    talk_cap_height: float = 0.036  # text cap height / screen height in talk mode
    fullscreen_cap_height: float = 0.032
    output_cap_height: float = 0.036
    output_fraction: float = 0.75  # the output window's share of a single screen

    @classmethod
    def from_tables(cls, screen: Mapping[str, object], talk_scale: float = 1.5) -> FitRules:
        """From `[screen]`; keys it does not name keep their defaults."""
        d = cls()

        def pair(key: str, default: tuple[int, int]) -> tuple[int, int]:
            v = screen.get(key, default)
            return int(v[0]), int(v[1])  # type: ignore[index]

        def num(key: str, default: float) -> float:
            return float(screen.get(key, default))  # type: ignore[arg-type]

        return cls(default_size=pair("default_size", d.default_size), reference=pair("reference", d.reference),
                   frame=pair("frame", d.frame), talk_scale=float(talk_scale),
                   talk_cap_height=num("talk_cap_height", d.talk_cap_height),
                   fullscreen_cap_height=num("fullscreen_cap_height", d.fullscreen_cap_height),
                   output_cap_height=num("output_cap_height", d.output_cap_height),
                   output_fraction=num("output_fraction", d.output_fraction))


@dataclass(frozen=True)
class Fit:
    """Where a window goes and how it shows: `geometry` is its client area (without a window manager
    also its frame); `ui_scale` multiplies the theme's font sizes; `text_px` is the text's pixel
    size (None: the theme's point size)."""

    geometry: Rect
    state: str
    ui_scale: float = 1.0
    text_px: int | None = None


def text_px_for_cap(screen_h: int, cap_fraction: float, cap_ratio: float = DEFAULT_CAP_RATIO) -> int:
    """The smallest pixel size whose cap height (pixel size x `cap_ratio`) is at least `cap_fraction`
    of the screen height. Rounded up: the fraction is a floor the audience is promised."""
    return max(1, math.ceil(cap_fraction * screen_h / cap_ratio - 1e-9))


def audience_scale(screen: Screen, rules: FitRules) -> float:
    """UI fonts for the audience modes: `talk_scale` at the reference height, proportional to the
    screen's height, never smaller than the default fonts (a 720-line projector gets 1.0)."""
    return max(1.0, rules.talk_scale * screen.geometry.h / rules.reference[1])


def fit_window(mode: str, screen: Screen, rules: FitRules = FitRules(),
               cap_ratio: float = DEFAULT_CAP_RATIO) -> Fit:
    """The main window's fit on `screen` in `mode` (default, talk or fullscreen)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
    avail = screen.available
    if mode == "fullscreen":
        return Fit(screen.geometry, FULLSCREEN, audience_scale(screen, rules),
                   text_px_for_cap(screen.geometry.h, rules.fullscreen_cap_height, cap_ratio))
    if mode == "talk":
        return Fit(avail, MAXIMIZED, audience_scale(screen, rules),
                   text_px_for_cap(screen.geometry.h, rules.talk_cap_height, cap_ratio))
    (pw, ph), (rw, rh), (fw, fh) = rules.default_size, rules.reference, rules.frame
    grow = max(1.0, min(avail.w / rw, avail.h / rh))
    w, h = round(pw * grow), round(ph * grow)
    if w > avail.w - fw or h > avail.h - fh:  # smaller than the design: use all of it, never more
        return Fit(avail, MAXIMIZED, 1.0, None)
    return Fit(avail.centred(w, h), NORMAL, grow, None)


def fit_output(screens: Sequence[Screen], main: int, rules: FitRules = FitRules(),
               cap_ratio: float = DEFAULT_CAP_RATIO) -> Fit:
    """The output window: fullscreen on the first screen that is not `screens[main]` (a projector),
    else a centred window on the only screen."""
    if not screens:
        raise ValueError("no screens")
    others = [s for i, s in enumerate(screens) if i != main]
    if others:
        s = others[0]
        return Fit(s.geometry, FULLSCREEN, 1.0, text_px_for_cap(s.geometry.h, rules.output_cap_height, cap_ratio))
    s = screens[min(max(main, 0), len(screens) - 1)]
    avail, (fw, fh) = s.available, rules.frame
    w = min(round(avail.w * rules.output_fraction), avail.w - fw)
    h = min(round(avail.h * rules.output_fraction), avail.h - fh)
    return Fit(avail.centred(max(w, 1), max(h, 1)), NORMAL, 1.0,
               text_px_for_cap(s.geometry.h, rules.output_cap_height, cap_ratio))
