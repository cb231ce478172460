"""`textconductor play`: the engine and the frontend as supervised child processes.

A gallery piece runs for days and a performer cannot restart anything on stage, so:
- The engine writes a snapshot twice a second. A *warm spare* engine (bank loaded, socket not yet
  bound) waits beside it; when the live engine dies, the spare is woken (SIGUSR1), restores the
  snapshot and binds the port within milliseconds, instead of the seconds a cold start takes
  (importing torch alone is ~2 s). A new spare is then started.
- The frontend reconnects by itself. If it crashes, a new one is started; if the performer closes
  the window (exit status 0), everything stops.
- A process that keeps crashing is restarted with exponential back-off; every restart is logged
  with its cause. Children die with the supervisor (PR_SET_PDEATHSIG), so none is orphaned.
- A child that dies the same way right after starting (same exit status or signal, within
  EARLY_DEATH_S of its start, SAME_EARLY_DEATHS times in a row) will not get better by being
  restarted: a missing Qt library aborts every new window at once. The supervisor gives up on it and
  logs a diagnosis (`textconductor doctor`'s checks for that child) instead of looping; for the
  engine or the window that ends `play` with status 1, for the spare only the spare is dropped.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.05
CRASH_WINDOW_S = 30.0
FREE_CRASHES = 3  # crashes within the window before back-off starts
MAX_BACKOFF_S = 30.0
STOP_GRACE_S = 5.0
# "Died at start": within this long of starting (torch import + bank load on a loaded machine take a
# few seconds; a window missing a library aborts within one).
EARLY_DEATH_S = 10.0
SAME_EARLY_DEATHS = 3  # identical early deaths in a row before giving up on a child


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the supervisor dies, even by SIGKILL (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _spare_child() -> None:
    """In a spare: as `_die_with_parent`, and start with the wake-up signal blocked.

    A spare woken before it has installed its handler (it spends seconds importing torch and
    loading the bank) would die of SIGUSR1's default action. Blocked, the signal waits: the mask
    survives exec, and the engine unblocks it once its handler is in place (cli/engine.py
    --standby), so an early wake-up is only delivered late, never lost and never fatal.
    """
    _die_with_parent()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


@dataclass
class Role:
    """One kind of child (engine, spare, ui) with its own crash history."""

    name: str
    argv: list[str]
    env: Mapping[str, str] | None = None  # None: the supervisor's own
    proc: subprocess.Popen | None = None
    crashes: deque = field(default_factory=lambda: deque(maxlen=50))
    not_before: float = 0.0
    restarts: int = 0
    started_at: float = 0.0  # when the current process started (or took over, for a promoted spare)
    early_deaths: list[int] = field(default_factory=list)  # exit codes of the current run of early deaths
    given_up: bool = False
    woken_by_signal: bool = False  # a spare: starts with SIGUSR1 blocked (see _spare_child)

    def start(self) -> None:
        child = _spare_child if self.woken_by_signal else _die_with_parent
        self.proc = subprocess.Popen(self.argv, env=dict(self.env) if self.env is not None else None,
                                     preexec_fn=child if sys.platform == "linux" else None)
        self.started_at = time.monotonic()
        log.info("started %s (pid %d)", self.name, self.proc.pid)

    def died_early_again(self, code: int, now: float, early_s: float, limit: int) -> bool:
        """Note a death; True when it is the `limit`-th in a row that came within `early_s` of a start
        with the same exit code. A death after a longer run, or a different code, starts the count anew."""
        if now - self.started_at > early_s:
            self.early_deaths.clear()
            return False
        if self.early_deaths and self.early_deaths[-1] != code:
            self.early_deaths.clear()
        self.early_deaths.append(code)
        return len(self.early_deaths) >= limit

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def crashed(self, now: float) -> float:
        """Note a crash; return how long to wait before the next start."""
        self.crashes.append(now)
        recent = [t for t in self.crashes if now - t <= CRASH_WINDOW_S]
        delay = 0.0 if len(recent) < FREE_CRASHES else min(2.0 ** (len(recent) - FREE_CRASHES), MAX_BACKOFF_S)
        self.not_before = now + delay
        return delay


class Supervisor:
    """Runs the engine (with a warm spare) and the window as child processes and keeps them alive.

    It takes ready-made argv lists rather than building them, so it knows nothing of the CLI's
    options: `textconductor play` decides what to run, this class only decides when to restart.
    `diagnose(role_name)` returns the text logged when it gives up on a child (default: none);
    `ui_env` is the window's environment (None: the supervisor's own).
    """

    def __init__(self, engine_argv: list[str], ui_argv: list[str] | None, state: Path, spare: bool = True,
                 ui_env: Mapping[str, str] | None = None, diagnose: Callable[[str], str] | None = None,
                 early_death_s: float = EARLY_DEATH_S, same_early_deaths: int = SAME_EARLY_DEATHS,
                 helpers: Mapping[str, list[str]] | None = None) -> None:
        self.engine = Role("engine", engine_argv + ["--state", str(state)])
        self.restore_argv = ["--restore", str(state)]
        self.spare = Role("spare engine", engine_argv + ["--state", str(state), "--standby"] + self.restore_argv,
                          woken_by_signal=True) if spare else None
        self.ui = Role("frontend", ui_argv, env=ui_env) if ui_argv else None
        # helpers (the audience server): restarted whenever they end, with back-off; play goes on without them
        self.helpers = [Role(name, argv) for name, argv in (helpers or {}).items()]
        self.diagnose = diagnose
        self.early_death_s = early_death_s
        self.same_early_deaths = same_early_deaths
        self.stopping = False
        self.exit_code = 0

    def run(self) -> int:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: self.stop())
            signal.signal(signal.SIGINT, lambda *_: self.stop())
        self.engine.start()
        if self.spare:
            self.spare.start()
        if self.ui:
            self.ui.start()
        for h in self.helpers:
            h.start()
        try:
            while not self.stopping:
                time.sleep(POLL_S)
                self._watch()
        finally:
            self._shutdown()
        return self.exit_code

    def _watch(self) -> None:
        now = time.monotonic()
        eng = self.engine
        if eng.proc is not None and eng.proc.poll() is not None:
            code = eng.proc.returncode
            if code == 2 and eng.restarts == 0 and not eng.crashes:
                log.error("the engine could not start (see its message above); stopping")
                self.exit_code = 2
                self.stop()
                return
            if code == 0 and self.ui is None:
                self.stop()  # a headless engine that finished (--max-chars)
                return
            eng.proc = None
            if self._gave_up(eng, code, now):
                return
            delay = eng.crashed(now)
            log.warning("engine %s; restarting%s", describe_exit(code), f" in {delay:.0f} s" if delay else "")
        if eng.proc is None and now >= eng.not_before:
            if self.spare and self.spare.alive():
                self.spare.proc.send_signal(signal.SIGUSR1)
                eng.proc, self.spare.proc = self.spare.proc, None
                eng.started_at = now  # it starts serving now: a death right after counts as a death at start
                log.info("spare engine (pid %d) took over with the saved state", eng.proc.pid)
                self.spare.not_before = now + 1.0  # let the new live engine have the CPU first
            else:
                eng.argv = [a for a in eng.argv if a not in self.restore_argv] + self.restore_argv
                eng.start()
            eng.restarts += 1
        if self.spare:
            sp = self.spare
            if sp.proc is not None and sp.proc.poll() is not None:
                code = sp.proc.returncode
                log.warning("spare engine %s", describe_exit(code))
                sp.proc = None
                sp.crashed(now)
                self._gave_up(sp, code, now)
            if sp.proc is None and now >= sp.not_before and not sp.given_up:
                sp.start()
        if self.ui:
            ui = self.ui
            if ui.proc is not None and ui.proc.poll() is not None:
                code = ui.proc.returncode
                if code == 0:
                    log.info("window closed: stopping")
                    self.stop()
                    return
                ui.proc = None
                if self._gave_up(ui, code, now):
                    return
                delay = ui.crashed(now)
                log.warning("frontend %s; restarting%s", describe_exit(code), f" in {delay:.0f} s" if delay else "")
            if ui.proc is None and now >= ui.not_before:
                ui.start()
                ui.restarts += 1

        for h in self.helpers:
            if h.proc is not None and h.proc.poll() is not None:
                code = h.proc.returncode
                h.proc = None
                delay = h.crashed(now)
                log.warning("%s %s; restarting in %.0f s", h.name, describe_exit(code), delay)
                h.given_up = h.died_early_again(code, now, self.early_death_s, self.same_early_deaths)
                if h.given_up:
                    log.error("the %s keeps dying at start: not restarting it (play goes on without it)", h.name)
            if h.proc is None and now >= h.not_before and not h.given_up:
                h.start()

    def _gave_up(self, role: Role, code: int, now: float) -> bool:
        """After the same early death too often: stop restarting `role`, log why. True when play must end."""
        if not role.died_early_again(code, now, self.early_death_s, self.same_early_deaths):
            return False
        role.given_up = True
        n = len(role.early_deaths)
        diagnosis = ""
        if self.diagnose is not None:
            try:
                diagnosis = self.diagnose(role.name)
            except Exception as e:  # noqa: BLE001 - a failing diagnosis must not hide the giving up itself
                diagnosis = f"(the diagnosis failed: {type(e).__name__}: {e})\n"
        how = f"{n} times in a row, {describe_exit(code)} within {self.early_death_s:.0f} s of starting"
        if role is self.spare:
            log.error("the spare engine died at start %s: running without a spare (engine restarts will be "
                      "cold)\n%s", how, diagnosis)
            return False
        log.error("the %s died at start %s: not restarting it again; stopping.\ndiagnosis:\n%s",
                  role.name, how, diagnosis)
        self.exit_code = 1
        self.stop()
        return True

    def stop(self) -> None:
        self.stopping = True

    def _shutdown(self) -> None:
        roles = [r for r in (self.ui, self.engine, self.spare, *self.helpers) if r and r.alive()]
        for r in roles:
            r.proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for r in roles:
            try:
                r.proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time: killing it", r.name)
                r.proc.kill()
                r.proc.wait()

