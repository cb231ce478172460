"""The tempo controller's pure core: MIDI clock pulses with jitter -> tempo and phase, the character
grid, the bar-line rule, the note mapping; and the driver against the fake engine on a real socket."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from tests.fakes import FakeEngine, wait_for
from textconductor.controllers.tempo.driver import TempoDriver
from textconductor.controllers.tempo.notes import note_for
from textconductor.controllers.tempo.schedule import (
    PPQN,
    BarLines,
    CharGrid,
    ClockFollower,
    PortStamps,
    Timeline,
    clock_pulses,
)
from textconductor.controllers.tempo.sources import CLOCK, SONG_POSITION, START, STOP, MidiClockSource, TimerSource
from textconductor.protocol.client import EngineConnection


def follow(pulses: list[float], follower: ClockFollower | None = None) -> ClockFollower:
    f = follower or ClockFollower()
    for t in pulses:
        f.pulse(t)
    return f


@pytest.mark.parametrize("bpm", [60.0, 120.0, 174.0])
@pytest.mark.parametrize("jitter_ms", [0.0, 2.0, 5.0])
def test_tempo_and_phase_from_jittered_pulses(bpm, jitter_ms):
    """Each pulse is delayed by a random transport delay (first in, first out, as a cable or JACK).
    Beyond about a quarter of a pulse interval (5 ms at 120 BPM) a late pulse cannot be told from a
    lost one by its own timing; JACK's bursts are the next test."""
    rng = random.Random(int(bpm) + int(jitter_ms))
    ideal = clock_pulses(bpm, 8, t0=100.0)
    delays = [abs(rng.gauss(0, jitter_ms / 1e3)) for _ in ideal]
    arrivals, last = [], 0.0
    for t, d in zip(ideal, delays, strict=True):
        last = max(last, t + d)
        arrivals.append(last)
    tl = follow(arrivals).timeline()
    assert tl is not None
    assert tl.bpm == pytest.approx(bpm, rel=0.002 + jitter_ms / 1e3)
    mean_delay = sum(arrivals[-48:]) / 48 - sum(ideal[-48:]) / 48  # the constant part: a latency, not jitter
    next_beat_t = 100.0 + 8 * 60.0 / bpm  # where beat 8 truly falls
    err_ms = abs(tl.time_of(8.0) - next_beat_t - mean_delay) * 1e3
    assert err_ms < 0.1 + 0.5 * jitter_ms, err_ms  # below the jitter of a single pulse


def test_jack_like_delivery_in_bursts_is_smoothed():
    """JACK delivers once per period (21.3 ms at 1024 frames / 48 kHz): arrivals are quantised up."""
    period = 1024 / 48000
    ideal = clock_pulses(120.0, 8)
    f = follow([(int(t / period) + 1) * period for t in ideal])
    tl = f.timeline()
    assert tl.bpm == pytest.approx(120.0, rel=0.01)
    err = tl.time_of(8.0) - 4.0  # the constant part is the transport's mean delay, about half a period
    assert 0 <= err < period


def test_port_stamps_undo_a_late_poll():
    """Pulses 20.8 ms apart, seen by a poll that comes 0..2 ms late, sometimes two at once: the
    stamps give back the true spacing, never a time after the poll saw the message."""
    rng = random.Random(1)
    stamps = PortStamps()
    true = clock_pulses(120.0, 4, t0=50.0)
    seen = [t + rng.uniform(0, 0.002) for t in true]
    for k in range(10, len(seen), 7):
        seen[k - 1] = seen[k]  # two in one poll
    got, prev = [], None
    for t, s in zip(true, seen, strict=True):
        got.append(stamps.stamp(0.0 if prev is None else t - prev, s))
        prev = t
        assert got[-1] <= s + 1e-12
    err = [g - t for g, t in zip(got, true, strict=True)]
    assert max(err[24:]) - min(err[24:]) < 1e-9  # after a beat: exact spacing, one constant offset
    assert 0 <= err[-1] < 0.0005  # and that offset is the earliest poll's lateness


@pytest.mark.parametrize("new_bpm", [90.0, 60.0, 40.0, 180.0])
def test_tempo_change_is_followed_within_two_beats(new_bpm):
    f = follow(clock_pulses(120.0, 4))
    t_end = 4 * 0.5
    f = follow(clock_pulses(new_bpm, 2.5, t0=t_end), f)
    assert f.timeline().bpm == pytest.approx(new_bpm, rel=0.01)
    assert f.lost == 0 and f.count == 4 * PPQN + int(2.5 * PPQN)  # no pulse taken for lost


