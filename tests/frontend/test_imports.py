"""The frontend never imports torch; the CLI module imports no Qt; the sub-commands are registered."""

from __future__ import annotations

import os
import subprocess
import sys

CHECK = r"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import textconductor.cli.frontend
assert "PySide6" not in sys.modules, "commands.py must not import Qt"
import textconductor.frontend.app as app
import textconductor.frontend.bars, textconductor.frontend.link, textconductor.frontend.main_window
import textconductor.frontend.panels, textconductor.frontend.presets, textconductor.frontend.puck
import textconductor.protocol.puck_geometry, textconductor.frontend.text_view, textconductor.frontend.theme
win = app.build_window("127.0.0.1:9", 0)
win.show()
app.qapp().processEvents()
r = app.bench_ui(seconds=0.2, styles=3, active=2)
assert r.frames > 0
print("torch" in sys.modules)
"""


def test_frontend_never_imports_torch(tmp_path):
    env = dict(os.environ, TEXTCONDUCTOR_PRESETS=str(tmp_path / "p.json"))
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_commands_registered():
    from textconductor.cli import build_parser
    p = build_parser()
    a = p.parse_args(["ui", "--engine", "127.0.0.1:6000", "--fullscreen", "--talk", "--output-window"])
    assert (a.engine, a.fullscreen, a.talk, a.output_window, a.listen_port) == ("127.0.0.1:6000", True, True, True, 0)
    assert p.parse_args(["bench", "ui", "--seconds", "1"]).seconds == 1.0
    assert p.parse_args(["screenshots", "--engine", "x:1"]).engine == "x:1"


def test_parse_endpoint():
    from textconductor.frontend.link import parse_endpoint
    assert parse_endpoint("10.0.0.2:7000") == ("10.0.0.2", 7000)
    assert parse_endpoint("localhost") == ("localhost", 57130)
    assert parse_endpoint(":7001") == ("127.0.0.1", 7001)
