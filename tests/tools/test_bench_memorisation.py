"""The memorisation benchmark's counting, against brute force, and a tiny end-to-end run on real files."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from textconductor.model.checkpoint import load_checkpoint
from textconductor.tools.bench_memorisation import covered, match_lengths, measure, own_index, run, sample_batch
from textconductor.tools.corpus_index import build, in_memory


def brute_covered(texts: list[str], gen: str, k: int) -> list[bool]:
    """A character is covered when some substring of at least k around it occurs in a corpus."""
    out = [False] * len(gen)
    for a in range(len(gen)):
        for b in range(a + k, len(gen) + 1):
            if any(gen[a:b] in t for t in texts):
                for p in range(a, b):
                    out[p] = True
    return out


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="ab c", max_size=40), min_size=1, max_size=3),
       st.text(alphabet="ab cd", min_size=1, max_size=40), st.integers(2, 5))
def test_covered_characters_agree_with_brute_force(texts, gen, k):
    ix = in_memory([(f"s{i}", t) for i, t in enumerate(texts)])
    from textconductor.engine.provenance import Matcher
    lengths, spans = match_lengths(Matcher(ix, k), gen.encode())
    assert covered(lengths, k).tolist() == brute_covered(texts, gen, k)
    for end, n, places, books in spans:  # maximal spans: where they occur
        span = gen[end - n + 1:end + 1]
        assert places == sum(t.startswith(span, i) for t in texts for i in range(len(t)))  # overlaps count
        assert books == sum(1 for t in texts if span in t)


def test_own_corpus_share_is_measured_in_the_own_book_only():
    ix = in_memory([("bible", "And God said, Let there be light: and there was light.\n"),
                    ("austen", "It is a truth universally acknowledged, that a single man\n")])
    gen = "xx It is a truth universally acknowledged, yy And God said, Let there be light: zz"
    texts = np.frombuffer(gen.encode(), dtype=np.uint8)[None, :]
    r = measure(ix, own_index(ix, "austen"), "austen", 0.5, texts)
    austen = len("It is a truth universally acknowledged, ")  # 40: the books start at "It" and "And"
    bible = len("And God said, Let there be light: ")  # 34
    assert r.any_cov[20] == austen + bible and r.own_cov[20] == austen
    assert r.any_cov[40] == r.own_cov[40] == austen  # only Austen's span reaches 40
    assert (r.longest, r.own_longest) == (austen, austen) and r.longest_where == "austen:1"
    assert r.longest_text == "It is a truth universally acknowledged, "


def test_a_tiny_run_writes_its_report(tmp_path):
    from tests.engine.conftest import LOOP, loop_bank_files
    corpus = tmp_path / "looper.txt"
    corpus.write_text("Chapter 1\n" + LOOP * 40)
    build([corpus], tmp_path / "index")
    bank = loop_bank_files(tmp_path)
    torch.manual_seed(0)
    texts = sample_batch(load_checkpoint(bank[0])[0], 4, 300, 0.3, 0)
    assert texts.shape == (4, 300)
    out = tmp_path / "report.md"
    text = run(tmp_path / "index", bank[:1], [0.3], seqs=4, chars=300, out=out)
    assert out.read_text().strip().startswith("# bench memorisation") and "| looper | 0.3 | 1,200 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| looper"))
    assert float(row.split("|")[5].strip().rstrip("%")) > 50  # the looper copies its book's loop
