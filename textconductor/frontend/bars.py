"""Probability bars: the mixed next-character distribution and the active styles' own ones.

One custom pyqtgraph item draws all bars of a plot as a few `drawRects` calls (one per colour),
which is several times cheaper than `BarGraphItem` and keeps a 60 Hz update of ~100 bars plus the
small multiples well inside a frame. Heights are scaled here (not by changing the view range) so
the axes never re-layout while playing. Each mixed bar is tinted by the style that gives that
character the most mass (weight x probability): the colours show *who* proposes what.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QWidget

from textconductor.models.charset import CHARS

pg.setConfigOptions(antialias=False, background=None, foreground="#c8c8c8")

LABELS = {"\n": "⏎", "\t": "⇥", " ": "␣"}


def char_label(c: str) -> str:
    return LABELS.get(c, c)


class BarsItem(pg.GraphicsObject):
    """n bars at x = 0..n-1, heights 0..1, each with a colour index into a small brush table."""

    def __init__(self, n: int, width: float = 0.8) -> None:
        super().__init__()
        self.n, self.width = n, width
        self._groups: list[tuple[QBrush, list[QRectF]]] = []
        self._highlight: QRectF | None = None
        self._hl_pen = QPen(QColor("#ffffff"))
        self._hl_pen.setCosmetic(True)
        self._hl_pen.setWidthF(2.0)
        self._bounds = QRectF(-0.5, 0.0, n, 1.0)

    def set_bars(self, heights: np.ndarray, colour_idx: np.ndarray | None, brushes: list[QBrush],
                 highlight: int | None = None) -> None:
        h = np.clip(np.asarray(heights, dtype=float), 0.0, 1.0)
        x0 = np.arange(self.n) - self.width / 2
        groups: list[tuple[QBrush, list[QRectF]]] = []
        if colour_idx is None:
            nz = np.flatnonzero(h > 1e-4)
            groups.append((brushes[0], [QRectF(x0[i], 0.0, self.width, h[i]) for i in nz]))
        else:
            ci = np.asarray(colour_idx)
            for k in np.unique(ci[h > 1e-4]):
                idx = np.flatnonzero((ci == k) & (h > 1e-4))
                groups.append((brushes[int(k)], [QRectF(x0[i], 0.0, self.width, h[i]) for i in idx]))
        self._groups = groups
        self._highlight = (QRectF(-0.5 + highlight, 0.0, 1.0, max(h[highlight], 0.02))
                           if highlight is not None and 0 <= highlight < self.n else None)
        self.update()

    def paint(self, p, *args) -> None:  # noqa: ANN001 (Qt signature)
        p.setPen(Qt.PenStyle.NoPen)
        for brush, rects in self._groups:
            p.setBrush(brush)
            p.drawRects(rects)
        if self._highlight is not None:
            p.setPen(self._hl_pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self._highlight)

    def boundingRect(self) -> QRectF:
        return self._bounds


def _opaque(view: pg.GraphicsView, background: str) -> None:
    """An opaque view: Qt then never repaints the (style-sheeted, costly) parents behind it."""
    view.setBackground(background)
    view.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)


def _plain_plot(plot: pg.PlotItem, n: int) -> None:
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.getViewBox().setDefaultPadding(0.0)
    plot.setXRange(-0.6, n - 0.4, padding=0)
    plot.setYRange(-0.01, 1.12, padding=0)
    plot.hideAxis("left")


class _Scale:
    """A y scale that jumps up at once and relaxes slowly, so bars neither clip nor flicker."""

    def __init__(self) -> None:
        self.top = 1.0

    def __call__(self, peak: float) -> float:
        target = max(peak, 0.02)
        self.top = target if target > self.top else self.top + (target - self.top) * 0.08
        return self.top


class MixedBars(pg.PlotWidget):
    """The mixed distribution over the whole character set, labelled by character."""

    def __init__(self, label_pt: float, foreground: str, background: str, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        _opaque(self, background)
        self.n = len(CHARS)
        plot = self.getPlotItem()
        _plain_plot(plot, self.n)
        axis = plot.getAxis("bottom")
        f = QFont()
        f.setPointSizeF(label_pt)
        axis.setStyle(tickFont=f, tickLength=0, tickTextOffset=2)
        axis.setTicks([[(i, char_label(c)) for i, c in enumerate(CHARS)], []])
        axis.setTextPen(foreground)
        axis.setPen(pg.mkPen("#3a3f4b"))
        # 97 labels are the costliest thing in the plot and never change: paint them once, then blit.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.item = BarsItem(self.n)
        plot.addItem(self.item)
        self.caption = pg.TextItem("", color=foreground, anchor=(1, 0))
        cf = QFont()
        cf.setPointSizeF(label_pt * 1.4)
        self.caption.setFont(cf)
        self.caption.setPos(QPointF(self.n - 0.5, 1.12))
        plot.addItem(self.caption)
        self._scale = _Scale()
        self.setMinimumHeight(90)

    def show_distribution(self, mixed: np.ndarray, colour_idx: np.ndarray | None, brushes: list[QBrush],
                          chosen: int | None) -> None:
        top = self._scale(float(mixed.max()) if mixed.size else 0.0)
        self.item.set_bars(mixed / top, colour_idx, brushes, chosen)
        best = np.argsort(mixed)[::-1][:4]
        self.caption.setText("   ".join(f"{char_label(CHARS[i])} {mixed[i] * 100:.0f}%" for i in best))


class StyleMultiples(pg.GraphicsLayoutWidget):
    """Small multiples: the distribution of each active style, in its colour, most weighted first.

    A fixed row of slots, always laid out: a change of the active set only changes labels and bars,
    never the layout (re-laying out a pyqtgraph grid costs tens of milliseconds).
    """

    def __init__(self, max_plots: int, title_pt: float, background: str, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        _opaque(self, background)
        self.n = len(CHARS)
        self.max_plots = max_plots
        self.ci.setSpacing(6)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.items: list[BarsItem] = []
        self.labels: list[pg.TextItem] = []
        self.scales: list[_Scale] = []
        font = QFont()
        font.setPointSizeF(title_pt)
        font.setBold(True)
        for i in range(max_plots):
            p = pg.PlotItem()
            _plain_plot(p, self.n)
            p.setYRange(-0.01, 1.35, padding=0)
            p.hideAxis("bottom")
            it = BarsItem(self.n, 0.9)
            p.addItem(it)
            label = pg.TextItem("", anchor=(0, 0))
            label.setFont(font)
            label.setPos(QPointF(-0.5, 1.35))
            p.addItem(label)
            self.ci.addItem(p, row=0, col=i)
            self.items.append(it)
            self.labels.append(label)
            self.scales.append(_Scale())
        self._shown: list[tuple[str, str]] = [("", "")] * max_plots
        self.setMinimumHeight(60)

    def show_styles(self, rows: list[tuple[str, str, np.ndarray, float]], chosen: int | None) -> None:
        """rows: (display name, colour, distribution, weight), most important first; extra rows are dropped."""
        rows = rows[: self.max_plots]
        for i in range(self.max_plots):
            if i < len(rows):
                name, colour, dist, weight = rows[i]
                if self._shown[i] != (name, colour):
                    self.labels[i].setText(name, color=colour)
                    self._shown[i] = (name, colour)
                top = self.scales[i](float(dist.max()) if dist.size else 0.0)
                alpha = 0.35 + 0.65 * min(1.0, weight * 2)
                self.items[i].set_bars(dist / top, None, [_brush(colour, alpha)], chosen)
            elif self._shown[i] != ("", ""):
                self.labels[i].setText("")
                self.items[i].set_bars(np.zeros(self.n), None, [_brush("#000000", 0.0)])
                self._shown[i] = ("", "")


_BRUSHES: dict[tuple[str, float], QBrush] = {}


def _brush(colour: str, alpha: float) -> QBrush:
    key = (colour, round(alpha, 2))
    b = _BRUSHES.get(key)
    if b is None:
        c = QColor(colour)
        c.setAlphaF(key[1])
        b = _BRUSHES[key] = QBrush(c)
    return b
