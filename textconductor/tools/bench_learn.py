"""`textconductor bench learn`: does a house style learn what a curator keeps? A simulated curator.

The curator. A char-LSTM's visible fault at ~1.5-2 bits/char is invented words ("the
compleasure of her siscovery"): grammar is loose everywhere, but a reader notices a non-word at
once. So the simulated curator reads a passage's words (lower-cased runs of letters) and scores
the share that are real words of the origin style's own corpus (words seen at least twice in its
training split: its vocabulary, spelling included). It keeps the passages scoring above the
median of the origin's samples and rejects the rest, so both piles are about equal and the rule
is neither trivially easy nor impossible for the origin. The words come from the corpus, never
from the model, so the curator cannot be gamed by the model's own habits.

That curator rewards the *absence of the origin's own errors*, which are sparse (a few invented
words in 200 characters) and not a habit the kept passages share, so a 100-step fine-tune barely
moves it (docs/models.md). A performer curates for what a passage *is* as much as for its
faults, so a second curator (`--curator dialogue`) keeps passages with dialogue: the share of
characters inside quotation marks ("...", curly quotes fold to ") above the median of the
origin's samples. Why dialogue: it is what an audience hears as a scene rather than narration,
a performer can ask for it, and it varies a lot between one novelist's samples (at T=1.0 about
a third of Austen's 200-character samples hold some speech, the rest are narration; the median
is then 0, so this curator keeps any passage with speech), so the piles differ in a trait the
house can learn (how often and how long the style speaks), not in rare accidents. A
paragraph break closes an open quotation, since the corpus's speeches that run over paragraphs
reopen with a quote mark instead of closing one. Like the words curator, it reads only the text.

The run: the origin writes `samples` passages (200 characters, at T=1.0 by default, where a
prose style still invents words often enough for the piles to differ; each from a fresh state
after a newline: how a performance opens); the curator labels them; 60% of each pile trains a
house style per objective variant and seed, 40% is held out. Reported for the origin and each
variant (mean and spread over training seeds):

- ranking: on held-out pairs (kept, rejected), how often the kept passage has the higher
  length-normalised log-likelihood, and a 95% bootstrap interval of the house's gain over the
  origin (paired resampling of the held-out passages; the interval is averaged over seeds);
- the curator's score of 100 fresh samples (its mean score, and the share it would keep);
- held-out bits/char on the origin's corpus (the same 50,000 held-out characters for all).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from textconductor.errors import UserError

log = logging.getLogger(__name__)

WORD = re.compile(r"[a-z]+")
PASSAGE_CHARS = 200
FRESH = 100  # fresh samples the curator scores per model and seed
MIN_COUNT = 2  # a word seen this often in the corpus is a real word
MIN_WORDS = 5  # a passage with fewer words scores 0 (nothing readable to keep)
HELD_OUT = 0.4
TEMPERATURE = 1.0  # at the engine's 0.8 a prose style writes ~97% real words: the piles differ by a word
EVAL_CHARS = 50_000


def vocabulary(text: str, min_count: int = MIN_COUNT) -> frozenset[str]:
    counts = Counter(WORD.findall(text.lower()))
    return frozenset(w for w, n in counts.items() if n >= min_count)


def real_word_share(passage: str, vocab: frozenset[str]) -> float:
    words = WORD.findall(passage.lower())
    if len(words) < MIN_WORDS:
        return 0.0
    return sum(w in vocab for w in words) / len(words)


def dialogue_share(passage: str) -> float:
    """Share of a passage's characters inside quotation marks (the marks themselves excluded).

    A `"` toggles in and out; a paragraph break (a blank line) closes an open quotation, because
    a speech that runs over paragraphs reopens each one with a quote mark and never closes it."""
    if not passage:
        return 0.0
    inside, n = False, 0
    for i, c in enumerate(passage):
        if c == '"':
            inside = not inside
        elif c == "\n" and passage[i + 1:i + 2] == "\n":
            inside = False
        else:
            n += inside
    return n / len(passage)


CURATORS = ("words", "dialogue")


def curator(name: str, corpus_text: str) -> tuple[Callable[[str], float], str]:
    """The score a curator gives a passage (higher is better; it keeps those above the origin's
    median) and a line that describes it; `corpus_text` is the origin's training text."""
    if name == "words":
        vocab = vocabulary(corpus_text)
        return (lambda t: real_word_share(t, vocab),
                f"share of words in the origin's corpus vocabulary ({len(vocab):,} words seen >= {MIN_COUNT} times)")
    if name == "dialogue":
        return dialogue_share, "share of characters inside quotation marks (dialogue)"
    raise UserError(f"--curator {name!r}: use one of {', '.join(CURATORS)}")


