"""The blocklist: whole words, any case and punctuation; masked at the end of a word, never
dead-ending; primes filtered; and every bundled style at several temperatures with common words as
stand-ins (no offensive list lives in the tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.conftest import successor_model
from textconductor.assets import BANK_DIR
from textconductor.engine import guard
from textconductor.engine.bank import Bank
from textconductor.engine.blocklist import (
    BOUNDARY_IDX,
    WORD_CHARS,
    Blocklist,
    BlockMatcher,
    filter_prime,
    normalise,
    parse,
)
from textconductor.engine.conductor import Conductor, Tuning
from textconductor.protocol import Command, Params
from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS, VOCAB_SIZE
from textconductor.tools.bench_guard import STAND_INS, blocked_words

FOX = Blocklist.of(["fox", "Lazy  Dog!"])


def matcher(text: str, blocklist: Blocklist = FOX) -> BlockMatcher:
    m = BlockMatcher(blocklist)
    m.rebuild(text)
    return m


def test_entries_ignore_case_and_punctuation():
    assert normalise("  Lazy--DOG! ") == "lazy dog" and normalise("don't") == "don t" and normalise("...") == ""
    assert parse("# a comment\nFox\n\n  lazy dog \n!!!\nfox\n") == ["fox", "lazy dog"]
    assert Blocklist.of(["a b c", "d"]).max_words == 3


def test_completing_means_the_next_boundary_would_finish_a_blocked_word():
    assert matcher("the quick brown fox").completing()
    assert matcher("the quick brown FOX").completing()
    assert not matcher("the quick brown fo").completing()
    assert not matcher("the quick brown foxes").completing()  # whole words: foxes is not fox
    assert not matcher("the quick brown fox ").completing()  # (already finished: only reachable by priming)
    assert not matcher("firefox").completing()
    assert matcher("over the lazy\n  dog").completing() and matcher("over the LAZY, dog").completing()
    assert not matcher("over the lazydog").completing() and not matcher("crazy dog").completing()


def test_no_blocklist_never_completes():
    assert not matcher("fox", Blocklist()).completing()


def test_prime_drops_blocked_words_and_counts_them():
    assert filter_prime(FOX, "\n", "The quick brown fox jumps") == ("The quick brown  jumps", 1)
    assert filter_prime(FOX, "\n", "a Fox, a FOX and a lazy dog.") == ("a , a  and a .", 3)
    assert filter_prime(FOX, "\n", "foxes and firefox") == ("foxes and firefox", 0)
    assert filter_prime(FOX, "\n", "fox") == ("", 1)  # the end of a prime finishes its last word
    assert filter_prime(Blocklist(), "\n", "fox") == ("fox", 0)


def test_prime_is_read_with_the_text_before_it():
    assert filter_prime(FOX, "the quick fo", "x jumps") == (" jumps", 1)  # a word split across text and prime
    assert filter_prime(FOX, "over the lazy", " dog") == ("", 1)  # a phrase split across them
    assert filter_prime(FOX, "the quick fox", " jumps") == ("", 1)  # the prime would finish the text's word
    assert filter_prime(FOX, "a fox. The", " end") == (" end", 0)  # words already in the text are not ours


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=VOCAB_SIZE, max_size=VOCAB_SIZE), st.floats(0.05, 5.0))
def test_masked_distribution_sums_to_one_and_never_completes(values, temperature):
    """The mask the conductor applies when a blocked word is complete: whatever p, mass only on letters."""
    from textconductor.engine import mixer
    raw = np.array(values) + 1e-9
    raw /= raw.sum()
    p = mixer.apply_temperature(raw, temperature)
    out = guard.mask(p, BOUNDARY_IDX, raw)
    assert out.sum() == pytest.approx(1.0) and (out[BOUNDARY_IDX] == 0).all()
    assert all(CHARS[i] in WORD_CHARS for i in np.flatnonzero(out))


def test_all_likely_characters_masked_falls_back_to_letters():
    p = np.zeros(VOCAB_SIZE)
    p[CHAR_TO_INDEX[" "]] = 1.0  # a low temperature put everything on the space after 'fox'
    raw = np.full(VOCAB_SIZE, 0.5 / 96)
    raw[CHAR_TO_INDEX[" "]] = 0.5
    out = guard.mask(p, BOUNDARY_IDX, raw)
    assert out[CHAR_TO_INDEX[" "]] == 0 and out.sum() == pytest.approx(1)
    assert set(np.flatnonzero(out)) == {CHAR_TO_INDEX[c] for c in WORD_CHARS}


# -- in the engine -------------------------------------------------------------------------------

def fox_conductor(seed: int = 0, temperature: float = 0.3) -> Conductor:
    """A style that writes 'fox ' for ever: every fourth character would finish a blocked word."""
    bank = Bank([successor_model("fox "), successor_model("abc ")])
    c = Conductor(bank, ["fox", "abc"], seed=seed, params=Params(temperature=temperature, rate=0),
                  tuning=Tuning(guard=False))
    c.apply(Command("weights", (1.0, 0.0)))
    c.apply(Command("blocklist", tuple(FOX.entries)))
    return c


def test_the_engine_never_finishes_a_blocked_word():
    c = fox_conductor()
    text = "".join(c.tick().char for _ in range(400))
    assert "fox" in text and blocked_words(FOX, text) == 0
    assert c.counts.blocked > 50


def test_a_blocked_word_split_across_a_prime_and_generated_text():
    c = fox_conductor(seed=3)
    c.apply(Command("prime", ("\nthe quick brown f",)))
    text = "".join(c.history) + "".join(c.tick().char for _ in range(200))
    assert "brown fox" in text and blocked_words(FOX, text) == 0


def test_primes_are_filtered_counted_and_echoed_filtered():
    c = fox_conductor()
    c.apply(Command("prime", ("a lazy dog and a Fox.",)))
    assert c.last_primed == "a  and a ." and "".join(c.history).endswith("a  and a .")
    assert c.counts.prime_dropped == 2
    c.apply(Command("prime", ("fox",)))
    assert c.last_primed == "" and c.counts.prime_dropped == 3


def test_a_new_blocklist_applies_at_once():
    c = fox_conductor()
    c.apply(Command("blocklist", ()))
    text = "".join(c.tick().char for _ in range(80))
    assert blocked_words(FOX, text) > 10
    c.apply(Command("blocklist", ("fox",)))
    assert blocked_words(FOX, "".join(c.tick().char for _ in range(200))) == 0


@pytest.mark.skipif(not list(BANK_DIR.glob("*.safetensors")), reason="no bundled bank")
def test_every_bundled_style_with_common_words_as_stand_ins():
    """200 common words blocked: none is ever written, by any style, at low, default and high temperature."""
    from textconductor.engine.loader import bank_files, load_bank
    bank, names = load_bank(bank_files())
    stand_ins = Blocklist.of(STAND_INS)
    assert len(stand_ins) == 200
    masks = 0
    for k, style in enumerate(names):
        for t in (0.3, 0.8, 1.5):
            bank.set_active([])
            c = Conductor(bank, names, seed=k, params=Params(temperature=t, rate=0))
            c.apply(Command("weights", tuple(float(n == style) for n in names)))
            c.apply(Command("blocklist", tuple(stand_ins.entries)))
            c.apply(Command("prime", ("\nIt was the best of times, and then",)))
            text = "".join(c.tick().char for _ in range(120))
            assert blocked_words(stand_ins, text) == 0, (style, t, text)
            masks += c.counts.blocked
    assert masks > 100  # the list did have work to do
