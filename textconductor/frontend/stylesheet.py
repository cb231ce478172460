"""The window's Qt stylesheet, built from the theme (colours and fonts in assets/frontend.toml).

One function, apart from the window, so the look can be read and changed without the window's
logic, and so every top-level window of the instrument gets the same sheet.
"""

from __future__ import annotations

from textconductor.frontend.theme import Theme


def stylesheet(t: Theme) -> str:
    c = t.colours
    return f"""
    QWidget {{ background: {c['background']}; color: {c['foreground']}; font-family: '{t.fonts['ui_family']}';
               font-size: {t.pt('ui_pt'):.0f}pt; }}
    QMainWindow, QSplitter {{ background: {c['background']}; }}
    QSplitter::handle {{ background: {c['panel_edge']}; }}
    QScrollArea, PuckWidget, SliderPanel {{ background: {c['panel']}; border: none; }}
    QLabel#heading {{ color: {c['muted']}; font-weight: bold; letter-spacing: 2px; }}
    QLabel#muted {{ color: {c['muted']}; }}
    QPushButton {{ background: {c['panel']}; border: 1px solid {c['panel_edge']}; padding: 4px 12px; }}
    QPushButton:hover {{ border-color: {c['accent']}; }}
    QLineEdit, QDoubleSpinBox, QComboBox {{ background: {c['panel']}; border: 1px solid {c['panel_edge']};
               padding: 3px 6px; selection-background-color: {c['accent']}; selection-color: #000; }}
    QLineEdit:focus {{ border-color: {c['accent']}; }}
    QMenuBar {{ background: {c['background']}; color: {c['muted']}; }}
    QMenuBar::item:selected, QMenu::item:selected {{ background: {c['panel_edge']}; }}
    QMenu {{ background: {c['panel']}; border: 1px solid {c['panel_edge']}; }}
    """
