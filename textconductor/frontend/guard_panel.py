"""The loop guard in the window: its switch and strength, a counter in the status line, marks in the text.

The engine guards the text by itself (`/tc/guard`, on by default; docs/osc.md): it steers out of
loops, cuts endless whitespace and masks the operator's blocked words. The performer needs to see
that it happens and to be able to turn it down, because a guard acting is a change in the text
they did not make. So:

* a switch and a strength slider in the status line (named `guard` and `guard_strength`, the same
  words as `controls.CONTROLS` and the MIDI targets, so MIDI learn arms them by a click);
* beside them a counter: loop acts, blocklist masks and whitespace cuts this window saw, the
  engine's totals since its start in the tooltip;
* a faint dotted underline under each character a guard acted on (`[text] guard_marks` in
  frontend.toml), tinted by kind. Dotted and translucent, under the line rather than over the
  glyph, so the text stays as readable as before from the back of a room (talk mode).

State lives in the Qt-free `Performer` (`loop_guard`, `guard_acts`) and `GuardMarks`; this module
only draws them and reports clicks back. `GuardView(window)` builds and wires it all; the main
window adds one line to create it and one to mark each frame's text.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPlainTextEdit, QSlider, QWidget

from textconductor import protocol
from textconductor.frontend.guard_marks import GuardMarks
from textconductor.frontend.panels import ElidedLabel

if TYPE_CHECKING:
    from textconductor.frontend.main_window import MainWindow

log = logging.getLogger(__name__)

STEPS = 100  # the strength slider's resolution
LOOP_KINDS = ("loop", "run")  # an escape began; one character repeated past the limit
CUT_KINDS = ("whitespace", "repeat-char")  # a run cut short
MASK_KINDS = ("blocklist",)
DEFAULT_MARK_ALPHA = 0.45


class GuardControl(QWidget):
    """The switch and the strength (0..1) of the loop guard, for the status line."""

    switched = Signal(bool)
    strength = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guard-panel")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.switch = QCheckBox("guard")
        self.switch.setObjectName("guard")
        self.switch.setChecked(protocol.Guards().on)
        self.switch.setToolTip("The engine's loop guard: steers the text out of loops and endless whitespace")
        self.switch.toggled.connect(self.switched.emit)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("guard_strength")
        self.slider.setRange(0, STEPS)
        self.slider.setValue(round(protocol.Guards().strength * STEPS))
        self.slider.setFixedWidth(70)
        self.slider.setToolTip("How hard the loop guard steers (0 does nothing)")
        self.slider.valueChanged.connect(lambda v: self.strength.emit(v / STEPS))
        for w in (self.switch, self.slider):
            w.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        row.addWidget(self.switch)
        row.addWidget(self.slider)

    def show_guards(self, g: protocol.Guards) -> None:
        """Show the engine's (or the performer's) setting without reporting it back as a change."""
        for w, set_value in ((self.switch, lambda: self.switch.setChecked(bool(g.on))),
                             (self.slider, lambda: self.slider.setValue(round(float(g.strength) * STEPS)))):
            if w is self.slider and self.slider.isSliderDown():
                continue  # do not fight the performer's hand
            w.blockSignals(True)
            set_value()
            w.blockSignals(False)
        self.slider.setEnabled(bool(g.on))


def counter_text(g: protocol.Guards, acts: dict[str, int]) -> str:
    """The status line's guard counter: the setting, then what this window saw the guards do."""
    loops = sum(acts.get(k, 0) for k in LOOP_KINDS)
    masks = sum(acts.get(k, 0) for k in MASK_KINDS)
    cuts = sum(acts.get(k, 0) for k in CUT_KINDS)
    setting = f"guard {g.strength:.0%}" if g.on else "guard off"
    return f"{setting} · loops {loops} · masks {masks} · cuts {cuts}"


def counter_tooltip(g: protocol.Guards) -> str:
    return (f"Since the engine started: the loop guard acted {g.loop_acts} times on {g.loop_chars} characters "
            f"(escape: {g.escape}); the blocklist ({g.blocklist} entries) masked {g.blocked} characters and "
            f"dropped {g.prime_dropped} words from primes.\nThe counts on the line are what this window saw; "
            f"a dotted underline marks each place in the text.")


