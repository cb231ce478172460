"""Every default of a training run in one block, read top to bottom (as nanoGPT keeps its own).

A run is fully described by its TrainConfig: the checkpoint stores it, and a resumed run refuses
a config that would not continue the same computation.
"""

from __future__ import annotations

from dataclasses import dataclass

from textconductor.errors import UserError

SEGMENT = 8192  # characters a row reads before jumping elsewhere
IGNORE = -100  # target index that contributes no loss (cross_entropy's ignore_index)
PREFIX_MIN = 20  # shortest foreign prefix of a re-entry segment


class TrainError(UserError):
    """A training run that cannot start or continue; the message says why."""


@dataclass
class TrainConfig:
    name: str
    layers: int = 2
    hidden: int = 256
    embed: int = 64
    dropout: float = 0.0
    batch: int = 32
    seq_len: int = 128
    lr: float = 4e-3
    min_lr_fraction: float = 0.1
    warmup_steps: int = 100
    clip: float = 5.0
    seed: int = 1234
    minutes: float | None = None
    chars: int | None = None
    save_every_s: float = 120.0
    save_every_steps: int | None = None  # for tests: checkpoint on step counts, not wall time
    base: str | None = None
    widen: bool = False  # grow the base to `hidden` units, predicting as it did (training/widen.py)
    display_name: str = ""
    segment: int = SEGMENT
    line_starts: bool = False
    reentry: float = 0.0  # share of segments that open with a foreign prefix (needs foreign corpora)
    prefix_max: int = 160  # longest foreign prefix; capped at seq_len - 8 so own text follows it

    def budget_fraction(self, chars_seen: int, seconds: float) -> float:
        if self.chars is not None:
            return chars_seen / self.chars
        return seconds / (60.0 * (self.minutes or 0.0)) if self.minutes else 0.0


PREFERENCES = ("dpo", "simpo")  # how rejected passages count (HouseConfig.preference)


@dataclass
class HouseConfig:
    """Every default of `learn` (training/house.py): a house style fine-tuned on kept passages.

    The leash and the negatives are measured choices (docs/models.md, `textconductor bench learn`):
    `kl` weighs KL(origin || house) on the kept passages (and on replayed origin text), `replay`
    is the share of each batch read from the origin's own corpus (needs the corpus), `negatives`
    weighs a DPO term that pairs each kept passage with a rejected one, comparing their
    length-normalised log-likelihood ratios to the frozen origin with inverse temperature `beta`
    (`preference="dpo"`), or their length-normalised log-likelihoods themselves, the house's alone,
    less a `margin` (`preference="simpo"`, after SimPO: the reward is what the ranking judges).
    """

    name: str = "house"
    steps: int = 100
    batch: int = 16
    seq_len: int = 256  # longer passages are cut; the engine's passages are mostly shorter
    lr: float = 1e-3  # the bank recipe's settle rate: gentle, the origin is already good
    warmup_steps: int = 10
    clip: float = 1.0
    kl: float = 3.0  # with replay 0.5: +0.037 bits/char on the origin's corpus (kl 2: +0.047; kl 0.5 alone +0.07)
    replay: float = 0.5  # used when the origin's corpus is given (learn --corpus); else 0
    negatives: float = 1.0  # dialogue curator: lifts the taste learnt, 0.26 -> 0.32 (docs/models.md)
    beta: float = 10.0
    preference: str = "dpo"  # or "simpo": reference-free, on the house's own length-normalised likelihood
    margin: float = 0.0  # simpo's target gap (in beta-scaled nats/char) between a kept and a rejected passage
    seed: int = 1234
    min_kept: int = 1  # fewer kept passages than this is a UserError (nothing to learn from)
