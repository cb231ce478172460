"""The simulated curator of `bench learn` and its variant names (the benchmark itself is a command)."""

from __future__ import annotations

import numpy as np
import pytest

from textconductor.errors import UserError
from textconductor.tools.bench_learn import (
    _variant,
    curator,
    dialogue_share,
    ranking_gain_interval,
    real_word_share,
    vocabulary,
)


def test_the_vocabulary_is_the_corpus_words_seen_twice():
    vocab = vocabulary("The cat, the Cat; a dog. Emma! emma")
    assert vocab == {"the", "cat", "emma"}


def test_the_curator_scores_the_share_of_real_words():
    vocab = vocabulary("she said that she would walk to the house " * 2)
    assert real_word_share("She said that she would walk", vocab) == 1.0
    assert real_word_share("She sallied that shee would walk", vocab) == pytest.approx(4 / 6)
    assert real_word_share("she said", vocab) == 0.0  # too few words to judge: nothing to keep


def test_the_dialogue_curator_scores_the_share_inside_quotation_marks():
    assert dialogue_share("She walked to the window and looked out.") == 0.0
    said = '"Yes," said she.'  # 'Yes,' is 4 of its 16 characters; the marks do not count
    assert dialogue_share(said) == pytest.approx(4 / 16)
    assert dialogue_share('"Oh!"') == pytest.approx(3 / 5)
    # a speech running over paragraphs reopens each with a mark: the blank line closes the first
    speech = '"I am sure\n\n"you will come."'
    assert dialogue_share(speech) == pytest.approx((len("I am sure") + len("you will come.")) / len(speech))
    # an unclosed quotation at the end of a passage counts to its end
    assert dialogue_share('He said, "and then') == pytest.approx(len("and then") / 18)
    assert dialogue_share("") == 0.0


def test_curators_are_chosen_by_name():
    score, line = curator("dialogue", "")
    assert score('"Hi"') == pytest.approx(2 / 4) and "quotation" in line
    words, _ = curator("words", "the cat the cat")
    assert words("the cat the cat the") == 1.0
    with pytest.raises(UserError, match="--curator"):
        curator("taste", "")


def test_variant_names_set_the_objective():
    v = _variant("kl=2+replay=0.5+dpo+lr=5e-4", 10, 3)
    assert (v.kl, v.replay, v.negatives, v.lr, v.steps, v.seed) == (2.0, 0.5, 1.0, 5e-4, 10, 3)
    ref_free = _variant("kl=2+simpo=3+margin=0.5", 10, 3)
    assert (ref_free.preference, ref_free.negatives, ref_free.margin) == ("simpo", 3.0, 0.5)
    with pytest.raises(UserError, match="not both"):
        _variant("dpo+simpo", 10, 3)
    plain = _variant("nll", 10, 3)
    assert (plain.kl, plain.replay, plain.negatives) == (0.0, 0.0, 0.0)
    with pytest.raises(UserError, match="unknown part"):
        _variant("kl+magic", 10, 3)
    with pytest.raises(UserError, match="needs a number"):
        _variant("kl=much", 10, 3)


def test_ranking_gain_interval_brackets_a_real_gain_and_straddles_none():
    rng = np.random.default_rng(0)
    k0, r0 = rng.normal(0.0, 1.0, 80), rng.normal(0.0, 1.0, 80)
    lo, hi = ranking_gain_interval((k0, r0), (k0 + 1.0, r0), boots=400)
    assert 0.1 < lo < hi  # the kept passages all rose by a full spread: a clear gain
    lo, hi = ranking_gain_interval((k0, r0), (k0, r0), boots=100)
    assert lo == hi == 0.0  # the same scores: no gain in any resample
    lo, hi = ranking_gain_interval((k0, r0), (k0 + rng.normal(0, 0.05, 80), r0), boots=400)
    assert lo < 0.0 < hi  # noise alone: an interval about zero
