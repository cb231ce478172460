"""Character n-gram classifiers: the judges of whether a generated sample is recognisably a style.

Both are deliberately a different kind of model from the LSTMs they judge.

- `KneserNeyClassifier`: one order-5 Kneser-Ney language model per style; a text goes to the
  style under which it is most probable. This is the classic character-level authorship judge
  (Peng et al. 2003; Teahan's PPM categorisation): it weighs every character in its context.
- `NgramClassifier`: multinomial naive Bayes over all 1..4-grams with add-alpha smoothing. Kept as
  a second opinion; its smoothing over 97^n unseen n-grams blurs the longer orders, so it is the
  weaker judge of close prose styles.
"""

from __future__ import annotations

import numpy as np

from textconductor.protocol.charset import VOCAB_SIZE, encode, fold
from textconductor.training.ngram import KneserNey, _codes


class _Judge:
    labels: list[str]

    def log_scores(self, text: str | np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def posterior(self, text: str | np.ndarray) -> np.ndarray:
        """P(label | text) under a uniform prior."""
        s = self.log_scores(text)
        p = np.exp(s - s.max())
        return p / p.sum()

    def predict(self, text: str | np.ndarray) -> str:
        return self.labels[int(np.argmax(self.log_scores(text)))]


def _encoded(text: str | np.ndarray) -> np.ndarray:
    return encode(fold(text)) if isinstance(text, str) else text


class KneserNeyClassifier(_Judge):
    def __init__(self, order: int = 5, floor: float = 1e-4) -> None:
        # `floor` mixes in a uniform share so a character a style never used (a tab in the Quran)
        # costs a fixed ~20 bits instead of an infinite penalty that one stray character would win.
        self.order, self.floor = order, floor
        self.labels: list[str] = []
        self.models: list[KneserNey] = []

    def fit(self, texts: dict[str, np.ndarray]) -> KneserNeyClassifier:
        """texts: label -> encoded training text."""
        self.labels = list(texts)
        self.models = [KneserNey(self.order).fit(texts[label]) for label in self.labels]
        return self

    def log_scores(self, text: str | np.ndarray) -> np.ndarray:
        """Natural-log likelihood of every character of the text under each style's model."""
        data = _encoded(text)
        return np.array([self.char_log_probs(data, i).sum() for i in range(len(self.models))])

    def char_log_probs(self, text: str | np.ndarray, label: int, start: int = 0) -> np.ndarray:
        """ln P(c_t | the characters before it) under one label's model, for every t >= start.

        The context reaches back before `start`, so text written after a switch is judged in the
        context the model actually saw (the end of the other style's text).
        """
        data = _encoded(text)
        pos = np.arange(start, len(data))
        return np.log((1 - self.floor) * self.models[label].prob(data, pos) + self.floor / VOCAB_SIZE)


class NgramClassifier(_Judge):
    def __init__(self, orders: tuple[int, ...] = (1, 2, 3, 4), alpha: float = 0.1) -> None:
        self.orders, self.alpha = orders, alpha
        self.labels: list[str] = []
        self.tables: list[list[tuple[np.ndarray, np.ndarray, float]]] = []  # per label, per order

    def fit(self, texts: dict[str, np.ndarray]) -> NgramClassifier:
        """texts: label -> encoded training text."""
        self.labels = list(texts)
        self.tables = []
        for label in self.labels:
            per_order = []
            for n in self.orders:
                keys, counts = np.unique(_codes(texts[label], n), return_counts=True)
                denom = counts.sum() + self.alpha * VOCAB_SIZE ** n
                per_order.append((keys, counts.astype(np.float64), float(denom)))
            self.tables.append(per_order)
        return self

    def log_scores(self, text: str | np.ndarray) -> np.ndarray:
        """Log-likelihood of the text's n-grams under each label."""
        data = _encoded(text)
        out = np.zeros(len(self.labels))
        for j, per_order in enumerate(self.tables):
            for (keys, counts, denom), n in zip(per_order, self.orders, strict=True):
                q = _codes(data, n)
                if len(q) == 0 or len(keys) == 0:
                    continue
                i = np.searchsorted(keys, q).clip(0, len(keys) - 1)
                c = np.where(keys[i] == q, counts[i], 0.0)
                out[j] += np.log((c + self.alpha) / denom).sum()
        return out
