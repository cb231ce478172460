"""Autopilot: the wander path (pure) and the hand-over shell (fake clock, then a real thread)."""

from __future__ import annotations

import math
import threading
import time

import pytest

from tests.fakes import FakeClock, RecordingSink
from textconductor.controllers.autopilot import MAX_RADIUS, Autopilot, wander, waypoint
from textconductor.controllers.puck import puck_weights, style_positions
from textconductor.protocol.controls import ActivitySink


@pytest.mark.parametrize("n", [1, 2, 3, 7, 24])
def test_same_seed_same_path_other_seed_other_path(n):
    pos = style_positions(n)
    ts = [i * 0.37 for i in range(400)]
    a = [wander(t, 5, pos) for t in ts]
    assert a == [wander(t, 5, pos) for t in ts]
    if n > 1:
        assert a != [wander(t, 6, pos) for t in ts]


def test_path_is_continuous_slow_and_inside_the_disc():
    pos = style_positions(6)
    leg = 15.0
    dt = 0.05
    prev = wander(0.0, 3, pos, leg)
    top_speed = 0.0
    for i in range(1, int(6 * leg * 3 / dt)):  # three full cycles
        p = wander(i * dt, 3, pos, leg)
        assert math.hypot(*p) <= MAX_RADIUS + 1e-9
        top_speed = max(top_speed, math.dist(p, prev) / dt)
        prev = p
    # Slow: never faster than crossing the whole circle (diameter 2) in 5 s; smooth: no jumps.
    assert top_speed < 2 / 5


def test_lingers_at_waypoints():
    """Velocity is zero at each waypoint (eased timing): it settles on a style before moving on."""
    pos = style_positions(5)
    for k in range(1, 8):
        t = k * 15.0
        assert math.dist(wander(t, 1, pos), wander(t + 0.1, 1, pos)) < 2e-3
        assert wander(t, 1, pos) == pytest.approx(waypoint(k, 1, pos))


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (3, 1), (5, 2), (8, 3), (24, 4)])
def test_every_style_leads_in_every_cycle(n, seed):
    names = [f"s{i}" for i in range(n)]
    pos = style_positions(n)
    for cycle in range(3):
        leaders = set()
        for k in range(cycle * n, (cycle + 1) * n):
            w = puck_weights(*wander(k * 15.0, seed, pos), names)
            leaders.add(max(w, key=w.get))
        assert leaders == set(names)


def test_no_style_twice_in_a_row_across_cycles():
    pos = style_positions(4)
    nearest = []
    for k in range(40):
        x, y = waypoint(k, 9, pos)
        nearest.append(min(range(4), key=lambda i: math.dist((x, y), pos[i])))
    assert all(a != b for a, b in zip(nearest, nearest[1:], strict=False))


def test_no_styles_is_the_centre():
    assert wander(12.3, 0, []) == (0.0, 0.0)


def test_idle_then_wander_then_hand_over_then_resume():
    clock = FakeClock()
    sink = RecordingSink(["a", "b", "c"])
    states = []
    pilot = Autopilot(idle_s=10, seed=2, glide_s=1.0, clock=clock, on_state=states.append)
    pilot.bind(sink)
    for _ in range(9):  # 9 s of nothing: still waiting
        clock.t += 1
        assert pilot.tick() is None
    clock.t += 1
    assert pilot.tick() is not None and pilot.active and states == [True]
    for _ in range(40):
        clock.t += 0.05
        pilot.tick()
    moved = sink.take()
    assert len(moved) == 41 and all(c[0] == "puck" for c in moved)
    path_t = pilot.path_t
    assert path_t == pytest.approx(2.0)

    pilot.input_seen(puck=(0.5, -0.5))  # the performer grabs the puck
    assert not pilot.active and states == [True, False]
    for _ in range(99):  # 9.9 s: nothing from the autopilot at all
        clock.t += 0.1
        assert pilot.tick() is None
    assert sink.take() == []
    clock.t += 0.2
    first = pilot.tick()  # resumes: glides from where the performer left the puck
    assert first == pytest.approx((0.5, -0.5))
    for _ in range(30):
        clock.t += 0.05
        pilot.tick()
    assert pilot.path_t == pytest.approx(path_t + 1.5)  # the path continues where it stopped
    assert pilot.last_point == pytest.approx(wander(pilot.path_t, 2, style_positions(3)))  # glide over


