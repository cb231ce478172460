"""The conductor: one engine tick as a deterministic state machine, with no I/O and no clock.

Everything that changes what is generated passes through `apply` (a validated Command) or
`tick`. So a run is reproducible: the same bank, seed and commands applied before the same tick
indices give the same text. The runner adds sockets and time; the replay adds a file.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from textconductor.engine import mixer
from textconductor.engine.bank import Bank
from textconductor.engine.sampler import Sampler
from textconductor.protocol import Command, Params, Tick
from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS, fold
from textconductor.protocol.defaults import RESYNC_CHARS

log = logging.getLogger(__name__)

HISTORY_KEEP = 4096  # characters kept in memory: enough for re-sync and for a new frontend's view
START = "\n"


class CommandError(ValueError):
    """A well-formed command that does not fit this engine (e.g. an unknown style name).

    `reason` is a fixed phrase (rejections are counted per reason, so it must not vary with
    the input); `detail` names the offending value for the log.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason, self.detail = reason, detail


@dataclass
class Tuning:
    resync_chars: int = RESYNC_CHARS


class Conductor:
    def __init__(self, bank: Bank, names: list[str], seed: int = 0, params: Params | None = None,
                 tuning: Tuning | None = None) -> None:
        if len(names) != bank.n:
            raise ValueError("one name per style")
        self.bank, self.names = bank, list(names)
        self.index = {n: i for i, n in enumerate(self.names)}
        self.params = params or Params(seed=seed)
        self.params.seed = seed
        self.tuning = tuning or Tuning()
        self.sampler = Sampler(seed)
        self.raw = np.zeros(bank.n)
        self.raw[0] = 1.0
        self.enabled = np.ones(bank.n, dtype=bool)
        self.paused = False
        self.tick_index = 0
        self.history: deque[str] = deque(START, maxlen=HISTORY_KEEP)
        self._weights = mixer.normalise(self.raw, self.enabled)
        self.zero_weight = False  # true while the raw weights sum to zero (the last mixture plays on)

    # -- control ---------------------------------------------------------------------------

    def style(self, ref: str | int) -> int:
        if isinstance(ref, int):
            if not 0 <= ref < len(self.names):
                raise CommandError("style index out of range", str(ref))
            return ref
        if ref not in self.index:
            raise CommandError("unknown style", ref[:64])
        return self.index[ref]

    def apply(self, cmd: Command) -> None:
        """Change state; raises CommandError for a command this engine cannot honour."""
        n, a = cmd.name, cmd.args
        if n == "weights":
            if len(a) != len(self.names):
                raise CommandError("wrong number of weights", f"expected {len(self.names)}, got {len(a)}")
            self.raw[:] = a
        elif n == "weight":
            self.raw[self.style(a[0])] = a[1]
        elif n == "enable":
            self.enabled[self.style(a[0])] = a[1]
        elif n in ("temperature", "rate", "threshold", "top_p", "mix"):
            setattr(self.params, n, a[0])
        elif n == "seed":
            self.params.seed = a[0]
            self.sampler.reseed(a[0])
        elif n == "pause":
            self.paused = True
        elif n == "resume":
            self.paused = False
        elif n == "reset":
            self.reset()
        elif n == "prime":
            self.prime(a[0])
        else:
            raise CommandError("not a conductor command", n)
        if n in ("weights", "weight", "enable"):
            self._update_weights()

    def _update_weights(self) -> None:
        w = mixer.normalise(self.raw, self.enabled)
        self.zero_weight = w is None
        if w is not None:
            self._weights = w
        # else: keep the last valid mixture (reported through zero_weight)

    @property
    def weights(self) -> np.ndarray:
        """Normalised weights in effect (the last valid ones while the raw weights are all zero)."""
        return self._weights if self._weights is not None else np.zeros(len(self.names))

    def reset(self) -> None:
        self.history.clear()
        self.history.append(START)
        self.bank.set_active([])

    def prime(self, text: str) -> str:
        """Append performer text to the history; active styles read it now, the rest on activation."""
        text = fold(text)
        if not text:
            return ""
        feed = self.history[-1] + text[:-1]
        for s in self.bank.active:
            self.bank.feed(s, feed)
        self.history.extend(text)
        return text

    # -- the tick --------------------------------------------------------------------------

    def tick(self) -> Tick:
        w_all = self.weights
        if self._weights is None:
            raise CommandError("no weights", "every style has weight 0 and none was set before")
        active = mixer.active_set(w_all, self.params.threshold)
        added = self.bank.set_active(active.tolist())
        if added:
            hist = "".join(self.history)
            window = hist[-self.tuning.resync_chars:-1] if self.tuning.resync_chars > 0 else ""
            for s in added:
                self.bank.feed(s, window)
        order = np.array(self.bank.active, dtype=np.int64)
        w = w_all[order]
        w = w / w.sum()
        logps = self.bank.step(self.history[-1]).cpu().numpy().astype(np.float64)
        p = mixer.mix(logps, w, self.params.mix, self.params.temperature, self.params.top_p)
        c = self.sampler.draw(p)
        ch = CHARS[c]
        attr = np.zeros(len(self.names))
        attr[order] = mixer.attribution(logps, w, c)
        eff = np.zeros(len(self.names))
        eff[order] = w
        self.history.append(ch)
        t = Tick(self.tick_index, ch, attr.astype(np.float32), p.astype(np.float32), order.astype(np.int32),
                 np.exp(logps).astype(np.float32), eff.astype(np.float32))
        self.tick_index += 1
        return t

    def text_tail(self, n: int = 500) -> str:
        hist = "".join(self.history)
        return hist[-n:]


__all__ = ["CHAR_TO_INDEX", "CommandError", "Conductor", "Tuning"]
