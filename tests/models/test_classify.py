from tests.conftest import tiny_text
from textconductor.models.charset import encode
from textconductor.models.classify import NgramClassifier


def test_classifier_tells_styles_apart_and_mixtures_split():
    clf = NgramClassifier().fit({"psalm": encode(tiny_text("psalm", 20_000, seed=1)),
                                 "code": encode(tiny_text("code", 20_000, seed=1))})
    for seed in range(2, 7):
        assert clf.predict(tiny_text("psalm", 300, seed=seed)) == "psalm"
        assert clf.predict(tiny_text("code", 300, seed=seed)) == "code"
    mixed = tiny_text("psalm", 150, seed=9) + tiny_text("code", 150, seed=9)
    p = clf.posterior(mixed[:150])
    assert p[0] > 0.99
    assert abs(clf.log_scores(mixed).sum()) > 0
