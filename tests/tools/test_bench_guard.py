"""`textconductor bench guard` on the tiny bank built to loop: every part runs and reports what it measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.engine.conftest import LOOP, loop_bank_files
from textconductor.engine.blocklist import Blocklist
from textconductor.engine.loader import load_bank
from textconductor.tools import bench_guard as bg


def test_the_stand_in_list_is_200_common_words():
    assert len(bg.STAND_INS) == 200 == len(Blocklist.of(bg.STAND_INS))
    assert {"the", "of", "and"} <= set(bg.STAND_INS)


def test_blocked_words_counts_whole_finished_words_only():
    bl = Blocklist.of(["fox"])
    assert bg.blocked_words(bl, "a fox, a Fox and foxes; firefox fox") == 2  # the last is still being written


def test_generation_and_real_text_on_the_loop_bank(tmp_path: Path):
    bank, names = load_bank(loop_bank_files(tmp_path))
    table, worst = bg.generation_table(bank, names, ["looper"], [], [0.3], 800, 1, "penalty", 1.0)
    assert "| looper | 0.3 |" in table and worst["cases"] == 1
    corpus = tmp_path / "looper.txt"
    corpus.write_text((LOOP * 40 + "the quick brown fox jumps over the lazy dog\n") * 30)
    total, ready = bg.detector_rate(bg.heldout_text(corpus))
    assert total > 0 and ready > 0.5  # text that is nothing but a loop: the detector sees it
    pieces = bg._pieces(bg.heldout_text(corpus), 600)
    off, n, _, _ = bg.score(bank, names, "looper", pieces, False, "penalty", 1.0)
    on, _, acts, _ = bg.score(bank, names, "looper", pieces, True, "penalty", 1.0)
    assert n > 0 and acts > 0 and on > off  # a periodic loop is a loop at any temperature, even in a corpus
    prose = [" ".join(f"word{k} and{k % 7} the{k % 11}" for k in range(300))]
    off, _, _, _ = bg.score(bank, names, "looper", prose, False, "penalty", 1.0)
    on, _, acts, _ = bg.score(bank, names, "looper", prose, True, "penalty", 1.0)
    assert on == off and acts == 0  # repeats that are not a loop: at T=1 the model's prediction stands


def test_the_command_prints_its_tables(tmp_path: Path):
    files = loop_bank_files(tmp_path)
    r = subprocess.run([sys.executable, "-m", "textconductor", "bench", "guard", "--checkpoints", *map(str, files),
                        "--only", "looper", "--temperatures", "0.3", "--chars", "300", "--blocklist-chars", "200",
                        "--blocklist-temperatures", "0.8", "--timing-ticks", "5", "--parts", "generation", "blocklist",
                        "timing"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for heading in ("## Generation", "## Blocklist", "## Step time"):
        assert heading in r.stdout
    assert "0 blocked words written" in r.stdout
    bad = subprocess.run([sys.executable, "-m", "textconductor", "bench", "guard", "--checkpoints", *map(str, files),
                          "--only", "nobody"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--only" in bad.stderr and "Traceback" not in bad.stderr


def test_a_cached_run_is_the_run_and_a_change_of_bank_invalidates_it(tmp_path: Path):
    files = loop_bank_files(tmp_path)
    bank, names = load_bank(files)
    cache = bg.RunCache(tmp_path / "work", files)
    first = cache.generate(bank, names, ["looper"], 0.3, 200, seed=3)
    again = cache.generate(bank, names, ["looper"], 0.3, 200, seed=3)
    assert (cache.misses, cache.hits) == (1, 1)
    fresh = bg.generate(bank, names, ["looper"], 0.3, 200, seed=3)
    assert again.text == first.text == fresh.text and again.loop_acts == fresh.loop_acts
    cache.generate(bank, names, ["looper"], 0.3, 200, seed=4)  # another seed is another run
    assert cache.misses == 2
    files[0].write_bytes(files[0].read_bytes() + b" ")  # the bank changed: nothing cached applies
    assert bg.RunCache(tmp_path / "work", files).salt != cache.salt