# A part named without a value (the docs' table uses these).
BARE = {"kl": 0.5, "replay": 0.25, "dpo": 1.0, "simpo": 1.0}


def _variant(name: str, steps: int, seed: int):
    """A HouseConfig from a variant name: parts joined by +, each `nll`, `kl`, `replay`, `dpo` (at
    BARE's weights) or with a value (`kl=2`, `replay=0.5`, `dpo=2`, `lr=5e-4`); nll is always on.
    `simpo` in place of `dpo` makes the negatives reference-free (HouseConfig.preference), with
    `margin` and `beta` to set its target gap and scale."""
    from textconductor.training.config import HouseConfig
    given: dict[str, float] = {}
    for part in name.split("+"):
        key, _, value = part.partition("=")
        if key not in ("nll", "kl", "replay", "dpo", "simpo", "margin", "beta", "lr"):
            raise UserError(f"--variants: unknown part {part!r} "
                            "(use nll, kl, replay, dpo, simpo, margin, beta, lr, e.g. kl=2+dpo)")
        try:
            given[key] = float(value) if value else BARE.get(key, 0.0)
        except ValueError:
            raise UserError(f"--variants: {part!r} needs a number after =") from None
    if "dpo" in given and "simpo" in given:
        raise UserError(f"--variants {name!r}: dpo or simpo, not both")
    return HouseConfig(steps=steps, seed=seed, kl=given.get("kl", 0.0), replay=given.get("replay", 0.0),
                       negatives=given.get("dpo", given.get("simpo", 0.0)),
                       preference="simpo" if "simpo" in given else "dpo",
                       margin=given.get("margin", HouseConfig.margin), beta=given.get("beta", HouseConfig.beta),
                       lr=given.get("lr") or HouseConfig.lr)


