"""The window's sub-commands are registered and its endpoints parse (the layering is tests/test_layering.py)."""

from __future__ import annotations


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
