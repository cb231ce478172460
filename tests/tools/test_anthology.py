"""`textconductor anthology`: the kept passages of a record as Markdown (against a golden file) and as
one self-contained, well-formed, printable HTML file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from textconductor.cli import main
from textconductor.engine.marks import Mark, read_marks
from textconductor.frontend.theme import load_theme

GOLDEN = Path(__file__).parent / "golden" / "anthology.md"
TEXT = ("And God said, Let there be light: and there was light.\n\n"
        "It is a truth universally acknowledged, that a single man ~~~ in possession of a good fortune.\n\n"
        "<b>Mrs Bennet</b> & the Lord of hosts said unto Elizabeth")


def make_record(path: Path) -> Path:
    """A record as the engine writes one: start, text, marks (one kept range re-marked as rejected, then back)."""
    def mark(i, kind, start, end, weights, t, span="default"):
        return {"type": "mark", "id": i, "kind": kind, "start": start, "end": end, "text": TEXT[start:end],
                "weights": weights, "temperature": 0.8, "mix": "linear", "seed": 1, "span": span, "time": t}
    lines = [{"type": "start", "time": 1764500000.0, "seed": 1, "styles": ["bible", "austen"], "files": [],
              "state": {}},
             {"type": "text", "tick": 0, "text": TEXT[:80]},
             mark(1, "keep", 0, 56, {"bible": 1.0}, 1764500004.0),
             {"type": "text", "tick": 80, "text": TEXT[80:]},
             mark(2, "reject", 56, 150, {"austen": 0.7, "bible": 0.3}, 1764500010.5),
             mark(3, "keep", 56, 150, {"austen": 0.7, "bible": 0.3}, 1764500011.0),  # changed its mind
             mark(4, "reject", 152, 170, {"bible": 0.55, "austen": 0.45}, 1764500012.0, "selected"),
             mark(5, "keep", 170, len(TEXT), {"bible": 0.5, "austen": 0.25, "house": 0.25}, 1764500013.0)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def record(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the regenerate commands name the record as it was given: relative here
    return make_record(Path("performance-20251130-100000.jsonl"))


def test_read_marks_keeps_the_last_mark_of_each_range(record):
    marks = read_marks([record])
    assert [(m.kind, m.start_tick, m.end_tick) for m in marks] == [
        ("keep", 0, 56), ("keep", 56, 150), ("reject", 152, 170), ("keep", 170, len(TEXT))]
    assert all(isinstance(m, Mark) and m.record == record for m in marks)
    assert [m.start_tick for m in read_marks([record], kind="reject")] == [152]


def test_markdown_matches_the_golden_file(record, capsys):
    assert main(["anthology", str(record), "--format", "md"]) == 0
    out = capsys.readouterr().out
    if not GOLDEN.exists():  # written once, to read by eye and commit; a missing golden file fails
        GOLDEN.write_text(out, encoding="utf-8")
        pytest.fail(f"wrote {GOLDEN}: check it and commit it")
    assert out == GOLDEN.read_text(encoding="utf-8")


def test_html_is_well_formed_self_contained_and_in_the_windows_colours(record, tmp_path):
    out = tmp_path / "anthology.html"
    assert main(["anthology", str(record), "--format", "html", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    root = ET.fromstring(page)  # well-formed XML, so well-formed HTML too
    articles = root.findall(".//article")
    assert len(articles) == 3  # kept only
    assert [a.find(".//pre").text for a in articles][1] == TEXT[56:150].strip("\n")
    assert "&amp; the Lord of hosts" in page
    for external in ("http:", "https:", "src=", "<link", "<script", "@import", "url("):
        assert external not in page, external
    theme = load_theme()
    for name in ("bible", "austen", "house"):  # house: not in the table, the window's fallback colour
        assert theme.style(name).colour in page
    assert "print-color-adjust: exact" in page and "break-inside: avoid" in page
    assert "textconductor replay performance-20251130-100000.jsonl --passage 56:150" in page
    with_rejected = tmp_path / "all.html"
    main(["anthology", str(record), "--format", "html", "--out", str(with_rejected), "--rejected"])
    everything = with_rejected.read_text()
    assert len(ET.fromstring(everything).findall(".//article")) == 4
    assert "<b>Mrs" not in everything and "&lt;b&gt;Mrs Bennet&lt;/b&gt;" in everything  # escaped, not markup


def test_not_a_record_is_one_line(tmp_path, capsys):
    bad = tmp_path / "notes.jsonl"
    bad.write_text('{"type": "text"}\n')
    assert main(["anthology", str(bad)]) == 2
    assert "not a textconductor performance record" in capsys.readouterr().err
