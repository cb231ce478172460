"""The main window's keyboard shortcuts and its View menu.

Apart from the window so the keyboard map (documented in docs/frontend.md) is in one short place.
Everything they act on is passed in explicitly: a shortcut is a key and a call, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QWidget

from textconductor import protocol

Control = Callable[..., None]  # ControlSink.control(name, value=None)


def install_shortcuts(parent: QWidget, control: Control, params: Callable[[], protocol.Params],
                      focus_prime: Callable[[], None]) -> None:
    """Space, Ctrl+R, [ ], - =, M, /, 1-9 and Ctrl+1-9 on `parent` (window-wide shortcuts)."""
    def sc(key: str, fn: Callable[[], None]) -> None:
        QShortcut(QKeySequence(key), parent, fn)
    sc("Space", lambda: control("toggle_pause"))
    sc("Ctrl+R", lambda: control("reset"))
    sc("[", lambda: control("temperature", params().temperature - 0.05))
    sc("]", lambda: control("temperature", params().temperature + 0.05))
    sc("-", lambda: control("rate", params().rate - 2))
    sc("=", lambda: control("rate", params().rate + 2))
    sc("M", lambda: control("mix", "product" if params().mix == "linear" else "linear"))
    sc("/", focus_prime)
    for k in range(1, 10):
        sc(str(k), lambda k=k: control("preset_recall", k))
        sc(f"Ctrl+{k}", lambda k=k: control("preset_save", k))


@dataclass
class ViewActions:
    output: QAction  # checkable: the output window is open
    fullscreen: QAction
    presenter: QAction  # checkable: the presenter overlay is shown
    quit: QAction


def build_view_menu(window: QMainWindow, show_output: Callable[[bool], object], hide_menu_bar: bool,
                    toggle_fullscreen: Callable[[], None], show_presenter: Callable[[bool], None]) -> ViewActions:
    """View > Output window (O), Fullscreen (F11), Presenter notes (P), Quit (Ctrl+Q).

    `hide_menu_bar` (gallery mode): the bar is hidden and the actions are added to the window itself,
    so their shortcuts still work without a visible menu.
    """
    view = window.menuBar().addMenu("&View")
    output = QAction("Output window", window, checkable=True)
    output.setShortcut(QKeySequence("O"))
    output.triggered.connect(lambda on: show_output(on))
    view.addAction(output)
    full = QAction("Fullscreen", window)
    full.setShortcut(QKeySequence("F11"))
    full.triggered.connect(lambda: toggle_fullscreen())
    view.addAction(full)
    presenter = QAction("Presenter notes", window, checkable=True)
    presenter.setShortcut(QKeySequence("P"))
    presenter.setToolTip("labels over the window that say what the audience sees")
    presenter.triggered.connect(lambda on: show_presenter(on))
    view.addAction(presenter)
    quit_ = QAction("Quit", window)
    quit_.setShortcut(QKeySequence("Ctrl+Q"))
    quit_.triggered.connect(window.close)
    view.addAction(quit_)
    if hide_menu_bar:
        window.menuBar().setVisible(False)
        window.addActions([output, full, presenter, quit_])
    return ViewActions(output, full, presenter, quit_)
