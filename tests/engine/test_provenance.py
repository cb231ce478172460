"""The corpus index and the verbatim marker against brute force, and the marks from a real engine."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import subscriber_socket
from textconductor import protocol
from textconductor.engine.provenance import Marker, Matcher, open_live
from textconductor.engine.suffix_index import (
    BUCKETS,
    MANIFEST,
    SA,
    TEXT,
    CorpusIndex,
    CorpusIndexError,
    bucket_starts,
)
from textconductor.protocol.messages import OUT_VERBATIM, Verbatim, decode_output
from textconductor.tools.corpus_index import build, in_memory, join, suffix_array

ALPHABET = "ab\nc"  # few symbols: many repeats, long matches, ties in the suffix order
corpus_text = st.text(alphabet=ALPHABET, min_size=0, max_size=60)
corpora = st.lists(corpus_text, min_size=1, max_size=4)


def brute_positions(texts: list[str], pattern: str) -> list[int]:
    """Every start of `pattern` in the joined text, never across two corpora."""
    out, start = [], 0
    for t in texts:
        out += [start + i for i in range(len(t) - len(pattern) + 1) if t.startswith(pattern, i)]
        start += len(t) + 1
    return out


def occurs(texts: list[str], pattern: str) -> bool:
    return any(pattern in t for t in texts)


def index_of(texts: list[str]) -> CorpusIndex:
    return in_memory([(f"s{i}", t) for i, t in enumerate(texts)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora, st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=8), min_size=1, max_size=10))
def test_lookups_agree_with_brute_force(texts, patterns):
    ix = index_of(texts)
    for p in patterns:
        assert ix.positions(p.encode()) == brute_positions(texts, p)
        assert ix.count(p.encode()) == len(brute_positions(texts, p))


@settings(max_examples=100, deadline=None)
@given(corpora, st.integers(0, 10_000))
def test_locate_names_style_offset_and_line(texts, k):
    ix = index_of(texts)
    places = [(i, j) for i, t in enumerate(texts) for j in range(len(t))]
    if not places:
        return
    i, j = places[k % len(places)]
    where = ix.locate(ix.corpora[i].start + j)
    assert (where.style, where.offset, where.line) == (f"s{i}", j, texts[i][:j].count("\n") + 1)


def test_bucket_table_starts_every_two_byte_prefix():
    joined, _ = join([("a", "abracadabra\nbanana"), ("b", "cabbage")])
    sa = suffix_array(joined)
    b = bucket_starts(joined)
    assert b[0] == 1 and b[-1] == len(joined) and sa[0] == len(joined) - 1
    for x in np.flatnonzero(np.diff(b)):
        for r in range(b[x], b[x + 1]):
            p = int(sa[r])
            assert (int(joined[p]) << 8 | int(joined[p + 1])) == x


def longest_suffix_in(texts: list[str], text: str) -> int:
    return max((n for n in range(len(text) + 1) if occurs(texts, text[len(text) - n:])), default=0)


@settings(max_examples=120, deadline=None)
@given(corpora, st.text(alphabet=ALPHABET + "d", min_size=1, max_size=80), st.integers(1, 6))
def test_the_matcher_agrees_with_brute_force(texts, generated, k):
    """At each character: the longest suffix of the text so far found in a corpus, when at least k long."""
    m = Matcher(index_of(texts), min_length=k, max_match=10_000)
    for t in range(len(generated)):
        want = longest_suffix_in(texts, generated[:t + 1])
        assert m.push(ord(generated[t])) == (want if want >= k else 0), (t, generated[:t + 1])


def test_a_reset_starts_the_match_afresh():
    m = Matcher(index_of(["abcabc"]), min_length=2)
    assert [m.push(ord(c)) for c in "abc"] == [0, 2, 3]
    m.reset()
    assert [m.push(ord(c)) for c in "ca"] == [0, 2]


def test_marker_reports_spans_of_min_span_with_the_preferred_book():
    ix = in_memory([("bible", "In the beginning God created the heaven and the earth.\n"),
                    ("austen", "x\nIn the beginning God created the heaven, said Emma.\n")])
    marker = Marker(ix, min_span=20)
    text = "So. In the beginning God created the heaven and so on"
    marks = [marker.push(t, c, ["austen", "bible"]) for t, c in enumerate(text)]
    got = [m for m in marks if m is not None]
    first = text.index("In the")
    assert got[0].start_tick == first and got[0].end_tick == first + 19
    assert got[0].where.style == "austen" and got[0].where.line == 2  # both have it: the preferred one
    longest = max(got, key=lambda m: m.end_tick - m.start_tick)
    assert longest.start_tick == first and longest.end_tick == text.index(" so on")  # "...heaven and "
    assert (longest.where.style, longest.where.offset) == ("bible", 0)  # only the Bible goes on
    assert all(m.end_tick - m.start_tick + 1 >= 20 for m in got)


def test_build_writes_arrays_and_a_manifest_without_pickles(tmp_path):
    files = []
    for name, text in (("homer", "Sing, O goddess, the anger of Achilles\n" * 3), ("grimm", "Once upon a time\n")):
        f = tmp_path / f"{name}.txt"
        f.write_text(text.replace("O goddess", "O goddess\u2014"), encoding="utf-8")  # a dash, folded to --
        files.append(f)
    out = tmp_path / "index"
    report = build(files, out)
    assert report.corpora == 2 and report.bytes_on_disk > 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert [c["style"] for c in manifest["corpora"]] == ["homer", "grimm"]
    assert all(len(c["sha256"]) == 64 for c in manifest["corpora"])
    for name in (TEXT, SA, BUCKETS):
        np.load(out / name, allow_pickle=False)  # plain arrays
    ix = CorpusIndex.open(out)
    assert ix.count(b"goddess--, the anger") == 3
    where = ix.locate(ix.positions(b"upon a time")[0])
    assert (where.style, where.offset, where.line) == ("grimm", 5, 1)
    assert where.file.endswith("grimm.txt")
    build(files[:1], out)  # rebuilt in place
    assert CorpusIndex.open(out).styles == ["homer"]


def test_a_missing_or_broken_index_is_a_user_error(tmp_path):
    with pytest.raises(CorpusIndexError):
        CorpusIndex.open(tmp_path)
    assert open_live(tmp_path, lambda: [], 20) is None  # the default place, empty: no marks, no error
    with pytest.raises(CorpusIndexError):
        open_live(tmp_path, lambda: [], 20, required=True)
    (tmp_path / MANIFEST).write_text('{"format": 1, "corpora": []}')
    with pytest.raises(CorpusIndexError):
        CorpusIndex.open(tmp_path)


def test_the_index_command(tmp_path, capsys):
    from textconductor.cli import main
    (tmp_path / "corpora").mkdir()
    (tmp_path / "corpora" / "bible.txt").write_text("And God said, Let there be light: and there was light.\n")
    (tmp_path / "corpora" / "mine.txt").write_text("not a style of the bank\n")
    assert main(["index", str(tmp_path / "corpora"), "--out", str(tmp_path / "ix"), "--quiet"]) == 0
    assert CorpusIndex.open(tmp_path / "ix").styles == ["bible"]  # a folder: the bank's styles in it
    assert main(["index", str(tmp_path / "corpora"), "--all", "--out", str(tmp_path / "ix")]) == 0
    assert CorpusIndex.open(tmp_path / "ix").styles == ["bible", "mine"]
    assert "lookup cost" in capsys.readouterr().out
    assert main(["index", str(tmp_path / "nothing.txt")]) == 2


def test_verbatim_message_round_trip():
    v = Verbatim(40, 71, "austen", 123456, 789)
    address, args = protocol.unpack(v.encode())[0]
    assert address == OUT_VERBATIM and decode_output(address, args) == v
    with pytest.raises(ValueError):
        decode_output(OUT_VERBATIM, (10, 5, "austen", 0, 1))  # ends before it starts
    with pytest.raises(ValueError):
        decode_output(OUT_VERBATIM, (1, 5, "austen"))


# -- a real engine -----------------------------------------------------------------------------------

def test_a_live_engine_marks_what_it_copies(loop_bank, tmp_path):
    """The looper writes its alphabet loop; the index holds a book with that loop in it."""
    from tests.engine.conftest import LOOP
    from textconductor.engine.root import Live, Settings, StyleSource, build_conductor, open_bank, start_engine
    folder = tmp_path / "corpora"
    folder.mkdir()
    book = "Chapter 1\n" + "It begins: " + LOOP * 3 + "and so on.\n"
    (folder / "looper.txt").write_text(book)
    (folder / "other.txt").write_text("Nothing of the kind here.\n")
    build([folder / "looper.txt", folder / "other.txt"], tmp_path / "index")

    bank, names = open_bank(StyleSource(checkpoints=tuple(loop_bank)))
    sub = subscriber_socket()
    conductor = build_conductor(bank, names, Settings(rate=0.0, temperature=0.3, guard=False,
                                                      weights=(("looper", 1.0),)))
    engine = start_engine(conductor, Live(port=0, subscribers=(sub.getsockname(),), index=tmp_path / "index",
                                          index_required=True, verbatim_min=30))
    try:
        engine.sock.start()
        engine.run(max_ticks=120)
        ticks, marks = {}, []
        sub.settimeout(2.0)
        while True:
            try:
                data = sub.recv(protocol.MAX_PACKET)
            except TimeoutError:
                break
            for m in protocol.unpack(data):
                if m.address == protocol.OUT_TICK:
                    t = protocol.Tick.decode(m.args)
                    ticks[t.tick] = t.char
                elif m.address == OUT_VERBATIM:
                    marks.append(Verbatim.decode(m.args))
            if len(ticks) == 120 and marks and marks[-1].end_tick == 119:
                break
    finally:
        engine.close()
        sub.close()
    assert marks, "no /tc/verbatim from an engine that writes a book's loop"
    for v in marks:
        span = "".join(ticks[t] for t in range(v.start_tick, v.end_tick + 1))
        assert len(span) >= 30 and v.style == "looper"
        assert book[v.offset:v.offset + len(span)] == span  # the place named holds exactly that text
        assert v.line == book[:v.offset].count("\n") + 1
    assert engine.provenance is not None and len(engine.provenance.cost_s) == 120


def test_layout_is_not_marked_as_copying():
    """A run of spaces or zeros matches a listing somewhere, but names no book: it is not marked."""
    ix = in_memory([("apollo", "\t\tTC\tBANK\n" + " " * 80 + "\n" + "0" * 60 + "\nCAF\tZERO +1\n")])
    marker = Marker(ix, min_span=20)
    assert [marker.push(t, c) for t, c in enumerate(" " * 70)] == [None] * 70
    marker.reset()
    assert all(marker.push(t, c) is None for t, c in enumerate("0" * 50))
    marker.reset()
    text = " " * 10 + "\n" + "0" * 60 + "\nCAF\tZERO +1\n"  # the same run, and then text: marked from there
    got = [m for t, c in enumerate(text) if (m := marker.push(t, c)) is not None]
    assert got and got[0].end_tick == text.index("ZERO")  # 0, C, A, F, Z: the fifth visible character


def test_the_engine_refuses_an_index_it_was_told_to_use_that_is_not_there(tiny_bank, tmp_path, capsys):
    from textconductor.cli import main
    code = main(["engine", "--checkpoints", *map(str, tiny_bank), "--index", str(tmp_path / "none"),
                 "--port", "0", "--max-chars", "1", "--no-blocklist", "--no-oscquery", "--no-mdns"])
    assert code == 2 and "no corpus index" in capsys.readouterr().err


def test_the_provenance_bench_runs_on_a_tiny_bank(loop_bank, tmp_path):
    from tests.engine.conftest import LOOP
    from textconductor.engine.root import StyleSource
    from textconductor.tools.bench_provenance import run
    (tmp_path / "looper.txt").write_text("Chapter 1\n" + LOOP * 20)
    build([tmp_path / "looper.txt"], tmp_path / "index")
    out = run(tmp_path / "index", StyleSource(checkpoints=tuple(loop_bank)), ticks=120, active=1, min_span=28,
              temperature=0.3)
    assert "marking after it (incremental matcher)" in out and "copying case" in out
    inside = int(re.search(r"(\d+) ticks inside a marked span", out).group(1))
    assert inside > 0  # the looper copies its book: the marker saw it
