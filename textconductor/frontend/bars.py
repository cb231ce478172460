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
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from textconductor.protocol.charset import CHARS

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

    def paint(self, p, *args) -> None:  # (Qt signature)
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
    """An opaque, cheap view: Qt never repaints the (style-sheeted, costly) parents behind it, and the
    view repaints one bounding rectangle instead of computing a minimal region (measured faster here)."""
    view.setBackground(background)
    view.setRenderHints(QPainter.RenderHint(0))
    view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
    view.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    view.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)


def _plain_plot(plot: pg.PlotItem, n: int, top: float = 1.12) -> None:
    plot.setMouseEnabled(False, False)
    plot.hideButtons()
    plot.setMenuEnabled(False)
    plot.getViewBox().setDefaultPadding(0.0)
    plot.setXRange(-0.6, n - 0.4, padding=0)
    plot.setYRange(-0.01, top, padding=0)
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
    """The mixed distribution over the whole character set, labelled by character.

    `simple` (talk mode): the 97 tiny character labels under the axis, unreadable from the back of a
    hall, give way to large labels over the likeliest bars only, and a plain-words caption.
    """

    TOP_LABELS = 4

    def __init__(self, label_pt: float, foreground: str, background: str, parent: QWidget | None = None,
                 simple: bool = False) -> None:
        super().__init__(parent=parent)
        _opaque(self, background)
        self.n = len(CHARS)
        self.simple = simple
        self._base_top = top = 1.42 if simple else 1.12  # simple: headroom for the labels over the bars
        self._reserved = 0
        plot = self.getPlotItem()
        _plain_plot(plot, self.n, top)
        axis = plot.getAxis("bottom")
        f = QFont()
        f.setPointSizeF(label_pt)
        axis.setStyle(tickFont=f, tickLength=0, tickTextOffset=2, showValues=not simple)
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
        self.caption.setPos(QPointF(self.n - 0.5, top))
        self.caption.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.addItem(self.caption)
        self.top_labels: list[pg.TextItem] = []
        self._top_texts: list[str] = []
        if simple:
            lf = QFont()
            lf.setPointSizeF(label_pt * 2.2)
            lf.setBold(True)
            self._label_w = QFontMetricsF(lf).horizontalAdvance("W")
            for _ in range(self.TOP_LABELS):
                item = pg.TextItem("", color=foreground, anchor=(0.5, 1))
                item.setFont(lf)
                plot.addItem(item)
                self.top_labels.append(item)
                self._top_texts.append("")
        self._scale = _Scale()
        self.setMinimumHeight(90)

    def reserve_top(self, pixels: int) -> None:
        """Keep `pixels` at the top free of bars and labels (a note laid over the panel must not hide the
        tallest bar): the y range grows above the bars instead of the bars being covered."""
        self._reserved = max(0, int(pixels))
        self._apply_range()

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        if getattr(self, "_reserved", 0):  # (pyqtgraph resizes the view while it is being built)
            self._apply_range()

    def _apply_range(self) -> None:
        base = self._base_top
        g = min(0.8, self._reserved / max(self.height(), 1))
        top = (base + 0.01 * g) / (1 - g)  # (top - base) is then `g` of the range -0.01..top
        self.getPlotItem().setYRange(-0.01, top, padding=0)
        self.caption.setPos(QPointF(self.n - 0.5, top))

    def show_distribution(self, mixed: np.ndarray, colour_idx: np.ndarray | None, brushes: list[QBrush],
                          chosen: int | None) -> None:
        # Square-root heights: a peaked distribution (94% on one character) still shows its runners-up,
        # which are the "why"; the caption gives the exact top probabilities.
        root = np.sqrt(np.clip(mixed, 0.0, None))
        top = self._scale(float(root.max()) if root.size else 0.0)
        heights = root / top
        self.item.set_bars(heights, colour_idx, brushes, chosen)
        best = np.argsort(mixed)[::-1][:4]
        top4 = "   ".join(f"{char_label(CHARS[i])} {mixed[i] * 100:.0f}%" for i in best)
        if self.simple:
            self.caption.setText("next character:   " + top4)
            self._label_top(best, heights, mixed)
        else:
            self.caption.setText(top4 + "    (height ∝ √p)")

    def _label_top(self, best: np.ndarray, heights: np.ndarray, mixed: np.ndarray) -> None:
        """The likeliest characters written over their bars: those of at least 1%, and none crowding a
        likelier neighbour's label. Text is re-set only when it changes (a TextItem re-lays itself
        out on every setText)."""
        placed: list[int] = []
        gap = max(2.0, 1.2 * self._label_w * self.n / max(self.width(), 1))  # in bars: a label's width and some
        for k, item in enumerate(self.top_labels):
            i = int(best[k]) if k < len(best) else -1
            if i < 0 or mixed[i] < 0.01 or any(abs(i - j) < gap for j in placed):
                item.setVisible(False)
                continue
            placed.append(i)
            label = char_label(CHARS[i])
            if self._top_texts[k] != label:
                item.setText(label)
                self._top_texts[k] = label
            item.setPos(QPointF(i, min(float(heights[i]), 1.0) + 0.02))
            item.setVisible(True)


