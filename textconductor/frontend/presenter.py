"""The presenter overlay (key `P`): labels laid over the window that say what the audience is looking at.

A speaker explaining the instrument needs the three facts the window cannot say by itself: the bars
are the next character's probabilities, a letter's colour is the style that chose it, the puck is
the mix. One key puts a captioned outline over each visible panel and takes it away again, so the
same window serves the explanation and the performance.

A transparent child laid over the central widget (it never takes the mouse), following the panels
it labels as they resize or hide. Each note is a band along the top of its panel, where the panels
keep least (the oldest lines of text, the bars' headroom); the puck, which has no free top, draws
its circle below the band while it is shown (`Note.reserve`).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QWidget

from textconductor.frontend.theme import Theme

LEFT, RIGHT = "left", "right"


@dataclass
class Note:
    """One label: what it explains (`key`), the panel it sits on, its rich text, the side of the panel's
    top it takes and its share of the panel's width; `reserve(pixels)`: the panel keeps that much of
    its top free while the note is shown (0 when it goes)."""

    key: str
    target: QWidget
    text: Callable[[], str]
    side: str = LEFT
    share: float = 1.0
    reserve: Callable[[int], None] | None = None


def legend(entries: list[tuple[str, str]], limit: int = 8) -> str:
    """Rich text: each (name, colour) as a coloured square and name; more than `limit` end in '…'."""
    parts = [f'<span style="color:{c}">■&nbsp;{html.escape(n)}</span>' for n, c in entries[:limit]]
    if len(entries) > limit:
        parts.append("…")
    return " &nbsp; ".join(parts)


def standard_notes(text: QWidget, bars: QWidget, puck: QWidget, others: dict[str, QWidget],
                   colour_legend: Callable[[], list[tuple[str, str]]],
                   reserves: dict[str, Callable[[int], None]] | None = None) -> list[Note]:
    """The notes of the main window. `colour_legend`: the styles now writing, as (name, text colour);
    `reserves`: by note key, how a panel keeps its top free for its note (bars, puck)."""
    reserves = reserves or {}
    def text_note() -> str:
        entries = colour_legend()
        key = f"<br>{legend(entries)}" if entries else ""
        return f"<b>The text:</b> each letter's colour is the style that chose it.{key}"
    notes = [
        Note("text", text, text_note, RIGHT, 0.55),
        Note("bars", bars, lambda: "<b>The bars:</b> the next character's probabilities. "
                                   "The outlined one was drawn.", LEFT, 0.46, reserves.get("bars")),
        Note("puck", puck, lambda: "<b>The puck is the mix:</b> the nearer a style, the more of it writes.",
             LEFT, 1.0, reserves.get("puck")),
    ]
    extra = {"multiples": "<b>Each style alone:</b> its own guess at the next character, before mixing.",
             "sliders": "<b>The sliders:</b> the same mix, one weight per style.",
             "styles": "<b>Styles:</b> every style loaded; click one to bring it into the mix."}
    for key, widget in others.items():
        if key in extra:
            notes.append(Note(key, widget, lambda t=extra[key]: t))
    return notes


class PresenterOverlay(QWidget):
    """Captioned outlines over the panels in `notes`; hidden until `set_shown(True)` (key P)."""

    MARGIN = 14

    def __init__(self, host: QWidget, notes: list[Note], theme: Theme) -> None:
        super().__init__(host)
        self.setObjectName("presenter")
        self.host, self.notes = host, notes
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        c = theme.colours
        self.accent = QColor(c["accent"])
        font_pt = theme.pt("ui_pt") * 1.25
        bg = QColor(c["panel"])
        self.setStyleSheet(
            f"QWidget#presenter {{ background: transparent; }}"
            f"QLabel {{ background: rgba({bg.red()}, {bg.green()}, {bg.blue()}, 235); color: {c['foreground']};"
            f" border: 2px solid {c['accent']}; border-radius: 8px; padding: 6px 12px; font-size: {font_pt:.1f}pt; }}")
        self.labels: dict[str, QLabel] = {}
        for note in notes:
            lab = QLabel(self)
            lab.setObjectName(f"presenter-{note.key}")
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setWordWrap(True)
            self.labels[note.key] = lab
        self._boxes: list[QRect] = []
        self._timer = QTimer(self)  # coalesces the resize/move events of a relayout into one placement
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        for w in [host, *(n.target for n in notes)]:
            w.installEventFilter(self)
        self.hide()

    @property
    def shown(self) -> bool:
        return not self.isHidden()

    def toggle(self) -> bool:
        self.set_shown(not self.shown)
        return self.shown

    def set_shown(self, on: bool) -> None:
        if on:
            self.refresh()
            self.show()
            self.raise_()
        else:
            self.hide()
            for note in self.notes:
                if note.reserve is not None:
                    note.reserve(0)

    def visible_labels(self) -> dict[str, str]:
        """What the audience can read now: key -> plain text of every label shown."""
        if not self.shown:
            return {}
        return {k: lab.text() for k, lab in self.labels.items() if not lab.isHidden()}

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        if self.shown and ev.type() in (QEvent.Type.Resize, QEvent.Type.Move, QEvent.Type.Show,
                                        QEvent.Type.Hide, QEvent.Type.LayoutRequest):
            self._timer.start()
        return False

    def refresh(self) -> None:
        """Re-read the notes (the colour legend follows the mix) and lay them over their panels."""
        self.setGeometry(self.host.rect())
        self._boxes = []
        for note in self.notes:
            lab = self.labels[note.key]
            t = note.target
            if not t.isVisibleTo(self.host) or t.width() < 40 or t.height() < 30:
                lab.hide()
                continue
            box = QRect(t.mapTo(self.host, QPoint(0, 0)), t.size())
            self._boxes.append(box)
            lab.setText(note.text())
            m = self.MARGIN
            width = max(120, min(box.width() - 2 * m, round(box.width() * note.share)))
            height = min(lab.heightForWidth(width), max(box.height() // 2, 30))
            left = box.left() + m if note.side == LEFT else box.right() - m - width
            lab.setGeometry(left, box.top() + m, width, height)
            lab.show()
            if note.reserve is not None:
                note.reserve(height + 2 * m)
        self.raise_()
        self.update()

    def paintEvent(self, _e: QPaintEvent) -> None:
        """A dashed outline around each labelled panel: which part of the window a label means."""
        p = QPainter(self)
        pen = QPen(self.accent, 3, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for box in self._boxes:
            p.drawRect(box.adjusted(2, 2, -3, -3))
        p.end()
