"""Rate-limited logging: everything counted, the first of each kind reported, then a few lines."""

from __future__ import annotations

import logging
import threading

from tests.fakes import FakeClock
from textconductor.protocol.ratelimit import Due, FailureLog, RateLimitedLog


def test_first_of_each_key_at_once_then_at_most_every_period():
    clock = FakeClock(100.0)
    rl = RateLimitedLog(every_s=5.0, clock=clock)
    assert rl.add("a") == Due(1, True)
    assert rl.add("b") == Due(1, True)  # a new kind is reported at once, whatever came before
    assert [bool(rl.add("a")) for _ in range(3)] == [False] * 3
    clock.t += 4.9
    assert not rl.add("a")
    clock.t += 0.1
    assert rl.add("a") == Due(5, False)  # this one and the 4 held back
    assert not rl.add("a")
    clock.t += 60
    assert rl.add("a") == Due(2, False)
    assert rl.snapshot() == {"a": 8, "b": 1} and rl.total == 9


def test_log_appends_the_count_held_back(caplog):
    clock = FakeClock(100.0)
    rl = RateLimitedLog(every_s=1.0, clock=clock)
    logger = logging.getLogger("test.ratelimit")
    with caplog.at_level(logging.WARNING):
        for _ in range(4):
            rl.log(logger, logging.WARNING, "cam", "camera gives no frames (%s)", "usb")
        clock.t += 1.0
        assert rl.log(logger, logging.WARNING, "cam", "camera gives no frames (%s)", "usb")
    assert [r.getMessage() for r in caplog.records] == [
        "camera gives no frames (usb)", "camera gives no frames (usb) (3 more since the last report)"]


def test_a_flood_from_many_threads_is_counted_exactly():
    rl = RateLimitedLog(every_s=3600)
    reports = []

    def flood() -> None:
        for _ in range(5000):
            due = rl.add("x")
            if due:
                reports.append(due)

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rl.total == 20_000 and reports == [Due(1, True)]


def test_failure_log_first_with_traceback_then_counts(caplog):
    clock = FakeClock(100.0)
    failures = FailureLog(logging.getLogger("test.failures"), "autopilot tick", every_s=10.0, clock=clock)

    def boom(n: int) -> int:
        raise RuntimeError(f"boom {n}")

    assert [failures.call(boom, i) for i in range(5)] == [None] * 5
    clock.t += 10
    assert failures.call(boom, 5) is None
    assert failures.call(lambda a, b=1: a + b, 1, b=2) == 3  # results pass through
    assert failures.count == 6
    assert [r.getMessage() for r in caplog.records] == [
        "autopilot tick failed (continuing): boom 0",
        "autopilot tick failed 5 more time(s), last: RuntimeError('boom 5')"]
    assert caplog.records[0].exc_info is not None and caplog.records[1].exc_info is None
