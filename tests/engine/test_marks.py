"""Keep and reject: a mark resolves to ticks, text and mixture, is recorded, survives an engine
restart, and the passage regenerates exactly from the record."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from tests.fakes import EngineProbe
from textconductor.engine.conductor import CommandError
from textconductor.engine.marks import MAX_SPAN, MarkBook, read_marks
from textconductor.engine.record import read_record
from textconductor.engine.replay import recorded_text, replay
from textconductor.engine.root import Live, Settings, StyleSource, build_conductor, open_bank, start_engine
from textconductor.protocol import Rejected, Tick, parse_message
from textconductor.protocol.messages import Marked

NAMES = ["a", "b", "c"]


def feed(book: MarkBook, text: str, weights, t0: int, temperature: float = 0.8, mix: str = "linear") -> int:
    for k, ch in enumerate(text):
        book.observe(Tick(t0 + k, ch, np.zeros(3), np.zeros(97), np.zeros(0, np.int32), np.zeros((0, 97)),
                          np.asarray(weights, np.float32)), temperature, mix)
    return t0 + len(text)


def test_default_passage_starts_after_the_paragraph_break_and_holds_the_primed_words():
    book = MarkBook(NAMES)
    t = feed(book, "First para.\n\nSecond one", [1, 0, 0], 0)
    book.applied(t, "prime", "PRIMED")
    t = feed(book, " goes on.\n", [0, 0.5, 0.5], t, temperature=0.4)
    m = book.resolve("keep", (), t, seed=7, clock=1.0)
    assert (m.start_tick, m.end_tick) == (13, 33)
    assert m.text == "Second onePRIMED goes on.\n"
    assert m.weights == {"a": 0.5, "b": 0.25, "c": 0.25}  # 10 ticks on a alone, 10 on b and c
    assert m.temperature == pytest.approx(0.6) and m.mix == "linear" and m.seed == 7 and m.span == "default"
    t = feed(book, "Third.", [0, 0, 1], t)
    m = book.resolve("keep", (), t, seed=7)
    assert (m.start_tick, m.text) == (33, "Third.")  # from the last mark on, not the paragraph
    assert book.counts == {"keep": 2, "reject": 0}


def test_the_other_key_right_after_a_mark_changes_its_kind():
    book = MarkBook(NAMES)
    t = feed(book, "a passage", [1, 0, 0], 0)
    book.resolve("keep", (), t, 0)
    m = book.resolve("reject", (), t, 0)  # nothing new since: the same range, now rejected
    assert (m.kind, m.start_tick, m.end_tick) == ("reject", 0, 9)
    assert book.counts == {"keep": 0, "reject": 1}


def test_selected_span_reset_and_what_cannot_be_marked():
    book = MarkBook(NAMES, buffer_ticks=100)
    t = feed(book, "x" * 150, [0, 1, 0], 0)
    m = book.resolve("reject", (60, 80), t, 0)
    assert (m.start_tick, m.end_tick, m.text, m.span) == (60, 80, "x" * 20, "selected")
    with pytest.raises(CommandError, match="not in memory"):
        book.resolve("keep", (10, 40), t, 0)  # older than the buffer
    book.applied(t, "reset")
    with pytest.raises(CommandError, match="nothing to mark"):
        MarkBook(NAMES).resolve("keep", (), 0, 0)
    t2 = feed(book, "y" * 5, [0, 1, 0], t)
    assert book.resolve("keep", (), t2, 0).text == "yyyyy"  # a reset ends the passage before it


def test_default_passage_is_bounded():
    book = MarkBook(NAMES)
    t = feed(book, "z" * (MAX_SPAN + 500), [1, 0, 0], 0)
    m = book.resolve("keep", (), t, 0)
    assert m.end_tick - m.start_tick == MAX_SPAN


def test_state_round_trips():
    book = MarkBook(NAMES)
    t = feed(book, "One.\n\nTwo ", [1, 0, 0], 0)
    book.applied(t, "prime", "typed")
    t = feed(book, " three", [0.2, 0.8, 0], t)
    book.resolve("keep", (0, 4), t, 0)
    again = MarkBook(NAMES)
    again.restore(book.state())
    assert again.counts == book.counts and again.recent == book.recent and again.boundary == book.boundary
    t = feed(book, " four", [0, 0, 1], t)
    feed(again, " four", [0, 0, 1], t - 5)
    a, b = book.resolve("keep", (), t, 0, clock=0), again.resolve("keep", (), t, 0, clock=0)
    assert a == b and a.text == "Two typed three four"
    again.restore({"garbage": 1})  # logged, never fatal: the marks stay as they were
    assert again.counts["keep"] == 2


@pytest.mark.parametrize(("args", "ok"), [((), ()), ((1.0,), ()), ((3, 10), (3, 10)), ((3.0, 10.0), (3, 10)),
                                          ((10, 3), None), ((1.5, 3), None), (("a", 2), None), ((1, 2, 3), None),
                                          ((float("nan"), 2), None), ((-1, 2), None)])
def test_keep_and_reject_arguments_are_checked(args, ok):
    for address in ("/tc/keep", "/tc/reject"):
        got = parse_message(address, args)
        if ok is None:
            assert isinstance(got, Rejected)
        else:
            assert got.name == address[4:] and got.args == ok


# -- the real engine, in-process, on the bundled bank, over real UDP -----------------------------

class Live2:
    """An engine on the bundled bank (two styles) running in a thread, recording and snapshotting."""

    def __init__(self, record, state, restore: bool) -> None:
        bank, names = open_bank(StyleSource(styles=("bible", "austen")))
        c = build_conductor(bank, names, Settings(rate=300.0, seed=1, weights=(("bible", 0.6), ("austen", 0.4))))
        self.engine = start_engine(c, Live(port=0, record=record, state=state, restore=state if restore else None))
        self.engine.sock.start()
        self.thread = threading.Thread(target=self.engine.run, daemon=True)
        self.thread.start()
        self.probe = EngineProbe(self.engine.sock.address[1])
        self.probe.send("/tc/subscribe", self.probe.port)

    def marked(self, predicate=lambda m: True) -> Marked:
        return Marked.decode(self.probe.wait_for("/tc/marked", lambda a: predicate(Marked.decode(a)), timeout=20))

    def until_tick(self, n: int) -> None:
        self.probe.wait_for("/tc/tick", lambda a: a[0] >= n, timeout=30)

    def close(self) -> None:
        self.engine.stop()
        self.thread.join(10)
        self.engine.close()
        self.probe.close()


def test_marks_are_recorded_and_survive_an_engine_restart(tmp_path):
    record, state = tmp_path / "performance.jsonl", tmp_path / "state.json"
    live = Live2(record, state, restore=False)
    try:
        live.until_tick(150)
        live.probe.send("/tc/keep")
        first = live.marked()
        assert first.kind == "keep" and first.end >= 150 and (first.kept, first.rejected) == (1, 0)
        live.probe.send("/tc/reject", 10, 40)
        assert live.marked(lambda m: m.kind == "reject") == Marked("reject", 10, 40, 1, 1)
        live.probe.send("/tc/keep", 50, 40)  # start after end: refused and counted, never fatal
        live.until_tick(first.end + 20)
    finally:
        live.close()
    assert live.engine.sock.rejected.snapshot().get("mark span must have start < end") == 1

    live = Live2(record, state, restore=True)  # a restarted engine: same record, the snapshot
    try:
        announced = live.marked(lambda m: (m.start, m.end) == (10, 40))
        assert (announced.kept, announced.rejected) == (1, 1)  # the window gets its marks back
        t0 = live.engine.conductor.tick_index
        live.until_tick(t0 + 60)
        live.probe.send("/tc/keep")
        third = live.marked(lambda m: m.kept == 2)
        assert third.start >= first.end  # the passage goes on from the last mark, across the restart
    finally:
        live.close()

    lines = read_record(record)
    assert [line["type"] for line in lines].count("restore") == 1
    marks = read_marks([record])
    assert [(m.kind, m.start_tick, m.end_tick) for m in marks] == sorted(
        [("reject", 10, 40), ("keep", first.start, first.end), ("keep", third.start, third.end)],
        key=lambda k: k[1:])
    text = recorded_text(lines)
    for m in marks:
        assert m.text == "".join(text[t] for t in range(m.start_tick, m.end_tick))
        assert m.record == record and m.seed == 1 and m.mix == "linear" and m.temperature > 0
        assert set(m.weights) == {"bible", "austen"} and sum(m.weights.values()) == pytest.approx(1, abs=0.01)
    r = replay(record)  # marks are not events: the replay stays exact
    assert r.first_mismatch is None and r.ticks > 200

    # a passage after the restart: regenerated through the restore line too
    kept = next(m for m in marks if m.start_tick == third.start)
    out = subprocess.run([sys.executable, "-m", "textconductor", "replay", str(record), "--passage",
                          f"{kept.start_tick}:{kept.end_tick}"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout == kept.text and "identical" in out.stderr