def test_start_stop_gap_and_song_position():
    f = follow(clock_pulses(120.0, 2))
    assert f.timeline().bpm == pytest.approx(120.0)
    f.stop()
    assert f.timeline() is None
    f.pulse(5.0)  # pulses while stopped move nothing
    assert f.timeline() is None and f.ignored == 1
    f.start()
    f.pulse(10.0)  # MIDI: the first clock after Start is the downbeat, at the last tempo
    tl = f.timeline()
    assert tl.beat_at(10.0) == pytest.approx(0.0) and tl.bpm == pytest.approx(120.0)
    f = follow([10.0 + k * 0.5 / PPQN for k in range(1, 30)], f)
    assert f.timeline().beat_at(10.0 + 29 * 0.5 / PPQN) == pytest.approx(29 / PPQN, abs=1e-6)
    f.pulse(20.0)  # 9 s of silence: the clock stopped without a Stop; the fit starts again
    assert f.timeline().t0 == 20.0
    f.song_position(16)  # 16 sixteenths = 4 beats
    f.pulse(20.5)
    assert f.timeline().beat_at(20.5) == pytest.approx(4.0)


def test_lost_pulses_do_not_move_beat_0_and_late_ones_are_not_lost():
    ideal = clock_pulses(120.0, 8)
    dt = ideal[1]
    gone = {60, 100, 101, *range(140, 150)}  # one, two, and ten in a row (a stall) lost on the way
    f = follow([t for k, t in enumerate(ideal) if k not in gone])
    assert f.lost == len(gone)
    assert f.timeline().beat_at(ideal[-1]) == pytest.approx(8 - 1 / PPQN, abs=0.005)
    f = follow([t for k, t in enumerate(ideal) if k != 2])  # lost before there was a line to judge it by
    assert f.lost == 1
    assert f.timeline().beat_at(ideal[-1]) == pytest.approx(8 - 1 / PPQN, abs=0.005)
    late = list(ideal)
    late[1] = late[2] = ideal[3] - 0.0001  # and two late at the very start, in one burst
    f = follow(sorted(late))
    assert f.lost == 0 and f.timeline().beat_at(ideal[-1]) == pytest.approx(8 - 1 / PPQN, abs=0.005)
    late = list(ideal)
    late[60] = late[61] = ideal[62] - 0.0001  # two delivered late, together with the next (a burst)
    late[120] = ideal[121]
    f = follow(sorted(late))
    assert f.lost == 0 and f.count == len(ideal)
    assert f.timeline().beat_at(ideal[-1]) == pytest.approx(8 - 1 / PPQN, abs=0.005)
    assert dt > 0


def test_out_of_range_tempo_is_ignored():
    f = follow([k * 0.25 for k in range(30)])  # 10 BPM: not a clock
    assert f.timeline() is None and f.ignored > 0


def test_grid_places_characters_on_beats_and_never_bursts():
    g = CharGrid(4.0)
    assert g.next_beat(0.0) == 0.0
    assert g.due(0.0) == 1
    assert g.due(0.2) == 0  # next at 0.25
    assert g.due(0.25) == 1
    assert g.next_beat(0.3) == 0.5
    assert g.due(0.74) == 1 and g.next_beat(0.74) == 0.75
    assert g.due(3.0) == 2 and g.skipped == 8  # a stall: 10 were due; two now, eight skipped
    assert g.due(2.9) == 0  # a corrected estimate a hair behind: no slot twice
    g.set_chars_per_beat(0.5, 3.1)  # one character every two beats
    assert g.next_beat(3.1) == 4.0
    with pytest.raises(ValueError):
        CharGrid(0.0)
    with pytest.raises(ValueError):
        CharGrid(float("nan"))


def test_bar_lines_break_at_the_first_space_after_the_bar():
    bars = BarLines(beats_per_bar=4, window=1.0)
    text = "the lord is my shepherd and i shall not want"
    breaks = [k for k, ch in enumerate(text) if bars.after_char(ch, k * 0.25)]  # 4 chars a beat, 16 a bar
    # bar 0 starts at char 0 (first space: 3); bar 1 at char 16, inside "shepherd" until 23: past the
    # window (16..20), so no break; bar 2 at char 32: the space at 35
    assert breaks == [3, 35]
    assert all(text[k] == " " for k in breaks)