class StyleMultiples(QWidget):
    """Small multiples: the distribution of each active style, in its colour, most weighted first.

    Painted directly with QPainter rather than as pyqtgraph plots: measured on the 2-core machine,
    four pyqtgraph PlotItems cost several milliseconds per frame (view, layout, label items), while
    one widget filling ~400 rectangles costs well under one. Same √p scale as the mixed bars.
    """

    def __init__(self, max_plots: int, title_pt: float, background: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.n = len(CHARS)
        self.max_plots = max_plots
        self.background = QColor(background)
        self.font_ = QFont()
        self.font_.setPointSizeF(title_pt)
        self.font_.setBold(True)
        self.rows: list[tuple[str, str, np.ndarray, float]] = []
        self.chosen: int | None = None
        self.scales = [_Scale() for _ in range(max_plots)]
        self._hl_pen = QPen(QColor("#ffffff"))
        self._hl_pen.setWidthF(1.5)
        self.setMinimumHeight(60)

    def labels(self) -> list[str]:
        return [r[0] for r in self.rows]

    def show_styles(self, rows: list[tuple[str, str, np.ndarray, float]], chosen: int | None) -> None:
        """rows: (display name, colour, distribution, weight), most important first; extra rows are dropped."""
        self.rows = []
        for i, (name, colour, dist, weight) in enumerate(rows[: self.max_plots]):
            root = np.sqrt(np.clip(dist, 0.0, None))
            top = self.scales[i](float(root.max()) if root.size else 0.0)
            self.rows.append((name, colour, root / top, weight))
        self.chosen = chosen
        self.update()

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.background)
        if not self.rows:
            p.end()
            return
        gap, w, h = 14.0, float(self.width()), float(self.height())
        cell = (w - gap * (len(self.rows) - 1)) / len(self.rows)
        p.setFont(self.font_)
        label_h = QFontMetricsF(self.font_).height() + 4
        base, plot_h = h - 4, max(10.0, h - label_h - 8)
        bar_w = cell / self.n
        for k, (name, colour, heights, weight) in enumerate(self.rows):
            x0 = k * (cell + gap)
            col = QColor(colour)
            p.setPen(col)
            p.drawText(QRectF(x0 + 2, 2, cell - 4, label_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       f"{name}  {weight * 100:.0f}%")
            a, bg = 0.45 + 0.55 * min(1.0, weight * 2), self.background
            # pre-blended, opaque: alpha-blending large fills is the costliest thing a raster paint does
            fill = QColor.fromRgbF(col.redF() * a + bg.redF() * (1 - a), col.greenF() * a + bg.greenF() * (1 - a),
                                   col.blueF() * a + bg.blueF() * (1 - a))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(fill)
            idx = np.flatnonzero(heights > 1e-3)
            p.drawRects([QRectF(x0 + i * bar_w, base - heights[i] * plot_h, max(bar_w * 0.85, 1.0),
                                heights[i] * plot_h) for i in idx])
            if self.chosen is not None and 0 <= self.chosen < self.n:
                hh = max(heights[self.chosen] * plot_h, 2.0)
                p.setPen(self._hl_pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QRectF(x0 + self.chosen * bar_w - 1, base - hh, bar_w * 0.85 + 2, hh))
        p.end()
