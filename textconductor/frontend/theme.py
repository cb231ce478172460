"""Colours, fonts and layout from assets/frontend.toml and assets/styles.toml (no Qt here).

Style colours are picked for identity, not legibility: several are dark (slate, brown) and would
vanish as text on a black stage. `readable()` lightens a colour just enough for a set contrast
ratio, so the tint stays recognisable while the text reads from the back of a room.
"""

from __future__ import annotations

import colorsys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from textconductor.assets import STYLES, THEME, load_styles, style_look
from textconductor.frontend.screen_fit import FitRules

THEME_FILE = THEME
PANELS = ("styles", "text", "bars", "multiples", "puck", "sliders", "controls", "status")


def hex_to_rgb(colour: str) -> tuple[float, float, float]:
    c = colour.lstrip("#")
    return tuple(int(c[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def rgb_to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(min(max(v, 0.0), 1.0) * 255):02x}" for v in rgb)


def luminance(colour: str) -> float:
    """WCAG relative luminance."""
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = hex_to_rgb(colour)
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable(colour: str, background: str, min_contrast: float) -> str:
    """The colour mixed with white in small steps until it reaches `min_contrast` on `background`."""
    rgb = hex_to_rgb(colour)
    for i in range(21):
        t = i / 20
        c = rgb_to_hex(tuple(v + (1 - v) * t for v in rgb))  # type: ignore[arg-type]
        if contrast(c, background) >= min_contrast:
            return c
    return "#ffffff"


@dataclass
class StyleLook:
    name: str
    display: str
    colour: str  # identity colour (bars, icons)
    text_colour: str  # the same hue, readable as text on the background


@dataclass
class Theme:
    colours: dict[str, str]
    fonts: dict[str, float | str]
    text: dict = field(default_factory=dict)
    bars: dict = field(default_factory=dict)
    link: dict = field(default_factory=dict)
    presets: dict = field(default_factory=dict)
    puck: dict = field(default_factory=dict)
    render: dict = field(default_factory=dict)
    layout: dict[str, list[str]] = field(default_factory=dict)
    autopilot: dict = field(default_factory=dict)
    hands: dict = field(default_factory=dict)
    screen: dict = field(default_factory=dict)
    scale: float = 1.0
    styles_table: dict = field(default_factory=dict)

    def pt(self, key: str) -> float:
        """A font size in points, scaled for talk mode."""
        return float(self.fonts[key]) * self.scale

    def fit_rules(self) -> FitRules:
        """How windows size themselves on a screen (`[screen]`; see `screen_fit`)."""
        return FitRules.from_tables(self.screen, float(self.fonts.get("talk_scale", 1.5)))

    def panels(self, mode: str) -> list[str]:
        return [p for p in self.layout.get(mode, self.layout.get("default", list(PANELS))) if p in PANELS]

    def style(self, name: str) -> StyleLook:
        display, colour = style_look(name, self.styles_table, self.colours.get("palette") or [])
        return StyleLook(name, display, colour,
                         readable(colour, self.colours["background"], float(self.colours["min_text_contrast"])))


def load_theme(talk: bool = False, path: Path = THEME_FILE, styles_path: Path = STYLES) -> Theme:
    with open(path, "rb") as f:
        t = tomllib.load(f)
    return Theme(colours=t["colours"], fonts=t["fonts"], text=t.get("text", {}), bars=t.get("bars", {}),
                 link=t.get("link", {}), presets=t.get("presets", {}), puck=t.get("puck", {}),
                 render=t.get("render", {}), layout=t.get("layout", {}),
                 autopilot=t.get("autopilot", {}), hands=t.get("hands", {}), screen=t.get("screen", {}),
                 scale=float(t["fonts"].get("talk_scale", 1.5)) if talk else 1.0, styles_table=load_styles(styles_path))


def dim(colour: str, factor: float) -> str:
    """Darker version of a colour (inactive icons, disabled chips)."""
    h, l_, s = colorsys.rgb_to_hls(*hex_to_rgb(colour))
    return rgb_to_hex(colorsys.hls_to_rgb(h, l_ * factor, s))
