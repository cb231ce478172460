"""The vectorised Kneser-Ney model against a plain-dictionary reference implementation."""

from collections import Counter, defaultdict

import numpy as np
import pytest

from textconductor.protocol.charset import VOCAB_SIZE, encode
from textconductor.training.ngram import KneserNey


def reference_kn(data: list[int], order: int):
    """Textbook interpolated Kneser-Ney with Ney's discounts; returns p(w | history tuple)."""
    counts = []
    for n in range(1, order + 1):
        if n == order:
            c = Counter(tuple(data[i:i + n]) for i in range(len(data) - n + 1))
        else:
            longer = {tuple(data[i:i + n + 1]) for i in range(len(data) - n)}
            c = Counter(g[1:] for g in longer)
        n1 = sum(1 for v in c.values() if v == 1)
        n2 = sum(1 for v in c.values() if v == 2)
        D = n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.75
        tot, typ = defaultdict(float), defaultdict(int)
        for g, v in c.items():
            tot[g[:-1]] += v
            typ[g[:-1]] += 1
        counts.append((c, D, tot, typ))

    def p(w, hist):
        prob = 1.0 / VOCAB_SIZE
        for n, (c, D, tot, typ) in enumerate(counts, start=1):
            if n - 1 > len(hist):
                break
            h = tuple(hist[len(hist) - (n - 1):]) if n > 1 else ()
            if tot.get(h, 0) > 0:
                prob = max(c.get(h + (w,), 0) - D, 0) / tot[h] + D * typ[h] / tot[h] * prob
        return prob
    return p


@pytest.mark.parametrize("order", [1, 3, 5])
def test_matches_reference(order):
    text = "the cat sat on the mat. the dog sat on the log. a cat and a dog.\n" * 3 + "zebra"
    data = encode(text)
    kn = KneserNey(order).fit(data[:150])
    ref = reference_kn([int(x) for x in data[:150]], order)
    positions = np.arange(0, len(data))
    got = kn.prob(data, positions)
    for t in positions:
        hist = [int(x) for x in data[max(0, t - order + 1):t]]
        assert got[t] == pytest.approx(ref(int(data[t]), hist), rel=1e-9), t


def test_distribution_sums_to_one():
    data = encode("abracadabra alakazam " * 20)
    kn = KneserNey(5).fit(data)
    for t in (0, 3, 50, len(data) - 1):
        total = 0.0
        for v in range(VOCAB_SIZE):
            d = data.copy()
            d[t] = v
            total += kn.prob(d, np.array([t]))[0]
        assert total == pytest.approx(1.0, abs=1e-9)
