"""The data the instrument ships with, and the one place that says where it lies.

`styles.toml` (display name, colour, source and licence of each style), `bank.toml` (how the
bundled bank is trained), `frontend.toml` (theme), `bank/` (one safetensors file per style) and
`base/` (the shared base model). Every layer may read these; reading needs only the standard
library, so the window never pays for torch to learn a style's colour.
"""

from __future__ import annotations

import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
RECIPE = ASSETS / "bank.toml"
STYLES = ASSETS / "styles.toml"
THEME = ASSETS / "frontend.toml"
BANK_DIR = ASSETS / "bank"
SHIPPED_BASE = ASSETS / "base" / "base.safetensors"


@dataclass(frozen=True)
class StyleInfo:
    name: str
    display: str
    colour: str
    about: str = ""
    source: str = ""
    licence: str = ""


def load_styles(path: Path = STYLES) -> dict[str, StyleInfo]:
    with open(path, "rb") as f:
        table = tomllib.load(f)
    return {k: StyleInfo(name=k, **v) for k, v in table.items()}


def style_look(name: str, styles: dict[str, StyleInfo], palette: list[str]) -> tuple[str, str]:
    """(display name, identity colour) of a style: from the table, else a stable palette colour from
    its name (a freshly trained style). The window and the audience's phones both colour by this."""
    info = styles.get(name)
    if info is not None:
        return info.display, info.colour
    palette = palette or ["#6fc3ff"]
    return name, palette[zlib.crc32(name.encode()) % len(palette)]


def load_recipe(path: Path = RECIPE) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)
