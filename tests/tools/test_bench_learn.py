"""The simulated curator of `bench learn` and its variant names (the benchmark itself is a command)."""

from __future__ import annotations

import pytest

from textconductor.errors import UserError
from textconductor.tools.bench_learn import _variant, real_word_share, vocabulary


def test_the_vocabulary_is_the_corpus_words_seen_twice():
    vocab = vocabulary("The cat, the Cat; a dog. Emma! emma")
    assert vocab == {"the", "cat", "emma"}


def test_the_curator_scores_the_share_of_real_words():
    vocab = vocabulary("she said that she would walk to the house " * 2)
    assert real_word_share("She said that she would walk", vocab) == 1.0
    assert real_word_share("She sallied that shee would walk", vocab) == pytest.approx(4 / 6)
    assert real_word_share("she said", vocab) == 0.0  # too few words to judge: nothing to keep


def test_variant_names_set_the_objective():
    v = _variant("kl=2+replay=0.5+dpo+lr=5e-4", 10, 3)
    assert (v.kl, v.replay, v.negatives, v.lr, v.steps, v.seed) == (2.0, 0.5, 1.0, 5e-4, 10, 3)
    plain = _variant("nll", 10, 3)
    assert (plain.kl, plain.replay, plain.negatives) == (0.0, 0.0, 0.0)
    with pytest.raises(UserError, match="unknown part"):
        _variant("kl+magic", 10, 3)
    with pytest.raises(UserError, match="needs a number"):
        _variant("kl=much", 10, 3)
