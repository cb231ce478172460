"""Fault tests: the supervised instrument survives kill -9 of either process and crash loops."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.engine.conftest import make_bank
from tests.fakes import MISSING_SONAME, EngineProbe, fake_qt_plugin, free_port
from textconductor.protocol import Hello, Tick
from textconductor.supervisor import Role, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


class Play:
    """`textconductor play` as a user starts it, with its log captured line by line."""

    def __init__(self, tmp_path, *extra, env=None):
        bank = tmp_path / "bank"
        bank.mkdir(exist_ok=True)
        make_bank(bank, ["alpha", "beta"])
        self.port = free_port()
        self.record = tmp_path / "perf.jsonl"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "textconductor", "play", "--bank", str(bank), "--port", str(self.port),
             "--rate", "40", "--record", str(self.record), "--state", str(tmp_path / "state.json"), *extra],
            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_log(self, text, timeout=60, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(text in ln for ln in self.log) >= count:
                return
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in log:\n{''.join(self.log)}")

    def pid_of(self, marker):
        line = [ln for ln in self.log if marker in ln][-1]
        return int(line.split("pid ")[1].split(")")[0])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(20)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def subscribe(client, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.send("/tc/subscribe", client.port)
        for addr, params in client.messages(0.3):
            if addr == "/tc/tick":
                return Tick.decode(params)
    raise AssertionError("no ticks")


def test_engine_kill_9_resumes_within_2s_with_its_state(tmp_path):
    play = Play(tmp_path, "--headless")
    client = EngineProbe(play.port)
    try:
        play.wait_log("standby: loaded")
        subscribe(client)
        client.send("/tc/weights", 0.3, 0.7)
        client.send("/tc/temperature", 0.5)
        time.sleep(1.5)
        play.wait_log("started engine")
        pid = play.pid_of("started engine")
        last = None
        for addr, params in client.messages(0.05, at_most=0.5):
            if addr == "/tc/tick":
                last = Tick.decode(params)
        os.kill(pid, signal.SIGKILL)
        t_kill = time.monotonic()
        first = None
        while time.monotonic() - t_kill < 10 and first is None:
            for addr, params in client.messages(0.05, at_most=0.5):
                if addr == "/tc/tick":
                    t = Tick.decode(params)
                    if last is None or t.tick <= last.tick + 1 or time.monotonic() - t_kill > 0.2:
                        first = (time.monotonic() - t_kill, t)
                        break
        assert first is not None, "".join(play.log)
        resumed_after, tick = first
        assert resumed_after < 2.0, f"generation resumed after {resumed_after:.2f} s"
        # the restored engine has the weights and settings of the old one, and the listener list
        assert tick.weights[0] == pytest.approx(0.3, abs=1e-5) and tick.weights[1] == pytest.approx(0.7, abs=1e-5)
        client.send("/tc/ping")
        hello = Hello.decode(client.wait_for("/tc/hello"))
        assert hello.weights.tolist() == pytest.approx([0.3, 0.7])
        play.wait_log("took over with the saved state")
        play.wait_log("killed by SIGKILL")
        time.sleep(1.5)
    finally:
        client.close()
        play.stop()
    # the record: one restore, ticks contiguous (no gap), restore within a second of the kill
    lines = [json.loads(x) for x in play.record.read_text().splitlines()]
    restores = [ln for ln in lines if ln["type"] == "restore"]
    assert len(restores) == 1
    ticks = []
    for ln in lines:
        if ln["type"] == "text":
            ticks.extend(range(ln["tick"], ln["tick"] + len(ln["text"])))
    assert ticks == list(range(ticks[0], ticks[-1] + 1)), "the record has a gap or an overlap"
    if last is not None:
        assert restores[0]["tick"] >= last.tick - 40  # at most ~1 s of text (40 chars/s) is regenerated
    before = "".join(ln["text"] for ln in lines if ln["type"] == "text" and ln["tick"] < restores[0]["tick"])
    assert restores[0]["state"]["history"].endswith(before[-200:])  # the text continues from there
    print(f"\nengine kill -9 -> generation resumed after {resumed_after * 1000:.0f} ms")


def test_frontend_kill_leaves_the_engine_playing(tmp_path):
    pytest.importorskip("PySide6")
    play = Play(tmp_path, env={"QT_QPA_PLATFORM": "offscreen"})
    client = EngineProbe(play.port)
    try:
        play.wait_log("started frontend")
        subscribe(client)
        ui_pid = play.pid_of("started frontend")
        time.sleep(2.0)  # the frontend is up and subscribed
        os.kill(ui_pid, signal.SIGKILL)
        t0 = time.monotonic()
        ticks, gaps, last_t = [], [], time.monotonic()
        while time.monotonic() - t0 < 3.0:
            for addr, params in client.messages(0.05, at_most=0.5):
                if addr == "/tc/tick":
                    now = time.monotonic()
                    gaps.append(now - last_t)
                    last_t = now
                    ticks.append(Tick.decode(params).tick)
        assert ticks == list(range(ticks[0], ticks[0] + len(ticks))) and len(ticks) > 60
        assert max(gaps) < 0.5
        play.wait_log("frontend killed by SIGKILL; restarting")
        play.wait_log("started frontend", count=2)
        new_pid = play.pid_of("started frontend")
        assert new_pid != ui_pid and alive(new_pid)
    finally:
        client.close()
        play.stop()


def test_stop_leaves_no_orphans(tmp_path):
    play = Play(tmp_path, "--headless")
    try:
        play.wait_log("standby: loaded")
        pids = [play.pid_of("started engine"), play.pid_of("started spare engine")]
        assert all(alive(p) for p in pids)
        os.kill(play.proc.pid, signal.SIGKILL)  # even the supervisor dying takes its children along
        play.proc.wait(10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in pids)
    finally:
        play.stop()


def test_crash_loop_backs_off(tmp_path):
    """A child that keeps crashing, each time differently (status 3, 4, 5 ...): restarted, with back-off."""
    count = tmp_path / "count"
    count.write_text("0")
    crash = [sys.executable, "-c", "import pathlib, sys, time; p = pathlib.Path(sys.argv[1]); n = int(p.read_text()); "
             "p.write_text(str(n + 1)); time.sleep(0.1); sys.exit(3 + n)", str(count)]
    sup = Supervisor(crash, None, state=__import__("pathlib").Path("/nonexistent/state.json"), spare=False)
    sup.engine.argv = crash  # no engine flags for this stand-in
    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    time.sleep(9)
    sup.stop()
    t.join(10)
    starts = list(sup.engine.crashes)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) >= 4
    assert gaps[0] < 1.0  # the first crashes restart at once
    assert max(gaps) > 1.9  # then it backs off (1 s, 2 s, 4 s ...)
    assert len(starts) < 15  # and does not spin
    assert not sup.engine.given_up  # different deaths are not "the same failure at start"


def test_only_the_same_death_at_start_counts():
    role = Role("frontend", [])
    role.started_at = 100.0
    assert not role.died_early_again(-6, 101.0, early_s=10, limit=3)
    assert not role.died_early_again(-6, 101.5, early_s=10, limit=3)
    assert not role.died_early_again(1, 102.0, early_s=10, limit=3)  # a different code starts anew
    assert not role.died_early_again(1, 103.0, early_s=10, limit=3)
    assert not role.died_early_again(1, 200.0, early_s=10, limit=3)  # it ran a while: not a death at start
    assert role.early_deaths == []
    for t in (201.0, 202.0):
        role.started_at = t - 0.5
        assert not role.died_early_again(-6, t, early_s=10, limit=3)
    role.started_at = 202.5
    assert role.died_early_again(-6, 203.0, early_s=10, limit=3)


def run_in_thread(sup: Supervisor) -> threading.Thread:
    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    return t


def test_a_window_that_dies_the_same_way_at_start_is_given_up_with_the_diagnosis(tmp_path, caplog):
    asked = []

    def diagnose(role):
        asked.append(role)
        return "FAIL  qt-plugin  (the diagnosis)\n"
    ui = [sys.executable, "-c", "import sys; sys.exit(7)"]
    sup = Supervisor(SLEEPER, ui, state=tmp_path / "state.json", spare=False, diagnose=diagnose)
    sup.engine.argv = SLEEPER
    caplog.set_level("INFO", logger="textconductor.supervisor")
    t = run_in_thread(sup)
    t.join(60)
    assert not t.is_alive(), "the supervisor kept restarting the window"
    engine = sup.engine.proc
    assert sup.exit_code == 1 and sup.ui.given_up and asked == ["frontend"]
    assert sup.ui.restarts == 2  # started three times, restarted twice, never a fourth time
    assert engine.poll() is not None  # and the engine was stopped with it
    text = caplog.text
    assert "the frontend died at start 3 times in a row, exited with status 7" in text
    assert "diagnosis:\nFAIL  qt-plugin  (the diagnosis)" in text


def test_a_spare_that_dies_at_start_is_dropped_and_the_engine_plays_on(tmp_path):
    sup = Supervisor(SLEEPER, None, state=tmp_path / "state.json", spare=True, diagnose=lambda role: f"[{role}]\n")
    sup.engine.argv = SLEEPER
    sup.spare.argv = [sys.executable, "-c", "import sys; sys.exit(5)"]
    t = run_in_thread(sup)
    deadline = time.monotonic() + 30
    while not sup.spare.given_up and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert sup.spare.given_up and not sup.stopping and sup.engine.alive()
        time.sleep(1.5)
        assert sup.spare.proc is None  # not started again
    finally:
        sup.stop()
        t.join(20)


def test_play_gives_up_on_a_window_missing_a_library(tmp_path):
    """The real failure: Qt aborts every new window (a plugin needs a library that is not there).
    --skip-checks gets past the check `play` runs first, so the supervisor meets the failure itself."""
    plugins = fake_qt_plugin(tmp_path / "qt")
    play = Play(tmp_path, "--skip-checks", "--no-spare",
                env={"QT_QPA_PLATFORM": "offscreen", "QT_PLUGIN_PATH": str(plugins),
                     "TEXTCONDUCTOR_DATA": str(tmp_path / "data")})
    try:
        assert play.proc.wait(120) == 1
        play.wait_log("diagnosis:", timeout=5)
        log = "".join(play.log)
        assert log.count("started frontend") == 3, log
        assert "the frontend died at start 3 times in a row, killed by SIGABRT" in log
        assert re.search(rf"FAIL +qt-plugin +.*missing {MISSING_SONAME}", log)
        assert "qt-plugin: " in log and "apt-get install libtcmissing0" in log
    finally:
        play.stop()


def test_a_spare_woken_before_its_handler_is_installed_wakes_late_instead_of_dying(tmp_path):
    """The spare starts with SIGUSR1 blocked: a wake-up during its seconds of loading waits for it."""
    woken = tmp_path / "woken"
    # Like `engine --standby`: seconds of loading first, then the handler, then unblock and wait.
    child = ("import signal, threading, time, pathlib\n"
             "time.sleep(1.0)\n"
             "wake = threading.Event()\n"
             "signal.signal(signal.SIGUSR1, lambda *_: wake.set())\n"
             "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})\n"
             f"assert wake.wait(5)\npathlib.Path({str(woken)!r}).write_text('yes')\n")
    role = Role("spare engine", [sys.executable, "-c", child], woken_by_signal=True)
    role.start()
    time.sleep(0.2)
    role.proc.send_signal(signal.SIGUSR1)  # far too early: the child is still "loading"
    assert role.proc.wait(10) == 0 and woken.read_text() == "yes"
    plain = Role("engine", [sys.executable, "-c", "import time; time.sleep(5)"])
    plain.start()
    time.sleep(0.2)
    plain.proc.send_signal(signal.SIGUSR1)  # without the block it would have died, as spares used to
    assert plain.proc.wait(10) == -signal.SIGUSR1
