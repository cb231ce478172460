import numpy as np
import pytest

from tests.conftest import tiny_text
from textconductor.protocol.charset import VOCAB_SIZE, encode
from textconductor.training.classify import KneserNeyClassifier, NgramClassifier
from textconductor.training.ngram import KneserNey


@pytest.mark.parametrize("judge", [NgramClassifier, KneserNeyClassifier])
def test_classifier_tells_styles_apart_and_mixtures_split(judge):
    clf = judge().fit({"psalm": encode(tiny_text("psalm", 20_000, seed=1)),
                       "code": encode(tiny_text("code", 20_000, seed=1))})
    for seed in range(2, 7):
        assert clf.predict(tiny_text("psalm", 300, seed=seed)) == "psalm"
        assert clf.predict(tiny_text("code", 300, seed=seed)) == "code"
    mixed = tiny_text("psalm", 150, seed=9) + tiny_text("code", 150, seed=9)
    assert clf.posterior(mixed[:150])[0] > 0.99
    assert clf.posterior(mixed[150:])[1] > 0.99
    assert np.isfinite(clf.log_scores(mixed)).all()


def test_kneser_ney_judge_scores_are_floored_language_model_likelihoods():
    """The score is the text's log-likelihood under each style's KN model, never -inf."""
    psalm, code = encode(tiny_text("psalm", 20_000, seed=1)), encode(tiny_text("code", 20_000, seed=1))
    clf = KneserNeyClassifier(floor=1e-4).fit({"psalm": psalm, "code": code})
    text = encode("12 lord thy mercy ~~~ {}")  # '~{}' never occur in either corpus
    pos = np.arange(len(text))
    ref = np.log(0.9999 * KneserNey(5).fit(psalm).prob(text, pos) + 1e-4 / VOCAB_SIZE).sum()
    scores = clf.log_scores(text)
    assert scores[0] == pytest.approx(ref) and np.isfinite(scores).all()
    assert clf.predict(text) == "psalm"
