"""The Score menu: perform a score file in the window, take over from it at any moment, hand back.

Why in the window and not only headless (`textconductor perform`): on stage the performer wants the
score to carry the piece and still be free to grab a slider. The score plays the window itself (a
ControlSink), so its moves show on the sliders and the puck like any controller's. Touching a slider
or the puck (or any other move of a weight the score did not make: a MIDI fader, the hands, a
preset) takes over: the score's weight events are held (its settings, prime text and pauses
still play) while it keeps counting; *Hand back to the score* (H) glides back to where the score
has got to. The player comes from the top layer through `controller_api.ScoreOpener`: the frontend
never imports the controllers.

It is ticked by a timer on the GUI thread, like the autopilot; the character count is the window's
own count of ticks received.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from textconductor.assets import ASSETS
from textconductor.errors import UserError
from textconductor.frontend.controller_api import ScoreOpener, ScorePerformance
from textconductor.protocol.ratelimit import FailureLog

if TYPE_CHECKING:
    from textconductor.frontend.main_window import MainWindow

log = logging.getLogger(__name__)

SCORE_TICK_MS = 33  # 30 frames a second for morphs, as headless
SCORES_DIR = ASSETS / "scores"  # where the file dialog opens: the shipped examples


TAKEN_OVER_AT = 1e-3  # a weight this far from what the score last set was moved by someone else


class WindowTarget:
    """The window as a `controller_api.ScoreTarget`: its own sink methods, and the guard sent straight
    to the engine (the window has no guard control of its own to move).

    `expected` is the mix as the score last left it, so a move by anyone else (a MIDI fader, the hands,
    a preset, another frontend) can be noticed and taken as the performer taking over.
    """

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.expected: dict[str, float] | None = None

    def set_weights(self, weights) -> None:
        self.window.set_weights(weights)
        self.expected = dict(self.window.performer.weights)  # on the GUI thread: applied already

    def moved_elsewhere(self) -> bool:
        now, exp = self.window.performer.weights, self.expected
        return exp is not None and any(abs(w - exp.get(n, w)) > TAKEN_OVER_AT for n, w in now.items())

    def control(self, name: str, value=None) -> None:
        self.window.control(name, value)

    def prime(self, text: str) -> None:
        self.window.prime(text)

    def guard(self, on: bool | None = None, strength: float | None = None) -> None:
        link = self.window.link
        link.send_datagrams(link.client.guard(on, strength))


class ScoreMenu(QObject):
    """*Score* > Perform score... (Ctrl+O), Hand back to the score (H), Stop the score."""

    _said = Signal(str)  # a score's `say` line (the player calls back on the GUI thread, but be safe)

    def __init__(self, window: MainWindow, opener: ScoreOpener) -> None:
        super().__init__(window)
        self.window, self.opener = window, opener
        self.player: ScorePerformance | None = None
        self.target: WindowTarget | None = None
        self.path: str | None = None
        self._failures = FailureLog(log, "score tick (window)")
        self._said.connect(lambda text: self.say(f"Score: {text}"))
        self._timer = QTimer(self)
        self._timer.setInterval(SCORE_TICK_MS)
        self._timer.timeout.connect(lambda: self._failures.call(self._tick))

        menu = window.menuBar().addMenu("&Score")
        self.perform_action = QAction("Perform score…", self)
        self.perform_action.setShortcut(QKeySequence("Ctrl+O"))
        self.perform_action.triggered.connect(self.choose)
        self.hand_back_action = QAction("Hand back to the score", self)
        self.hand_back_action.setShortcut(QKeySequence("H"))
        self.hand_back_action.setToolTip("touching a slider or the puck takes the weights from the score; "
                                         "this gives them back")
        self.hand_back_action.triggered.connect(self.hand_back)
        self.stop_action = QAction("Stop the score", self)
        self.stop_action.triggered.connect(lambda: self.stop())
        for a in (self.perform_action, self.hand_back_action, self.stop_action):
            menu.addAction(a)
        window.addActions([self.perform_action, self.hand_back_action])  # keys work with the menu bar hidden
        window.sliders.moved.connect(lambda *_: self.take_over())
        window.puck.moved.connect(lambda *_: self.take_over())
        self._set_actions()

    # -- playing -------------------------------------------------------------------------------
    def choose(self) -> None:
        start = str(SCORES_DIR) if SCORES_DIR.is_dir() else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self.window, "Perform score", start, "Scores (*.toml);;All files (*)")
        if path:
            self.perform(path)

    def perform(self, path: str | Path) -> bool:
        """Play the score at `path` now; False (the reason in the status line) when it cannot be played."""
        self.stop(quiet=True)
        w = self.window
        if not w.performer.names:
            self.say("Score: the engine has not answered yet; try again when it is online", logging.WARNING)
            return False
        target = WindowTarget(w)
        try:
            player = self.opener(str(path), target, lambda: w.ticks_received,
                                 lambda: dict(w.performer.weights), list(w.performer.names), self._said.emit)
        except UserError as e:
            self.say(f"Score not played: {e}", logging.WARNING)
            return False
        self.player, self.path, self.target = player, str(path), target
        self._timer.start()
        player.tick()
        self.say(f"Score: performing {Path(path).name} (touch a slider or the puck to take over, H hands back)")
        self._set_actions()
        return True

    def _tick(self) -> None:
        p = self.player
        if p is None:
            return
        if not p.taken_over and self.target is not None and self.target.moved_elsewhere():
            self.take_over()  # a fader, the hands, a preset: any weight the score did not set
        p.tick()
        self._ticks += 1
        if self._ticks % round(1000 / SCORE_TICK_MS) == 0:  # once a second: where the score is, in its menu
            self.stop_action.setText(f"Stop the score ({p.describe()})")
        if p.done:
            name = Path(self.path or "").name
            self.stop(quiet=True)
            self.say(f"Score: {name} ended")

    def stop(self, quiet: bool = False) -> None:
        if self.player is None:
            return
        self.player = None
        self._timer.stop()
        self._set_actions()
        if not quiet:
            self.say("Score: stopped")

    # -- taking over ---------------------------------------------------------------------------
    def take_over(self) -> None:
        p = self.player
        if p is not None and not p.taken_over:
            p.take_over()
            self.say("Score: you have the weights (its settings play on); H hands them back")

    def hand_back(self) -> None:
        p = self.player
        if p is None:
            self.say("Score: no score is playing (Score > Perform score…)")
            return
        if p.taken_over:
            if self.target is not None:
                self.target.expected = None  # the glide starts from the performer's mix
            p.hand_back()
            self.say("Score: handed back; gliding to the score's mix")

    # -- status --------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.player is not None

    def describe(self) -> str:
        return self.player.describe() if self.player is not None else "no score"

    def say(self, text: str, level: int = logging.INFO) -> None:
        log.log(level, "%s", text)
        self.window.status.message.setText(text)

    def _set_actions(self) -> None:
        self.hand_back_action.setEnabled(self.player is not None)
        self.stop_action.setEnabled(self.player is not None)
        self.stop_action.setText("Stop the score")
        self._ticks = 0