def test_two_runs_with_the_same_seed_send_the_same_pucks():
    def run() -> list:
        clock = FakeClock()
        sink = RecordingSink(["a", "b", "c", "d"])
        pilot = Autopilot(idle_s=1, seed=11, clock=clock)
        pilot.bind(sink)
        for _ in range(300):
            clock.t += 0.05
            pilot.tick()
        return sink.take()
    assert run() == run()


def test_a_stalled_timer_does_not_jump():
    clock = FakeClock()
    sink = RecordingSink(["a", "b", "c"])
    pilot = Autopilot(idle_s=0, seed=0, glide_s=0, clock=clock)
    pilot.bind(sink)
    pilot.tick()
    clock.t += 3600  # suspended for an hour
    pilot.tick()
    assert pilot.path_t <= 0.5


def test_style_set_change_glides():
    clock = FakeClock()
    sink = RecordingSink(["a", "b", "c"])
    pilot = Autopilot(idle_s=0, seed=0, glide_s=2.0, clock=clock)
    pilot.bind(sink)
    for _ in range(100):
        clock.t += 0.05
        pilot.tick()
    before = pilot.last_point
    sink.styles = ["a", "b", "c", "d", "e"]  # two styles enabled: the circle is laid out anew
    clock.t += 0.05
    after = pilot.tick()
    assert math.dist(before, after) < 0.05


def test_real_thread_hands_over_at_once_and_resumes():
    sink = RecordingSink(["a", "b", "c"])
    pilot = Autopilot(idle_s=1.0, seed=1, fps=50)
    watched = ActivitySink(sink, pilot.input_seen)
    pilot.start(sink)
    try:
        assert sink.changed.wait(5), "autopilot never started"
        watched.set_weights({"a": 1.0})  # a fader moves: autopilot must stop now
        sink.take()
        time.sleep(0.3)  # less than idle: the autopilot stays quiet
        assert sink.take() == []
        assert sink.changed.wait(5)  # ... and comes back after the idle time
        assert any(c[0] == "puck" for c in sink.take())
    finally:
        pilot.stop()
    sink.take()
    time.sleep(0.1)
    assert sink.take() == []  # stopped means stopped


def test_activity_sink_forwards_and_reports():
    sink = RecordingSink(["a"])
    seen = []
    watched = ActivitySink(sink, lambda **kw: seen.append(kw))
    watched.set_puck(0.1, 0.2)
    watched.control("temperature", 0.5)
    assert watched.enabled_styles() == ["a"]
    assert seen == [{"puck": (0.1, 0.2)}, {}]
    assert sink.take() == [("puck", 0.1, 0.2), ("control", "temperature", 0.5)]


def test_a_raising_sink_does_not_stop_the_thread(caplog):
    class Flaky(RecordingSink):
        def __init__(self):
            super().__init__(["a", "b"])
            self.n = 0

        def set_puck(self, x, y):
            self.n += 1
            if self.n % 2:
                raise RuntimeError("flaky display")
            super().set_puck(x, y)

    sink = Flaky()
    pilot = Autopilot(idle_s=0, fps=100)
    pilot.start(sink)
    try:
        assert sink.changed.wait(5)
    finally:
        pilot.stop()
    assert "flaky display" in caplog.text
    assert len(sink.take()) >= 1


def test_input_seen_blocks_a_tick_in_progress():
    """No set_puck may follow input_seen: the tick holds the lock across its send."""
    release = threading.Event()
    entered = threading.Event()

    class Slow(RecordingSink):
        def set_puck(self, x, y):
            entered.set()
            release.wait(5)
            super().set_puck(x, y)

    sink = Slow(["a", "b"])
    clock = FakeClock()
    pilot = Autopilot(idle_s=5, clock=clock)
    pilot.bind(sink)
    clock.t += 6
    t = threading.Thread(target=pilot.tick)
    t.start()
    assert entered.wait(5)
    done = threading.Event()
    threading.Thread(target=lambda: (pilot.input_seen(), done.set())).start()
    assert not done.wait(0.1)  # waits for the send in flight ...
    release.set()
    assert done.wait(5)  # ... then takes over; nothing after it
    t.join(5)
    n = len(sink.take())
    assert n == 1 and pilot.tick() is None


def test_bad_parameters():
    with pytest.raises(ValueError):
        Autopilot(leg_s=0)
    with pytest.raises(ValueError):
        wander(1.0, 0, style_positions(3), leg_s=-1)