def mark_format(colour: str, alpha: float) -> QTextCharFormat:
    """A faint dotted underline in `colour` (merged into a character's own format: its tint stays)."""
    c = QColor(colour)
    c.setAlphaF(min(max(alpha, 0.0), 1.0))
    fmt = QTextCharFormat()
    fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
    fmt.setUnderlineColor(c)
    return fmt


def mark_characters(view: QPlainTextEdit, batch: int, marks: list[tuple[int, str]],
                    formats: dict[str, QTextCharFormat]) -> int:
    """Underline the marked characters of the `batch` characters just appended at the end of `view`;
    offsets count from the batch's start. Returns how many were marked (one trimmed away is not)."""
    doc = view.document()
    end = doc.characterCount() - 1  # the document's last position is its closing paragraph separator
    start = end - batch
    done = 0
    cur = QTextCursor(doc)
    for offset, kind in marks:
        pos = start + offset
        fmt = formats.get(kind)
        if fmt is None or not 0 <= offset < batch or pos < 0:
            continue
        cur.setPosition(pos)
        cur.setPosition(pos + 1, QTextCursor.MoveMode.KeepAnchor)
        cur.mergeCharFormat(fmt)
        done += 1
    return done


class GuardView:
    """Builds the guard's widgets into `window` and keeps them, and the text's marks, up to date."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        perf = window.performer
        c = window.theme.colours
        text_cfg = window.theme.text
        self.marks_on = bool(text_cfg.get("guard_marks", True))
        alpha = float(text_cfg.get("guard_mark_alpha", DEFAULT_MARK_ALPHA))
        colour = {"loop": c["accent"], "run": c["accent"], "whitespace": c["muted"], "repeat-char": c["muted"],
                  "blocklist": c["offline"]}
        self.formats = {k: mark_format(v, alpha) for k, v in colour.items()}
        self.marks = GuardMarks()
        self.control = GuardControl()
        # elided like the status line's other long entries: it must never widen the window past the screen
        self.counter = ElidedLabel(counter_text(perf.loop_guard, perf.guard_acts))
        self.counter.setObjectName("guard-counter")
        self.counter.setToolTip(counter_tooltip(perf.loop_guard))
        # Both in the status line, beside each other: the controls row is already as wide as a 1280x720
        # screen allows, and the switch reads best next to what it counts.
        status = window.status
        at = status.layout().indexOf(status.rejected) + 1
        status.layout().insertWidget(at, self.control)
        status.layout().insertWidget(at + 1, self.counter)
        self.control.switched.connect(lambda on: window.control("guard", int(on)))
        self.control.strength.connect(lambda v: window.control("guard_strength", v))
        link = window.link
        link.guards.connect(perf.on_guards)
        link.guarded.connect(self.marks.guarded)
        link.guarded.connect(perf.on_guarded)
        # the stream's queue, followed in the same order the window fills it (see GuardMarks)
        link.ticks.connect(self.marks.ticks)
        link.primed.connect(self.marks.text)
        perf.events.loop_guard_changed.connect(self._show)
        perf.events.guarded.connect(lambda _g: self._show(perf.loop_guard))
        perf.events.cleared.connect(self.marks.clear)

    def _show(self, g: protocol.Guards) -> None:
        self.control.show_guards(g)
        self.counter.setText(counter_text(g, self.window.performer.guard_acts))
        self.counter.setToolTip(counter_tooltip(g))

    def mark(self, runs: list[tuple[str, str | None]], views: list[QPlainTextEdit]) -> None:
        """After a frame's `runs` were appended to `views`: underline the characters a guard acted on."""
        queued, marks = self.marks.take()
        if not marks or not self.marks_on:
            return
        batch = sum(len(text) for text, _ in runs)
        if batch != queued:
            log.debug("guard marks: %d characters queued, %d drawn", queued, batch)
        for view in views:
            mark_characters(view, batch, marks, self.formats)
