"""The loop guard's state without Qt: what the Performer sends for `guard` and `guard_strength`, how it takes
the engine's /tc/guards and /tc/guarded, and how GuardMarks turns tick numbers into character offsets."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes import FakeClock
from textconductor import protocol
from textconductor.frontend.guard_marks import MAX_WAITING, GuardMarks
from textconductor.frontend.performer import INTERACTION_GUARD_S, Performer
from textconductor.frontend.stream import TickStream

NAMES = ["psalm", "code", "verse"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def perf(tmp_path, clock) -> Performer:
    from textconductor.frontend.presets import PresetStore
    p = Performer(PresetStore(tmp_path / "presets.json"), clock=clock)
    p.on_hello(protocol.Hello(NAMES, np.ones(3, bool), np.array([1, 0, 0], np.float32), ""))
    return p


def sent(perf: Performer, action) -> list[tuple]:
    out: list[tuple] = []
    perf.events.send.connect(lambda *a: out.append(a))
    action()
    return out


# (controls applied in order, what each sends)
CONTROL_CASES = {
    "off": ([("guard", 0)], [("/tc/guard", 0)]),
    "on": ([("guard", 1)], [("/tc/guard", 1)]),
    "no value toggles (on by default)": ([("guard", None), ("guard", None)], [("/tc/guard", 0), ("/tc/guard", 1)]),
    "strength keeps the switch": ([("guard", 0), ("guard_strength", 0.25)], [("/tc/guard", 0), ("/tc/guard", 0, 0.25)]),
    "strength is clamped": ([("guard_strength", 7.0), ("guard_strength", -1)],
                            [("/tc/guard", 1, 1.0), ("/tc/guard", 1, 0.0)]),
}


@pytest.mark.parametrize(("controls", "expected"), CONTROL_CASES.values(), ids=CONTROL_CASES.keys())
def test_guard_controls_send_the_guard_command(perf, controls, expected):
    got = sent(perf, lambda: [perf.control(n, v) for n, v in controls])
    assert got == expected
    for address, *args in got:  # and the engine's own command table accepts each
        (cmd,) = protocol.parse_packet(protocol.message(address, *args), ("127.0.0.1", 1))
        assert cmd.name == "guard"


def test_a_nan_strength_is_refused(perf):
    with pytest.raises(ValueError):
        perf.control("guard_strength", float("nan"))


def test_engine_setting_waits_for_the_interaction_guard_but_counters_do_not(perf, clock):
    perf.control("guard", 0)  # the performer switched it off
    perf.on_guards(protocol.Guards(on=True, strength=1.0, loop_acts=5))  # an older echo
    assert perf.loop_guard.on is False and perf.loop_guard.loop_acts == 5
    clock.t += INTERACTION_GUARD_S + 0.1
    perf.on_guards(protocol.Guards(on=True, strength=0.4, loop_acts=6))  # someone else switched it on
    assert perf.loop_guard.on is True and perf.loop_guard.strength == pytest.approx(0.4)


def test_the_link_message_is_not_changed_in_place(perf, clock):
    clock.t += INTERACTION_GUARD_S + 0.1
    msg = protocol.Guards(on=True)
    perf.on_guards(msg)
    perf.control("guard", 0)
    assert msg.on is True  # the client keeps it as `last_guards`


def test_a_restarted_engine_gets_the_performers_guard_only_if_it_was_set(perf):
    assert ("/tc/guard",) not in [a[:1] for a in sent(perf, perf.push_state)]
    perf.control("guard_strength", 0.5)
    perf.control("guard", 0)
    assert ("/tc/guard", 0, 0.5) in sent(perf, perf.push_state)


def test_guarded_is_counted_by_kind(perf):
    seen = []
    perf.events.guarded.connect(seen.append)
    for kind in ("loop", "whitespace", "loop", "blocklist"):
        perf.on_guarded(protocol.Guarded(7, kind))
    assert perf.guard_acts == {"loop": 2, "whitespace": 1, "blocklist": 1} and len(seen) == 4


def tick(n: int, char: str = "a") -> protocol.Tick:
    z = np.zeros(3, np.float32)
    return protocol.Tick(n, char, z, np.zeros(4, np.float32), np.zeros(0, np.int32), np.zeros((0, 4), np.float32), z)


def test_marks_follow_the_queued_text():
    m, stream = GuardMarks(), TickStream()
    m.guarded(protocol.Guarded(3, "loop"))
    m.guarded(protocol.Guarded(3, "blocklist"))  # two guards on one character: one mark
    m.guarded(protocol.Guarded(6, "whitespace"))
    batch1 = [tick(1), tick(2), tick(3)]
    stream.add_ticks(batch1)
    m.ticks(batch1)
    stream.add_text("hi", None)
    m.text("hi")
    batch2 = [tick(4), tick(5), tick(6, "x")]
    stream.add_ticks(batch2)
    m.ticks(batch2)
    queued, marks = m.take()
    text = "".join(t for t, _ in stream.take_runs())
    assert queued == len(text) == 8
    assert marks == [(2, "loop"), (7, "whitespace")] and text[7] == "x"
    assert m.take() == (0, []) and m.marked == 2


def test_lost_ticks_and_resets_leave_no_stale_marks():
    m = GuardMarks()
    m.guarded(protocol.Guarded(2, "loop"))
    m.ticks([tick(1), tick(3)])  # tick 2 never came
    m.ticks([tick(2)])  # an engine restarted and counts again: not the old announcement
    assert m.take() == (3, [])
    m.guarded(protocol.Guarded(9, "loop"))
    m.clear()
    m.ticks([tick(9)])
    assert m.take() == (1, [])
    for n in range(MAX_WAITING + 5):  # announcements whose ticks never come are bounded
        m.guarded(protocol.Guarded(10_000 + n, "loop"))
    assert len(m._waiting) <= MAX_WAITING
