"""The puck: enabled styles on a circle, a draggable puck, lines showing each style's weight.

The widget only draws and reports drags; the weight law is `puck_geometry.puck_weights`. When weights
come from elsewhere (sliders, presets, MIDI) the window calls `show_weights`, which moves the puck
to the weights' centroid for display without recomputing weights from it: the lines always show
the weights actually sent.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from textconductor.protocol import puck_geometry as puck_math

RADIAL_FROM = 11  # from this many styles on, labels run along the spokes (two-line labels would overlap)


class PuckWidget(QWidget):
    moved = Signal(float, float)  # puck position in circle units (y up), from a drag

    def __init__(self, label_pt: float, colours: dict[str, str], snap_radius: float,
                 parent: QWidget | None = None, simple: bool = False) -> None:
        super().__init__(parent)
        self.snap_radius = snap_radius
        # talk mode: only the styles in the mix are named, on one line each (24 labels are noise from afar)
        self.simple = simple
        self.reserved_top = 0.0  # pixels at the top kept free (the presenter overlay's note sits there)
        self.colours = colours
        self.label_pt = label_pt
        self.names: list[str] = []  # display names of enabled styles, in order
        self.style_colours: list[str] = []
        self.positions = np.zeros((0, 2))
        self.weights = np.zeros(0)
        self.puck = np.zeros(2)
        self._dragging = False
        self._font = QFont()
        self._font.setPointSizeF(label_pt)
        self._font.setBold(True)
        self._label_size = (80.0, 40.0)
        self._radial_font = QFont(self._font)
        self._radial_font.setPointSizeF(label_pt * 0.8)
        self._simple_font = QFont(self._font)  # one line per label beside a wide circle: a little smaller
        self._simple_font.setPointSizeF(label_pt * 0.9)
        self._radial_width = 80.0
        self.setMinimumSize(220, 220)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def set_styles(self, names: list[str], colours: list[str]) -> None:
        self.names, self.style_colours = list(names), list(colours)
        metrics = QFontMetricsF(self._font)
        widest = max([metrics.horizontalAdvance(n) for n in names] + [metrics.horizontalAdvance("100%")])
        self._label_size = (widest + 10, 2 * metrics.lineSpacing() + 4)
        radial = QFontMetricsF(self._radial_font)
        self._radial_width = max([radial.horizontalAdvance(f"{n} 100%") for n in names] + [40.0]) + 6
        self.positions = puck_math.style_positions(len(names))
        if len(self.weights) != len(names):
            self.weights = np.zeros(len(names))
        self.update()

    def reserve_top(self, pixels: float) -> None:
        """Keep `pixels` at the top free of the circle (a note laid over the panel must not hide it)."""
        self.reserved_top = max(0.0, float(pixels))
        self.update()

    def show_weights(self, weights: np.ndarray, move_puck: bool = True) -> None:
        """Display these (raw) weights of the enabled styles; optionally move the puck to match."""
        w = np.asarray(weights, dtype=float)
        total = w.sum()
        self.weights = w / total if total > 0 else w
        if move_puck:
            self.puck = puck_math.puck_from_weights(self.weights, self.positions)
        self.update()

    def set_puck(self, x: float, y: float) -> np.ndarray:
        """Move the puck (circle units) and return the normalised weights it gives."""
        self.puck = puck_math.clamp_to_disc(np.array([x, y], dtype=float))
        self.weights = puck_math.puck_weights(self.puck, self.positions, self.snap_radius)
        self.update()
        return self.weights

    # -- geometry ------------------------------------------------------------------------------
    @staticmethod
    def _icon(r: float) -> float:
        return max(9.0, r * 0.085)

    def _radial(self) -> bool:
        return len(self.names) >= RADIAL_FROM

    def _radial_margin(self) -> float:
        """Room for a label along its spoke; names longer than this are elided."""
        return min(self._radial_width, 0.42 * min(self.width(), self.height()) / 2)

    def _simple_frame(self) -> tuple[QPointF, float, float]:
        """Simple mode: centre and radius of the circle, and the room left beside it for a one-line label
        (labels sit 1.6 icon radii out, icon = 0.085 r). The circle leaves a label at most 30% of the
        width; whatever the height does not let it use goes to the labels too."""
        w, h = float(self.width()), float(self.height()) - self.reserved_top
        metrics = QFontMetricsF(self._simple_font)
        widest = max([metrics.horizontalAdvance(f"{n} 100%") for n in self.names] + [40.0]) + 4
        r = min(w / 2 - min(widest, 0.3 * w) - 6, h / 2 - metrics.lineSpacing() - 6) / 1.14
        r = max(r, 30.0)
        return QPointF(w / 2, self.reserved_top + h / 2), r, max(w / 2 - r * 1.14 - 6, 40.0)

    def _frame(self) -> tuple[QPointF, float]:
        """Centre and radius of the style circle: as large as the widget allows with every label inside."""
        w, h = float(self.width()), float(self.height())
        if self.simple:
            c, r, _room = self._simple_frame()
            return c, r
        if self._radial():  # labels outside the icons (1.5 icon radii out), icon = 0.085 r
            r = (min(w, h) / 2 - self._radial_margin() - 6) / 1.13
            return QPointF(w / 2, h / 2), max(r, 30.0)
        lw, lh = self._label_size
        r = min(w / 2 - lw / 2 - 4, (h / 2 - lh - 8) / 1.1, min(w, h) / 2 * 0.85)
        return QPointF(w / 2, h / 2), max(r, 30.0)

    def to_screen(self, xy: np.ndarray) -> QPointF:
        c, r = self._frame()
        return QPointF(c.x() + xy[0] * r, c.y() - xy[1] * r)

    def from_screen(self, p: QPointF) -> tuple[float, float]:
        c, r = self._frame()
        return (p.x() - c.x()) / r, (c.y() - p.y()) / r

    # -- events --------------------------------------------------------------------------------
    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            self._drag_to(e.position())

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if self._dragging:
            self._drag_to(e.position())

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if self._dragging:
            self._drag_to(e.position())
            self._dragging = False
            self.setCursor(Qt.CursorShape.OpenHandCursor)

    def _drag_to(self, p: QPointF) -> None:
        x, y = self.from_screen(p)
        xy = puck_math.clamp_to_disc(np.array([x, y]))
        self.moved.emit(float(xy[0]), float(xy[1]))

    def paintEvent(self, _e: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor(self.colours["panel"]))
        c, r = self._frame()
        p.setPen(QPen(QColor(self.colours["panel_edge"]), 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(c, r, r)
        puck = self.to_screen(self.puck)
        icon = self._icon(r)
        p.setFont(self._font)
        w = self.weights if len(self.weights) == len(self.names) else np.zeros(len(self.names))
        for i, colour in enumerate(self.style_colours):
            s = self.to_screen(self.positions[i])
            col = QColor(colour)
            if w[i] > 0.005:  # the line: thickness and opacity show the weight
                line = QColor(col)
                line.setAlphaF(0.25 + 0.75 * float(w[i]))
                p.setPen(QPen(line, 1.0 + 14.0 * float(w[i]), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                p.drawLine(puck, s)
            p.setPen(QPen(QColor(self.colours["background"]), 2))
            p.setBrush(QBrush(col))
            p.drawEllipse(s, icon * (0.8 + 0.6 * float(w[i])), icon * (0.8 + 0.6 * float(w[i])))
        if self.simple:
            self._paint_simple_labels(p, icon, w)
        elif self._radial():
            self._paint_radial_labels(p, icon, w)
        else:
            self._paint_labels(p, icon, w)
        p.setPen(QPen(QColor(self.colours["foreground"]), 2.5))
        p.setBrush(QColor(self.colours["accent"]))
        p.drawEllipse(puck, icon * 1.1, icon * 1.1)
        p.end()

    def _paint_labels(self, p: QPainter, icon: float, w: np.ndarray) -> None:
        for i, (name, colour) in enumerate(zip(self.names, self.style_colours, strict=True)):
            # two lines (name, weight) centred on the icon, above it in the upper half, below it otherwise,
            # so a label needs only half its width beside the circle (see _frame)
            s = self.to_screen(self.positions[i])
            lw, lh = self._label_size
            top = s.y() - icon * 1.4 - lh if self.positions[i][1] > 0.05 else s.y() + icon * 1.4
            rect = QRectF(s.x() - lw / 2, top, lw, lh)
            rect.moveLeft(min(max(rect.left(), 2.0), self.width() - rect.width() - 2.0))
            rect.moveTop(min(max(rect.top(), 2.0), self.height() - rect.height() - 2.0))
            p.setPen(QColor(colour) if w[i] > 0.005 else QColor(self.colours["muted"]))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"{name}\n{w[i] * 100:.0f}%")

    def _paint_simple_labels(self, p: QPainter, icon: float, w: np.ndarray) -> None:
        """Simple mode: "Name 47%" on one line, outside the circle beside its icon, for the styles in
        the mix only; the text runs away from the circle whichever side the style is on."""
        p.setFont(self._simple_font)
        metrics = QFontMetricsF(self._simple_font)
        lh, room = metrics.lineSpacing(), self._simple_frame()[2]
        gap = icon * 1.6
        for i, (name, colour) in enumerate(zip(self.names, self.style_colours, strict=True)):
            if w[i] <= 0.005:
                continue
            x, y = self.positions[i]
            s = self.to_screen(self.positions[i])
            ax, ay = s.x() + x * gap, s.y() - y * gap
            suffix = f" {w[i] * 100:.0f}%"
            text = metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                      room - metrics.horizontalAdvance(suffix)) + suffix
            tw = metrics.horizontalAdvance(text) + 2
            left = ax if x > 0.35 else ax - tw if x < -0.35 else ax - tw / 2
            top = ay - lh if y > 0.35 else ay if y < -0.35 else ay - lh / 2
            left = min(max(left, 2.0), self.width() - tw - 2.0)
            top = min(max(top, self.reserved_top), self.height() - lh)
            p.setPen(QColor(colour))
            p.drawText(QRectF(left, top, tw, lh), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_radial_labels(self, p: QPainter, icon: float, w: np.ndarray) -> None:
        """One line per style along its spoke, reading outwards, never upside down: with many styles
        the neighbours are far apart along the circle but close across it, so a label's height
        (not its width) is what must fit between them."""
        p.setFont(self._radial_font)
        metrics = QFontMetricsF(self._radial_font)
        margin, lh = self._radial_margin(), metrics.lineSpacing()
        gap = icon * 1.5
        for i, (name, colour) in enumerate(zip(self.names, self.style_colours, strict=True)):
            x, y = self.positions[i]
            weighted = w[i] > 0.005
            suffix = f" {w[i] * 100:.0f}%" if weighted else ""
            text = metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                      margin - metrics.horizontalAdvance(suffix)) + suffix
            p.save()
            p.translate(self.to_screen(self.positions[i]))
            p.rotate(float(np.degrees(np.arctan2(-y, x))))  # +x now points out along the spoke
            if x < -1e-9:  # left half: turn the text over and right-align it towards the icon
                p.rotate(180.0)
                rect, align = QRectF(-gap - margin, -lh / 2, margin, lh), Qt.AlignmentFlag.AlignRight
            else:
                rect, align = QRectF(gap, -lh / 2, margin, lh), Qt.AlignmentFlag.AlignLeft
            p.setPen(QColor(colour) if weighted else QColor(self.colours["muted"]))
            p.drawText(rect, align | Qt.AlignmentFlag.AlignVCenter, text)
            p.restore()