def ranking_gain_interval(before: tuple[np.ndarray, np.ndarray], after: tuple[np.ndarray, np.ndarray],
                          boots: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of a ranking's gain (after - before) over the held-out passages.

    `before` and `after` are (kept scores, rejected scores) of the same passages under two models.
    The training seeds' spread says how much the *house* varies; this says how much the gain
    would vary with another held-out set of the same size: kept and rejected passages are
    resampled (the same draw for both models, so the comparison stays paired)."""
    from textconductor.training.house import ranking_accuracy
    rng = np.random.default_rng(seed)
    nk, nr = len(before[0]), len(before[1])
    gains = np.empty(boots)
    for b in range(boots):
        k, r = rng.integers(nk, size=nk), rng.integers(nr, size=nr)
        gains[b] = (ranking_accuracy(after[0][k], after[1][r]) - ranking_accuracy(before[0][k], before[1][r]))
    lo, hi = np.percentile(gains, [2.5, 97.5])
    return float(lo), float(hi)


def _fmt(xs: list[float], digits: int = 3, sign: bool = False) -> str:
    a = np.array(xs, dtype=float)
    mean = f"{a.mean():{'+' if sign else ''}.{digits}f}"
    return f"{mean} ± {a.std(ddof=1):.{digits}f}" if len(a) > 1 else mean


def run(corpora: Path, origin_style: str = "austen", samples: int = 240, steps: int = 150, seeds: int = 3,
        variants: list[str] | None = None, work: Path | None = None, temperature: float = TEMPERATURE,
        curator_name: str = "words") -> str:
    import torch

    from textconductor.assets import BANK_DIR
    from textconductor.model.checkpoint import load_checkpoint
    from textconductor.protocol.charset import decode
    from textconductor.training.corpus import load_corpus
    from textconductor.training.house import learn, mean_logp, passages, ranking_accuracy, sample_batch
    from textconductor.training.train import quick_bpc
    torch.set_num_threads(1)
    if curator_name not in CURATORS:  # before minutes of sampling, not after
        raise UserError(f"--curator {curator_name!r}: use one of {', '.join(CURATORS)}")
    variants = variants or ["nll", "kl", "kl+dpo"]
    path = BANK_DIR / f"{origin_style}.safetensors"
    if not path.is_file():
        raise UserError(f"--origin {origin_style}: not a style of the bundled bank")
    origin, meta = load_checkpoint(path)
    corpus_file = Path(corpora) / (meta.extra.get("corpora") or [f"{origin_style}.txt"])[0]
    if not corpus_file.is_file():
        raise UserError(f"{corpus_file}: the origin's corpus is needed (the curator's vocabulary, bits/char)")
    corpus = load_corpus(corpus_file)
    train_text = corpus.train
    score_of, described = curator(curator_name, decode(train_text))
    t_start = time.monotonic()

    # 1. The curator labels the origin's samples.
    texts = sample_batch(origin, samples, PASSAGE_CHARS, temperature, seed=0)
    scores = np.array([score_of(t) for t in texts])
    cut = float(np.median(scores))
    kept = [t for t, s in zip(texts, scores, strict=True) if s > cut]
    rejected = [t for t, s in zip(texts, scores, strict=True) if s <= cut]
    rng = np.random.default_rng(0)
    rng.shuffle(kept)
    rng.shuffle(rejected)
    nk, nr = int(len(kept) * (1 - HELD_OUT)), int(len(rejected) * (1 - HELD_OUT))
    k_train, k_test, r_train, r_test = kept[:nk], kept[nk:], rejected[:nr], rejected[nr:]
    if work:
        work.mkdir(parents=True, exist_ok=True)
        (work / "labels.tsv").write_text("".join(f"{s:.3f}\t{'keep' if s > cut else 'reject'}\t{t!r}\n"
                                                 for t, s in zip(texts, scores, strict=True)))
    hk, hr = passages(k_test), passages(r_test)

    def judge(model, seed: int) -> tuple[float, float, float]:
        fresh = sample_batch(model, FRESH, PASSAGE_CHARS, temperature, seed=1000 + seed)
        s = np.array([score_of(t) for t in fresh])
        return float(s.mean()), float((s > cut).mean()), float(s.std())

    scores0 = mean_logp(origin, hk), mean_logp(origin, hr)
    rank0 = ranking_accuracy(*scores0)
    bpc0 = quick_bpc(origin, [corpus], EVAL_CHARS)
    origin_judged = [judge(origin, s) for s in range(seeds)]
    rows = [f"| origin ({origin_style}) | {rank0:.3f} | | {_fmt([j[0] for j in origin_judged])} | "
            f"{_fmt([j[1] for j in origin_judged], 2)} | {bpc0:.3f} | | |"]
    for name in variants:
        results = []
        for seed in range(seeds):
            cfg = _variant(name, steps, 1234 + seed)
            r = learn(k_train, r_train, origin, cfg, train_text if cfg.replay > 0 else None, progress_bar=False)
            scores = mean_logp(r.model, hk), mean_logp(r.model, hr)
            rank = ranking_accuracy(*scores)
            lo, hi = ranking_gain_interval(scores0, scores)
            score, keep, _ = judge(r.model, seed)
            bpc = quick_bpc(r.model, [corpus], EVAL_CHARS)
            results.append((rank, lo, hi, score, keep, bpc - bpc0, r.seconds))
            log.info("%s seed %d: ranking %.3f (gain %+.3f, 95%% %+.3f..%+.3f), curator %.3f (keeps %.2f), "
                     "bits/char %+.3f, %.0f s", name, seed, rank, rank - rank0, lo, hi, score, keep, bpc - bpc0,
                     r.seconds)
        col = list(zip(*results, strict=True))
        rows.append(f"| house: {name} | {_fmt(col[0])} | {np.mean(col[1]):+.3f} .. {np.mean(col[2]):+.3f} | "
                    f"{_fmt(col[3])} | {_fmt(col[4], 2)} | "
                    f"{_fmt([bpc0 + d for d in col[5]])} | {_fmt(col[5], 3, sign=True)} | {np.mean(col[6]):.0f} |")
    head = [
        f"# bench learn: origin {origin_style}, curator {curator_name} = {described}; "
        f"keeps a passage above the origin's median {cut:.3f}",
        f"# {samples} origin samples of {PASSAGE_CHARS} chars at T={temperature:g}: {len(kept)} kept, "
        f"{len(rejected)} rejected; trained on {len(k_train)}/{len(r_train)}, held out {len(k_test)}/{len(r_test)}; "
        f"{steps} steps per house, {seeds} seed(s); fresh samples {FRESH} per model and seed; "
        f"bits/char on {EVAL_CHARS:,} held-out chars; {time.monotonic() - t_start:.0f} s in all, 1 thread",
        "| model | ranking (held-out kept > rejected) | its gain, 95% interval over held-out sets | "
        "curator score of fresh samples | share it keeps | held-out bits/char | change | learn s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    return "\n".join(head + rows)