def test_bar_lines_never_cut_a_word_and_count_the_texts_own_newline():
    bars = BarLines(beats_per_bar=4, window=0.5)
    assert not bars.after_char("x", 4.1)  # no space in the window: no break this bar
    assert not bars.after_char(" ", 4.6)  # past the window
    assert not bars.after_char("\n", 7.8)  # the text's own newline just before bar 2 ...
    assert not bars.after_char(" ", 8.1)  # ... is that bar's line break
    assert bars.after_char(" ", 12.2)
    with pytest.raises(ValueError):
        BarLines(4, 5.0)


def test_note_mapping():
    assert note_for(" ", 0.9) is None and note_for("\n", 0.9) is None  # whitespace rests
    note, vel = note_for("a", 1.0)
    assert vel == 127 and 48 <= note < 48 + 36
    assert note_for("a", 0.0)[1] == 1
    assert note_for("a", 0.25)[1] == 64  # sqrt: a quarter of certainty is half the velocity
    pent = {n % 12 for n in (note_for(c, 0.5)[0] for c in "abcdefghijklmnopqrstuvwxyz")}
    assert pent <= {0, 2, 4, 7, 9}
    assert note_for("a", 0.5)[0] != note_for("b", 0.5)[0]
    assert all(0 <= note_for(chr(c), 0.5)[0] <= 127 for c in range(33, 127))


def test_midi_clock_bytes_drive_the_follower():
    events = []
    src = MidiClockSource(None, on_transport=events.append)
    src.handle([START], 0.0)
    for k, t in enumerate(clock_pulses(100.0, 2)):
        src.handle([CLOCK], t)
        assert k < 5 or src.timeline() is not None
    assert src.timeline().bpm == pytest.approx(100.0)
    src.handle([STOP], 1.3)
    assert src.timeline() is None and events == ["start", "stop"]
    src.handle([SONG_POSITION, 8, 0], 1.4)  # sixteenth 8 = beat 2
    src.handle([START], 1.5)
    assert src.epoch == 3


def test_driver_sends_advance_on_the_grid_to_a_real_socket():
    engine = FakeEngine()
    conn = EngineConnection("127.0.0.1", engine.port, ping=False)
    slots: list[tuple[float, int]] = []
    source = TimerSource(240.0)  # 4 beats a second, 2 characters a beat
    driver = TempoDriver(source, conn, 2.0, on_advance=lambda t, n: slots.append((t, n)))
    try:
        source.start()
        driver.start()
        assert wait_for(lambda: len(slots) >= 9, timeout=10)
        driver.stop()
        tl = source.timeline()
        # each slot on the grid: beat k / 2, in order, one character each
        assert [round(tl.beat_at(t) * 2, 6) for t, _ in slots[:9]] == list(range(9))
        assert {n for _, n in slots} == {1}
        cmds = engine.wait_commands(10)  # the rate and nine advances: waiting for nine could miss the last
        assert [c.args for c in cmds if c.name == "advance"].count((1,)) >= 9  # each arrived on the wire
        assert any(c.name == "rate" and c.args == (8.0,) for c in cmds)  # 240 BPM x 2 = 8 chars/s
    finally:
        driver.stop()
        conn.close()
        engine.close()


class FixedBeat:
    epoch = 0

    def timeline(self) -> Timeline:
        return Timeline(0.0, 0.0, 120.0)  # beat = 2 * t


def test_driver_primes_a_newline_after_the_first_space_of_a_bar():
    engine = FakeEngine()
    conn = EngineConnection("127.0.0.1", engine.port, ping=False)
    now = [0.0]
    driver = TempoDriver(FixedBeat(), conn, 4.0, bars=BarLines(4, 1.0), clock=lambda: now[0])
    rng = np.random.default_rng(0)
    try:
        for t, ch in [(1.0, " "), (2.05, "a"), (2.1, " "), (2.2, " "), (4.1, "\n"), (4.2, " ")]:
            now[0] = t  # beats 2, 4.1 (bar 1), 4.2, 4.4, 8.2 (bar 2: its own newline), 8.4
            driver.on_message(engine.make_tick(ch, 0, rng))
        cmds = engine.wait_commands(1)
        time.sleep(0.2)
        assert [(c.name, c.args) for c in engine.commands] == [("prime", ("\n",))]  # only after the space at 4.2
        assert driver.newlines == 1
    finally:
        conn.close()
        engine.close()
    assert cmds


def test_timeline_round_trip():
    tl = Timeline(10.0, 2.0, 150.0)
    assert tl.beat_at(tl.time_of(7.25)) == pytest.approx(7.25)
