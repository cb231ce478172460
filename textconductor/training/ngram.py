"""Interpolated Kneser-Ney character n-gram model: the baseline every trained style must beat.

Counts are kept as sorted arrays of integer-coded n-grams (base VOCAB), so fitting a few MB and
scoring every held-out position are numpy operations rather than Python loops. Discounts follow
Ney's estimate D = n1 / (n1 + 2 n2) per order; the lowest order interpolates with uniform.
"""

from __future__ import annotations

import numpy as np

from textconductor.protocol.charset import VOCAB_SIZE


def _codes(data: np.ndarray, n: int) -> np.ndarray:
    """code[i] = data[i..i+n) as a base-VOCAB integer, for every full n-gram."""
    d = data.astype(np.int64)
    m = len(d) - n + 1
    code = np.zeros(max(m, 0), dtype=np.int64)
    for j in range(n):
        code = code * VOCAB_SIZE + d[j:j + m]
    return code


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[keys == q] for each q, 0 where absent (keys sorted and unique)."""
    if len(keys) == 0:
        return np.zeros(len(query), dtype=values.dtype)
    i = np.searchsorted(keys, query).clip(0, len(keys) - 1)
    return np.where(keys[i] == query, values[i], 0)


class KneserNey:
    def __init__(self, order: int = 5) -> None:
        self.order = order
        self.tables: list[dict[str, np.ndarray | float]] = []

    def fit(self, data: np.ndarray) -> KneserNey:
        """Highest order uses raw counts; lower orders use continuation counts N1+(. g)."""
        self.tables = []
        V = VOCAB_SIZE
        for n in range(1, self.order + 1):
            if n == self.order:
                keys, counts = np.unique(_codes(data, n), return_counts=True)
            else:
                longer = np.unique(_codes(data, n + 1))  # distinct (n+1)-grams
                keys, counts = np.unique(longer % V ** n, return_counts=True)
            n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
            discount = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.75
            ctx_keys, inv = np.unique(keys // V, return_inverse=True)
            ctx_total = np.bincount(inv, weights=counts).astype(np.float64)
            ctx_types = np.bincount(inv).astype(np.float64)
            self.tables.append({"keys": keys, "counts": counts.astype(np.float64), "D": discount,
                                "ctx_keys": ctx_keys, "ctx_total": ctx_total, "ctx_types": ctx_types})
        return self

    def prob(self, data: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """P(data[t] | data[t-order+1 .. t-1]) for each position t (context clipped at 0)."""
        V = VOCAB_SIZE
        d = data.astype(np.int64)
        target = d[positions]
        p = np.full(len(positions), 1.0 / V)
        ctx = np.zeros(len(positions), dtype=np.int64)  # code of the n-1 chars before t
        for n, tab in enumerate(self.tables, start=1):
            if n > 1:
                back = positions - (n - 1)
                ok = back >= 0
                prev = np.where(ok, d[np.maximum(back, 0)], 0)
                ctx = ctx + prev * V ** (n - 2)
                valid = ok
            else:
                valid = np.ones(len(positions), dtype=bool)
            total = _lookup(tab["ctx_keys"], tab["ctx_total"], ctx)
            types = _lookup(tab["ctx_keys"], tab["ctx_types"], ctx)
            count = _lookup(tab["keys"], tab["counts"], ctx * V + target)
            D = tab["D"]
            seen = valid & (total > 0)
            safe = np.where(seen, total, 1.0)
            interp = np.maximum(count - D, 0) / safe + D * types / safe * p
            p = np.where(seen, interp, p)
        return p

    def bpc(self, data: np.ndarray, positions: np.ndarray) -> float:
        return float(-np.log2(self.prob(data, positions)).mean())
