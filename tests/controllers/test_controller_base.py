"""The shared interface's safety net, and the headless commands' shells."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from tests.fakes import RecordingSink
from textconductor.controllers.base import Controller, guarded, start_safely, stop_safely


def test_guarded_logs_once_then_counts(caplog):
    calls = []

    def flaky(x):
        calls.append(x)
        raise RuntimeError(f"boom {x}")

    g = guarded(flaky, "test callback", logging.getLogger("t"))
    for i in range(50):
        assert g(i) is None
    assert len(calls) == 50 and g.failures.count == 50
    assert caplog.text.count("test callback failed (continuing): boom 0") == 1
    assert len(caplog.records) == 1  # the other 49 are counted, not logged (within 10 s)


def test_guarded_passes_results_through():
    assert guarded(lambda a, b=2: a + b, "sum")(1, b=5) == 6


class Exploding(Controller):
    name = "exploding"

    def __init__(self, where: str) -> None:
        self.where = where

    def available(self):
        if self.where == "available":
            raise OSError("no device")
        return (False, "no such thing here") if self.where == "unavailable" else (True, "")

    def start(self, sink):
        if self.where == "start":
            raise RuntimeError("driver crashed")

    def stop(self):
        if self.where in ("stop", "start"):
            raise RuntimeError("cannot stop")


@pytest.mark.parametrize(("where", "started", "words"), [
    ("available", False, "failed to start"), ("unavailable", False, "unavailable: no such thing here"),
    ("start", False, "driver crashed"), ("stop", True, ""),
])
def test_a_controller_that_raises_does_not_take_the_host_down(where, started, words, caplog):
    c = Exploding(where)
    assert start_safely(c, RecordingSink()) is started
    assert words in caplog.text
    stop_safely(c)  # never raises


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "textconductor", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "XDG_CONFIG_HOME": os.devnull + "-nonexistent"})


def test_commands_module_imports_nothing_heavy():
    code = ("import sys, argparse; import textconductor.cli.controllers as c; "
            "p = argparse.ArgumentParser(); c.register(p.add_subparsers()); "
            "print(sorted(m for m in ('mido', 'rtmidi', 'torch', 'PySide6', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("command", ["midi", "autopilot", "osc-bridge"])
def test_help(command):
    r = run_cli(command, "--help")
    assert r.returncode == 0 and "--engine" in r.stdout


def test_midi_list_without_alsa_says_why(tmp_path):
    if os.path.exists("/dev/snd/seq"):
        pytest.skip("this machine has an ALSA sequencer")
    r = run_cli("midi", "--list")
    assert r.returncode == 1
    assert r.stdout.startswith("MIDI unavailable:") and "/dev/snd/seq" in r.stdout
    assert "Traceback" not in r.stderr


def test_bad_engine_address_is_one_line():
    r = run_cli("autopilot", "--engine", "localhost:notaport", "--idle", "0")
    assert r.returncode == 2 and "bad engine address" in r.stderr and "Traceback" not in r.stderr


def test_bridge_open_listen_needs_allow():
    r = run_cli("osc-bridge", "--listen", "0.0.0.0", "--port", "0")
    assert r.returncode == 2 and "--allow" in r.stderr
