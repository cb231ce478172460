"""The main window: renders a `Performer` (the Qt-free state) and talks to the engine through `EngineLink`.

State flows one way: a panel reports what the performer did, the window hands it to the performer
model, which updates its state and emits the engine commands (sent here through the link) and change
events (redrawn here). So sliders, puck, presets and controllers (through the `ControlSink` methods)
always agree, and a display update never echoes back as a control.

Rendering is decoupled from arrival (`stream.TickStream`): ticks are queued as they come, and a timer
at the display rate appends the queued text and draws the bars of the latest tick only.

The pieces live apart: widgets and layout (`window_widgets`), shortcuts and the View menu
(`window_actions`), the stylesheet, the output window, bar colouring (`bar_colours`), the
controllers' menus (`controller_hub`, `midi_menu`) and the `ControlSink` side with the performer's
state as read off the window (`window_sink`). This module wires them together.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QMainWindow

from textconductor import protocol
from textconductor.frontend.bar_colours import BarColours
from textconductor.frontend.burn_in import BurnInSettings
from textconductor.frontend.burn_in_shift import BurnInShift
from textconductor.frontend.controller_api import WindowControllers
from textconductor.frontend.controller_hub import ControllerHub, HubParts
from textconductor.frontend.crowd import attach_crowd
from textconductor.frontend.curation import Curation
from textconductor.frontend.guard_panel import GuardView
from textconductor.frontend.link import EngineLink
from textconductor.frontend.output_window import OutputWindow
from textconductor.frontend.performer import Performer
from textconductor.frontend.placement import (
    FullscreenToggle,
    cap_ratio,
    primary_screen,
    screen_of,
    screens,
    show_fitted,
)
from textconductor.frontend.presenter import PresenterOverlay, standard_notes
from textconductor.frontend.presets import PresetStore
from textconductor.frontend.provenance_marks import attach as attach_verbatim
from textconductor.frontend.score_menu import ScoreMenu
from textconductor.frontend.screen_fit import Fit, Rect, fit_output, fit_window
from textconductor.frontend.stream import TickStream
from textconductor.frontend.stylesheet import stylesheet
from textconductor.frontend.theme import StyleLook, Theme
from textconductor.frontend.window_actions import build_view_menu, install_shortcuts
from textconductor.frontend.window_sink import Invoker, WindowSink
from textconductor.frontend.window_widgets import build_layout, make_widgets

log = logging.getLogger(__name__)


class MainWindow(WindowSink, QMainWindow):
    """The instrument. Implements `textconductor.controllers.base.ControlSink`.

    `controllers`: what the top layer injected (MIDI, autopilot, hands); without them the window has
    no MIDI or Controllers menu. `performer`: the state to render (a fresh one by default). `fit`: where
    `show_fitted` puts the window and the text's pixel size (`screen_fit`; None: decided from the
    primary screen when shown, with the theme's fonts).
    """

    weights_sent = Signal(list)  # the raw weights just sent, bank order (for tests and controllers)

    def __init__(self, theme: Theme, link: EngineLink, mode: str = "default", presets: PresetStore | None = None,
                 autostart: bool = False, controllers: WindowControllers | None = None,
                 performer: Performer | None = None, fit: Fit | None = None) -> None:
        super().__init__()
        self.theme, self.link, self.mode, self.fit = theme, link, mode, fit
        self.autostart = autostart
        self.performer = performer or Performer(presets, morph_seconds=float(theme.presets.get("morph_s", 1.5)))
        self.setWindowTitle("textconductor")
        self.setStyleSheet(stylesheet(theme))
        self.looks: dict[str, StyleLook] = {}
        self.last_status: protocol.Status | None = None
        self.rejected_reasons: dict[str, int] = {}
        self.stream = TickStream()

        w = self.widgets = make_widgets(theme, text_px=fit.text_px if fit else None, simple=mode == "talk")
        self.text, self.bars, self.multiples = w.text, w.bars, w.multiples
        self.style_panel, self.sliders, self.puck = w.style_panel, w.sliders, w.puck
        self.controls, self.status = w.controls, w.status
        self.output: OutputWindow | None = None
        self.panels = theme.panels(mode)
        self.setCentralWidget(build_layout(w, self.panels, talk=mode == "talk"))
        self.presenter = PresenterOverlay(self.centralWidget(), standard_notes(
            self.text, self.bars, self.puck,
            {"multiples": self.multiples, "sliders": self.sliders, "styles": self.style_panel}, self._legend,
            reserves={"bars": self.bars.reserve_top, "puck": self.puck.reserve_top}), theme)
        self.bar_colours = BarColours(self.bars, self.multiples)
        self._connect_panels()
        self._observe_performer()
        self._connect_link()
        self.guard_view = GuardView(self)  # the loop guard: switch, strength, status counter, marks in the text
        self.burn_in = BurnInShift(self.text, self, BurnInSettings.from_screen(theme.screen))
        self.status.show_online(False, f"{link.host}:{link.port}", theme.colours)

        self._invoker = Invoker()
        self._render_timer = QTimer(self)
        self._render_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._render_timer.setInterval(max(1, round(1000 / float(theme.render.get("fps", 60)))))
        self._render_timer.timeout.connect(self.render_frame)
        self._render_timer.start()
        self._morph_timer = QTimer(self)
        self._morph_timer.setInterval(16)
        self._morph_timer.timeout.connect(self._morph_tick)
        install_shortcuts(self, self.control, lambda: self.performer.params, self.controls.prime_edit.setFocus)
        self.curation = Curation(self, self.text, self.controls, self.stream, self.link.send, self.performer.control,
                                 theme.colours, self.status.message.setText)  # keep/reject: K, R, selection
        self.link.ticks.connect(self.curation.on_ticks)
        self.link.marked.connect(self.curation.on_marked)
        self.verbatim = attach_verbatim(self)  # spans copied from a corpus: highlight + tooltip (/tc/verbatim)
        self.crowd = attach_crowd(self)  # the audience: crowd cloud, Room control, QR (frontend/crowd.py)
        self.toggle_fullscreen = FullscreenToggle(self, fallback=self._default_geometry)
        self.view_actions = build_view_menu(self, self.show_output_window, hide_menu_bar=mode == "fullscreen",
                                            toggle_fullscreen=self.toggle_fullscreen,
                                            show_presenter=self.show_presenter)
        self.output_action = self.view_actions.output
        c = self.controls
        self.controllers = ControllerHub(HubParts(
            window=self, sink=self, performer=self.performer, status=self.status, puck=self.puck,
            prime_edit=c.prime_edit, style_label=self._style_label,
            input_signals=(self.sliders.moved, self.puck.moved, c.temperature, c.rate, c.mix, c.pause_toggled,
                           c.reset, self.style_panel.toggled),
            other_windows=lambda: [self.output] if self.output is not None else []),
            controllers or WindowControllers(), theme)
        opener = (controllers or WindowControllers()).score
        self.score = ScoreMenu(self, opener) if opener is not None else None  # Score > Perform score... (Ctrl+O)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- wiring --------------------------------------------------------------------------------
    def _connect_panels(self) -> None:
        p, c = self.performer, self.controls
        self.style_panel.toggled.connect(self.set_enabled)
        self.sliders.moved.connect(lambda n, v: p.set_weights({n: v}, move_puck=True))
        self.puck.moved.connect(self.set_puck)
        c.temperature.connect(lambda v: self.control("temperature", v))
        c.rate.connect(lambda v: self.control("rate", v))
        c.mix.connect(lambda v: self.control("mix", v))
        c.pause_toggled.connect(lambda: self.control("toggle_pause"))
        c.reset.connect(lambda: self.control("reset"))
        c.prime.connect(self.prime)
        c.prime_edit.escaped.connect(self.setFocus)

    def _observe_performer(self) -> None:
        ev = self.performer.events
        ev.send.connect(self.link.send)
        ev.weights_sent.connect(self.weights_sent.emit)
        ev.bank_changed.connect(self._show_bank)
        ev.enabled_changed.connect(self._show_enabled)
        ev.weights_changed.connect(self._show_weights)
        ev.weights_changed.connect(lambda *_: self.presenter.refresh() if self.presenter.shown else None)
        ev.params_changed.connect(self.controls.show_params)
        ev.paused_changed.connect(self.controls.show_paused)
        ev.cleared.connect(self._clear_text)
        ev.message.connect(self.status.message.setText)
        ev.morphing_changed.connect(lambda on: self._morph_timer.start() if on else self._morph_timer.stop())

    def _connect_link(self) -> None:
        link = self.link
        link.hello.connect(self.on_hello)
        link.ticks.connect(self.on_ticks)
        link.status.connect(self.on_status)
        link.params.connect(self.on_params)
        link.rejected.connect(self.on_rejected)
        link.primed.connect(self.on_primed)
        link.online_changed.connect(self.on_online)

    def stop_render_timer(self) -> None:
        """Harnesses (the UI bench, the soak) drive `render_frame` themselves."""
        self._render_timer.stop()

    def _style_label(self, name: str) -> str:
        look = self.looks.get(name)
        return look.display if look else name

    def _legend(self) -> list[tuple[str, str]]:
        """The styles now in the mix (every enabled one if none weighs anything), as (name, text colour)."""
        names = [n for n in self.enabled_styles() if n in self.looks]
        w = self.performer.weights
        playing = [n for n in names if w.get(n, 0.0) > 0.005] or names
        return [(self.looks[n].display, self.looks[n].text_colour) for n in playing]

    def keyPressEvent(self, e: QKeyEvent) -> None:
        """Enter starts typing into the stream. Not a QShortcut: it would steal Enter from the prime field."""
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.controls.prime_edit.hasFocus():
            self.controls.prime_edit.setFocus()
            return
        super().keyPressEvent(e)

    def _morph_tick(self) -> None:
        if not self.performer.morphing:
            self._morph_timer.stop()
            return
        self.performer.morph_step()

    # -- drawing the performer's state ---------------------------------------------------------
    def _show_bank(self) -> None:
        names = self.performer.names
        self.looks = {n: self.theme.style(n) for n in names}
        self.stream.text_colours = [self.looks[n].text_colour for n in names]
        self.bar_colours.set_bank(names, self.looks)
        self.style_panel.set_styles([self.looks[n] for n in names], self.performer.enabled)

    def _show_enabled(self) -> None:
        looks = [self.looks[n] for n in self.enabled_styles()]
        self.style_panel.show_enabled(self.performer.enabled)
        self.sliders.set_styles(looks, self.performer.weights)
        self.puck.set_styles([lk.display.split(" (")[0] for lk in looks], [lk.colour for lk in looks])
        self._show_weights(move_puck=True)

    def _show_weights(self, move_puck: bool) -> None:
        self.sliders.show_weights(self.performer.weights)
        if move_puck:
            self.puck.show_weights(self.performer.enabled_weights())

    def _clear_text(self) -> None:
        self.stream.clear()
        self.text.clear_text()
        if self.output:
            self.output.text.clear_text()

    # -- engine messages -----------------------------------------------------------------------
    def on_hello(self, h: protocol.Hello) -> None:
        if self.performer.on_hello(h):  # the first hello: what the engine wrote before we came
            if h.history and not self.text.text():
                self.text.append_text(h.history, self.theme.colours["muted"])
            if self.autostart:
                self.performer.autostart()

    def on_online(self, online: bool) -> None:
        self.status.show_online(online, f"{self.link.host}:{self.link.port}", self.theme.colours)
        if self.performer.on_online(online):
            self.link.subscribe()  # ask for a hello now rather than at the next periodic one

    def on_params(self, p: protocol.Params) -> None:
        self.performer.on_params(p)

    def on_status(self, s: protocol.Status) -> None:
        self.last_status = s
        self.performer.on_status(s)
        active = []
        latest, names = self.stream.latest, self.performer.names
        if latest is not None and names:
            active = [self.looks[names[i]].display for i in latest.active if 0 <= i < len(names)]
        self.status.show_status(s, active)
        if self.rejected_reasons:
            self.status.rejected.setToolTip("\n".join(f"{k}: {v}" for k, v in self.rejected_reasons.items()))

    def on_rejected(self, counts: dict[str, int]) -> None:
        self.rejected_reasons = counts

    def on_ticks(self, ticks: list[protocol.Tick]) -> None:
        """Queue every character (tinted by its main contributor); keep only the latest for the bars."""
        self.stream.add_ticks(ticks)

    def on_primed(self, text: str) -> None:
        """The performer's own words, in the stage's foreground colour (no style wrote them)."""
        self.stream.add_text(text, self.theme.colours["foreground"])

    def render_frame(self) -> None:
        """At most once per display frame: all queued characters, and the bars of the latest tick."""
        if self.stream.pending:
            runs = self.stream.take_runs()
            self.text.append_runs(runs)
            self.guard_view.mark(runs, [self.text])
            if self.output is not None:
                self.output.text.append_runs(runs)
        tick = self.stream.take_tick()
        if tick is not None:
            self.bar_colours.draw(tick)

    # -- windows -------------------------------------------------------------------------------
    def show_fitted(self) -> None:
        """Show the window as its fit says (`screen_fit`): inside the screen in every mode, covering it
        in fullscreen, with or without a window manager."""
        if self.fit is None:
            self.fit = fit_window(self.mode, primary_screen(), self.theme.fit_rules(),
                                  cap_ratio(str(self.theme.fonts["text_family"])))
        show_fitted(self, self.fit)

    def _default_geometry(self) -> Rect:
        """Where the window goes when F11 leaves a fullscreen it opened in: the default mode's place."""
        s = self.screen()
        screen = screen_of(s) if s is not None else primary_screen()
        return fit_window("default", screen, self.theme.fit_rules()).geometry

    def show_presenter(self, on: bool = True) -> None:
        """The presenter overlay (P): what the bars, the colours and the puck mean, over the panels."""
        self.presenter.set_shown(on)
        self.view_actions.presenter.setChecked(on)

    def output_fit(self) -> Fit:
        """The output window's fit: fullscreen on a screen this window is not on (a projector) if any."""
        all_screens = screens() or [primary_screen()]
        mine = self.screen()
        main = next((i for i, s in enumerate(QApplication.screens()) if s is mine), 0)
        return fit_output(all_screens, main, self.theme.fit_rules(), cap_ratio(str(self.theme.fonts["text_family"])))

    def show_output_window(self, on: bool = True) -> OutputWindow | None:
        if on and self.output is None:
            fit = self.output_fit()
            self.output = OutputWindow(self.theme, text_px=fit.text_px, burn_in=self.burn_in.settings)
            self.output.closed.connect(lambda: self.show_output_window(False))
            self.output.text.append_runs(self.stream.replay())
            show_fitted(self.output, fit)
        elif not on and self.output is not None:
            out, self.output = self.output, None
            out.closed.disconnect()
            out.close()
            out.deleteLater()
        self.output_action.setChecked(self.output is not None)
        return self.output

    def set_burn_in(self, settings: BurnInSettings) -> None:
        """Burn-in care (`ui --burn-in`) for this window's text and the output window's."""
        for shift in (self.burn_in, self.output.burn_in if self.output is not None else None):
            if shift is not None:
                shift.set_settings(settings)

    def closeEvent(self, e: QCloseEvent) -> None:
        self.controllers.shutdown()
        if self.score is not None:
            self.score.stop(quiet=True)
        self.show_output_window(False)
        self.link.stop()
        super().closeEvent(e)
        app = QApplication.instance()
        if app is not None and self.mode == "fullscreen":
            QApplication.restoreOverrideCursor()
