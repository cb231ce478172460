"""Theme: every style's text colour is readable on the stage background; layouts name real panels."""

from __future__ import annotations

from textconductor.frontend.theme import PANELS, contrast, load_theme, readable


def test_every_style_text_colour_is_readable():
    t = load_theme()
    bg, need = t.colours["background"], float(t.colours["min_text_contrast"])
    assert t.styles_table, "styles.toml is empty"
    for name in t.styles_table:
        look = t.style(name)
        assert contrast(look.text_colour, bg) >= need, (name, look.text_colour)
        assert look.colour == t.styles_table[name].colour


def test_unknown_style_gets_a_stable_palette_colour():
    t = load_theme()
    a, b = t.style("not-in-the-table"), t.style("not-in-the-table")
    assert a.colour == b.colour and a.colour in t.colours["palette"] and a.display == "not-in-the-table"


def test_readable_keeps_bright_colours_and_lightens_dark_ones():
    assert readable("#ffffff", "#000000", 7) == "#ffffff"
    dark = "#34495e"
    light = readable(dark, "#07080b", 5.5)
    assert light != dark and contrast(light, "#07080b") >= 5.5


def test_layouts_and_talk_scale():
    t, talk = load_theme(), load_theme(talk=True)
    for mode in ("default", "talk", "fullscreen"):
        assert set(t.panels(mode)) <= set(PANELS) and "text" in t.panels(mode)
    assert talk.pt("text_pt") > t.pt("text_pt")
