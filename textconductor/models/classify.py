"""A character n-gram naive Bayes classifier: the judge of whether a style is recognisable.

Multinomial naive Bayes over all 1..4-grams with add-alpha smoothing, counts kept as sorted
integer codes (as in ngram.py) so training on a few MB per style and scoring are numpy work.
It is deliberately a different kind of model from the LSTMs it judges.
"""

from __future__ import annotations

import numpy as np

from textconductor.models.charset import VOCAB_SIZE, encode, fold
from textconductor.models.ngram import _codes


class NgramClassifier:
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
        """Log-likelihood of the text under each label (uniform prior)."""
        data = encode(fold(text)) if isinstance(text, str) else text
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

    def posterior(self, text: str | np.ndarray) -> np.ndarray:
        s = self.log_scores(text)
        p = np.exp(s - s.max())
        return p / p.sum()

    def predict(self, text: str | np.ndarray) -> str:
        return self.labels[int(np.argmax(self.log_scores(text)))]
