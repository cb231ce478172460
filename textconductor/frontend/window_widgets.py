"""The main window's widgets and how they are laid out, built from the theme.

Apart from the window so the layout (splitters, which panels a mode shows) can be read on its own,
and so the window and the controller hub can be handed the widgets they need by explicit reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QSplitter, QVBoxLayout, QWidget

from textconductor.frontend.bars import MixedBars, StyleMultiples
from textconductor.frontend.panels import ControlPanel, SliderPanel, StatusLine, StylePanel
from textconductor.frontend.puck import PuckWidget
from textconductor.frontend.text_view import TextView
from textconductor.frontend.theme import Theme


@dataclass
class WindowWidgets:
    """Every panel of the main window (names as in `theme.PANELS`)."""

    text: TextView
    bars: MixedBars
    multiples: StyleMultiples
    style_panel: StylePanel
    sliders: SliderPanel
    puck: PuckWidget
    controls: ControlPanel
    status: StatusLine

    def by_panel(self) -> dict[str, QWidget]:
        return {"styles": self.style_panel, "text": self.text, "bars": self.bars, "multiples": self.multiples,
                "puck": self.puck, "sliders": self.sliders, "controls": self.controls, "status": self.status}


def make_widgets(theme: Theme, text_px: int | None = None, simple: bool = False) -> WindowWidgets:
    """`text_px`: the text's pixel size when the screen decides it (talk, fullscreen); `simple`: the
    talk mode's bars and puck (fewer, larger labels)."""
    c = theme.colours
    text = TextView(str(theme.fonts["text_family"]), theme.pt("text_pt"), c["background"], c["foreground"],
                    int(theme.text.get("scrollback_chars", 20000)), pixel_size=text_px)
    text.setObjectName("text")
    return WindowWidgets(
        text=text,
        bars=MixedBars(theme.pt("bar_label_pt"), c["foreground"], c["background"], simple=simple),
        multiples=StyleMultiples(int(theme.bars.get("max_multiples", 8)), theme.pt("bar_label_pt") * 1.2,
                                 c["background"]),
        style_panel=StylePanel(),
        sliders=SliderPanel(theme.pt("ui_pt")),
        puck=PuckWidget(theme.pt("ui_pt"), c, float(theme.puck.get("snap_radius", 0.18)), simple=simple),
        controls=ControlPanel(),
        status=StatusLine(),
    )


def build_layout(w: WindowWidgets, panels: list[str], talk: bool = False) -> QWidget:
    """The central widget: styles | text, bars, multiples | puck, sliders; controls and status below.
    `talk`: the text across the whole width on top, bars | puck under it (`_talk_body`).

    Panels not in `panels` are hidden (a mode's choice), not removed, so a later mode switch or a
    controller can still address them.
    """
    if talk:
        root = _with_bottom_rows(w, _talk_body(w), panels)
        holder = QWidget(root)  # the panels talk mode has no place for: owned, never a window of their own
        holder.setVisible(False)
        for panel in (w.style_panel, w.sliders, w.multiples):
            panel.setParent(holder)
        return root
    centre = QSplitter(Qt.Orientation.Vertical)
    centre.addWidget(w.text)
    centre.addWidget(w.bars)
    centre.addWidget(w.multiples)
    centre.setStretchFactor(0, 6)
    centre.setStretchFactor(1, 2)
    centre.setStretchFactor(2, 1)
    centre.setSizes([560, 220, 190])
    right = QSplitter(Qt.Orientation.Vertical)
    right.addWidget(w.puck)
    # With the whole bank (24 styles) the sliders are wider than their panel: let them scroll
    # sideways rather than squeeze the text, which is what the audience reads.
    slider_scroll = QScrollArea()
    slider_scroll.setWidget(w.sliders)
    slider_scroll.setWidgetResizable(True)
    slider_scroll.setFrameShape(QFrame.Shape.NoFrame)
    slider_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    right.addWidget(slider_scroll)
    right.setSizes([560, 330])
    main = QSplitter(Qt.Orientation.Horizontal)
    main.addWidget(w.style_panel)
    main.addWidget(centre)
    main.addWidget(right)
    # sizes for a 1920-wide window; a narrower or wider one gives or takes 3:1 from the text and the right
    # column (all from the text once left a 1280x720 gallery screen half puck)
    main.setStretchFactor(1, 3)
    main.setStretchFactor(2, 1)
    main.setSizes([220, 1160, 540] if "styles" in panels else [0, 1240, 680])
    if "puck" not in panels and "sliders" not in panels:
        right.setVisible(False)
    slider_scroll.setVisible("sliders" in panels)  # else an empty panel under the puck (gallery mode)
    return _with_bottom_rows(w, main, panels)


def _talk_body(w: WindowWidgets) -> QWidget:
    """Talk mode: what the audience reads first gets the most room. The text spans the window (about
    three fifths of its height); the bars (the next character's odds) and the puck (the mix) share
    the strip below. Styles, sliders and small multiples are the performer's tools, not the
    audience's: they stay hidden (`[layout] talk`)."""
    below = QSplitter(Qt.Orientation.Horizontal)
    below.addWidget(w.bars)
    below.addWidget(w.puck)
    below.setStretchFactor(0, 11)
    below.setStretchFactor(1, 9)
    below.setSizes([1056, 864])
    body = QSplitter(Qt.Orientation.Vertical)
    body.addWidget(w.text)
    body.addWidget(below)
    body.setStretchFactor(0, 3)
    body.setStretchFactor(1, 2)
    body.setSizes([600, 400])
    return body


def _with_bottom_rows(w: WindowWidgets, body: QWidget, panels: list[str]) -> QWidget:
    """`body` over the controls row and the status line; panels not in `panels` hidden."""
    root = QWidget()
    lay = QVBoxLayout(root)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(2)
    lay.addWidget(body, 1)
    lay.addWidget(w.controls)
    lay.addWidget(w.status)
    for name, widget in w.by_panel().items():
        widget.setVisible(name in panels)
    return root
