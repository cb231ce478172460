"""`textconductor bank-report` end to end on the toy bank (tests/tools/conftest.py): every section,
the switch table with the detector's limit beside the banks, written between a document's markers
with the prose around them kept."""

from __future__ import annotations

import shutil


def _row(text: str, label: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith(f"| {label} |"))
    return [c.strip() for c in line.strip("|").split("|")[1:]]


def test_bank_report_measures_two_banks_and_writes_between_the_markers(toy_banks, tmp_path):
    from textconductor.cli import main
    banks = {}
    for kind in ("plain", "reentry"):
        banks[kind] = tmp_path / kind
        banks[kind].mkdir()
        for n in ("low", "up"):
            shutil.copy(toy_banks / f"{n}.{kind}.safetensors", banks[kind] / f"{n}.safetensors")
    doc = tmp_path / "models.md"
    doc.write_text("# Models\n\nabove\n\n<!-- bank-report:start -->\nstale\n<!-- bank-report:end -->\n\nbelow\n")
    assert main(["bank-report", "--corpora", str(toy_banks), "--bank", str(banks["reentry"]),
                 "--before", str(banks["plain"]), "--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Models\n\nabove\n") and text.rstrip().endswith("below") and "stale" not in text
    for heading in ("### 1. Held-out bits per character", "### 2. Identifiability", "### 4. Switch latency"):
        assert heading in text
    switch = text[text.index("### 4. Switch latency"):]
    assert _row(switch, "hard switches (pairs x seeds)") == ["36", "36"]  # 2 styles: 18 pairs x 2 seeds
    # Real text depends on the corpora and the judge, not on the bank: one figure in both columns,
    # and lower case against UPPER CASE is told apart at once.
    real = _row(switch, "the detector's limit: real held-out B after real A, within 40")
    assert real == ["100.0%", "100.0%"]
    assert _row(switch, "real text, no move (A's text goes on): the judge calls B") == ["0.0%", "0.0%"]
    _, fresh = _row(switch, "B opening fresh at the move (reset, never reads A): within 40")
    assert float(fresh.rstrip("%")) >= 90, fresh  # the re-entry bank (settled on line starts) opens as itself
