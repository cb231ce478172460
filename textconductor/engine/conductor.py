"""The conductor: one engine tick as a deterministic state machine, with no I/O and no clock.

Everything that changes what is generated passes through `apply` (a validated Command) or
`tick`. So a run is reproducible: the same bank, seed and commands applied before the same tick
indices give the same text. The runner adds sockets and time; the replay adds a file.

The guards live here too, as state beside the history, for the same reason: the loop guard
(`guard.LoopGuard`) and the blocklist (`blocklist.BlockMatcher`) see every character that enters
the history, generated or primed, and act on the mixed distribution before the draw. A new
blocklist arrives as a `blocklist` command (the runner reads the file), so the record replays it.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from textconductor.engine import guard as loop
from textconductor.engine import mixer
from textconductor.engine.bank import Bank
from textconductor.engine.blocklist import BOUNDARY_IDX, Blocklist, BlockMatcher, filter_prime
from textconductor.engine.crowd import Crowd, combine
from textconductor.engine.sampler import Sampler
from textconductor.protocol import Command, Params, Tick
from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS, fold
from textconductor.protocol.defaults import RESYNC_CHARS, RESYNC_FROM

log = logging.getLogger(__name__)

HISTORY_KEEP = 4096  # characters kept in memory: enough for re-sync and for a new frontend's view
FIT_RATE = 0.1  # the running mean of how well a style reads the text spans about ten characters
FIT_MARGIN = 1.0  # nats a character: a candidate for the shift reads the text at most this much worse
SHARPER = 1e-6  # the temperature raised a repeat's probability (beyond float32 rounding of the styles' output)
START = "\n"


def _sharpened(p: np.ndarray, p_raw: np.ndarray, idx: np.ndarray) -> bool:
    """The temperature gave `idx` more probability than the untempered mixture has."""
    return bool(p[idx].sum() > p_raw[idx].sum() / p_raw.sum() + SHARPER)


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
    resync_from: str = RESYNC_FROM[0]  # "home" (engine/home.py) or "blank" (a zeroed state)
    guard: bool = True  # the loop guard starts on: a gallery must not need to know it exists
    guard_strength: float = loop.DEFAULT_STRENGTH
    guard_escape: str = loop.DEFAULT_ESCAPE


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
        self.crowd = Crowd()  # the audience's weights and how much they count (engine/crowd.py)
        self.paused = False
        self.tick_index = 0
        self.history: deque[str] = deque(START, maxlen=HISTORY_KEEP)
        self._weights = mixer.normalise(self.raw, self.enabled)
        self.zero_weight = False  # true while the raw weights sum to zero (the last mixture plays on)
        self.guard = loop.LoopGuard(self.tuning.guard, float(self.tuning.guard_strength), self.tuning.guard_escape)
        self.blocklist = BlockMatcher()
        self.counts = loop.GuardCounts()
        self.events: list[str] = []  # what the guards did at the last tick ("loop", "blocklist", ...)
        self.last_primed = ""  # the text the last prime put into the history, after the blocklist
        self._fit: dict[int, float] = {}  # style -> how well it reads the text (for the shift's choice)
        self._rebuild_guards()
        self.set_resync(self.tuning.resync_from, self.tuning.resync_chars)

    def set_resync(self, start: str, chars: int) -> None:
        """How a newly active style joins (engine/home.py): from `start` ("home" or "blank"), then
        reading the last `chars` characters. Going home for the first time finds every style's home
        (once per bank) and deactivates all styles, so call it before a performance, not during one."""
        if start not in RESYNC_FROM:
            raise ValueError(f"resync_from {start!r}: one of {', '.join(RESYNC_FROM)}")
        self.tuning.resync_from, self.tuning.resync_chars = start, max(0, int(chars))
        if start == "home" and not self.bank.has_homes:
            self.bank.set_active([])
            self.bank.find_homes()

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
        elif n == "guard":
            self.set_guard(a[0], a[1] if len(a) > 1 else None)
        elif n == "blocklist":  # from the runner's file watcher (never from the wire): the entries
            self.set_blocklist(Blocklist.of(a))
        elif n == "crowd":
            if len(a) != len(self.names):
                raise CommandError("wrong number of crowd weights", f"expected {len(self.names)}, got {len(a)}")
            self.crowd.set_weights(a)
        elif n == "crowd_mode":
            self.crowd.set_mode(a[0], a[1] if len(a) > 1 else None)
        else:
            raise CommandError("not a conductor command", n)
        if n in ("weights", "weight", "enable", "crowd", "crowd_mode"):
            self._update_weights()

    def _update_weights(self) -> None:
        c = self.crowd
        live = c.weights is not None and c.mode != "off" and len(c.weights) == len(self.names)
        crowd = mixer.normalise(c.weights, self.enabled) if live else None
        w = combine(mixer.normalise(self.raw, self.enabled), crowd, c.mode, c.blend)
        self.zero_weight = w is None
        if w is not None:
            self._weights = w
        # else: keep the last valid mixture (reported through zero_weight)

    @property
    def weights(self) -> np.ndarray:
        """Normalised weights in effect (the last valid ones while the raw weights are all zero)."""
        return self._weights if self._weights is not None else np.zeros(len(self.names))

    def set_guard(self, on: bool, strength: float | None = None) -> None:
        g = self.guard
        g.on = bool(on)
        if strength is not None:
            g.strength = float(np.clip(strength, 0.0, 1.0))
        if not g.on:
            g.escape_left, g.target, g.extra = 0, -1, []

    def set_blocklist(self, blocklist: Blocklist) -> None:
        self.blocklist.set_blocklist(blocklist, "".join(self.history))

    def _rebuild_guards(self) -> None:
        """Re-read the history into the guards (after a reset or a restored snapshot)."""
        text = "".join(self.history)
        self.guard.detector.rebuild(text)
        self.blocklist.rebuild(text)

    def _append(self, text: str) -> None:
        self.history.extend(text)
        for ch in text:
            self.guard.detector.push(ch)
            self.blocklist.push(ch)

    def reset(self) -> None:
        self.history.clear()
        self.history.append(START)
        self.bank.set_active([])
        self.guard.escape_left, self.guard.target, self.guard.extra = 0, -1, []
        self._fit = {}
        self._rebuild_guards()

    def prime(self, text: str) -> str:
        """Append performer text to the history; active styles read it now, the rest on activation.

        Blocked words are cut out first (counted and logged, never echoed); returns what entered.
        """
        text = fold(text)
        if text and self.blocklist.blocklist.entries:
            context = "".join(list(self.history)[-512:])
            text, dropped = filter_prime(self.blocklist.blocklist, context, text)
            if dropped:
                self.counts.prime_dropped += dropped
                log.info("prime: %d blocked word(s) dropped", dropped)
        self.last_primed = text
        if not text:
            return ""
        feed = self.history[-1] + text[:-1]
        for s in self.bank.active:
            self.bank.feed(s, feed)
        self._append(text)
        return text

    # -- the tick --------------------------------------------------------------------------

    def tick(self, forced: str | None = None) -> Tick:
        """Generate one character (or, with `forced`, take that one: for scoring real text)."""
        w_all = self.weights
        if self._weights is None:
            raise CommandError("no weights", "every style has weight 0 and none was set before")
        active = mixer.active_set(w_all, self.params.threshold)
        self.events = []
        extra = self._guard_candidates(active, w_all)
        added = self.bank.set_active(active.tolist() + [s for s in extra if s not in active])
        if added:
            hist = "".join(self.history)
            window = hist[-self.tuning.resync_chars:-1] if self.tuning.resync_chars > 0 else ""
            # Mid-text a newcomer starts from home; at the opening (nothing written yet) from blank,
            # as every style learnt to open.
            home = self.tuning.resync_from == "home" and len(hist) > 1
            for s in added:
                if home:
                    self.bank.go_home(s)
                self.bank.feed(s, window)
        order = np.array(self.bank.active, dtype=np.int64)
        w = w_all[order]
        if len(order) > len(active):  # the shift's candidates, stepped but not mixed, weigh nothing
            mixed = np.zeros(len(self.names), dtype=bool)
            mixed[active] = True
            w = np.where(mixed[order], w, 0.0)
        w = w / w.sum()
        logps = self.bank.step(self.history[-1]).cpu().numpy().astype(np.float64)
        p_raw = mixer.MIXERS[self.params.mix](logps, w)  # untempered: the fallback of every mask
        p = self._temper(p_raw)
        w, p_raw, p = self._loop_guard(order, w, logps, p_raw, p)
        if self.blocklist.completing():
            if p[BOUNDARY_IDX].sum() > 0:
                self.counts.blocked += 1
                self.events.append("blocklist")
            p = loop.mask(p, BOUNDARY_IDX, p_raw)
        c = CHAR_TO_INDEX[forced] if forced is not None else self.sampler.draw(p)
        ch = CHARS[c]
        shown = w > 0  # styles kept active only as the shift's candidates are not published
        attr = np.zeros(len(self.names))
        attr[order[shown]] = mixer.attribution(logps[shown], w[shown], c)
        eff = np.zeros(len(self.names))
        eff[order] = w
        self.history.append(ch)
        self.guard.detector.push(ch)
        self.blocklist.push(ch)
        if self.guard.on and self.guard.escape == "shift":
            self._track_fit(order, logps[:, c])
        t = Tick(self.tick_index, ch, attr.astype(np.float32), p.astype(np.float32),
                 order[shown].astype(np.int32), np.exp(logps[shown]).astype(np.float32), eff.astype(np.float32))
        self.tick_index += 1
        return t

    def _temper(self, p_raw: np.ndarray, temperature: float | None = None) -> np.ndarray:
        t = self.params.temperature if temperature is None else temperature
        return mixer.top_p_filter(mixer.apply_temperature(p_raw, t), self.params.top_p)

    def _guard_candidates(self, active: np.ndarray, w_all: np.ndarray) -> list[int]:
        """Styles to step beside the active ones: while the shift may act, the lead style's
        neighbours on the puck circle (re-synchronised like any style that comes in)."""
        g = self.guard
        det = g.detector
        if g.on and g.escape == "shift" and (det.periodic() or det.babbling() or det.copying() or g.escape_left > 0):
            if not g.extra:
                lead = int(active[np.argmax(w_all[active])])
                g.extra = [s for s in loop.neighbours(lead, self.enabled) if s not in active]
        elif g.extra:
            g.extra = []
        return g.extra

    def _loop_guard(self, order: np.ndarray, w: np.ndarray, logps: np.ndarray, p_raw: np.ndarray,
                    p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The loop guard on this tick's mixture: (weights, untempered and tempered distributions).

        It acts only where the mixture heads into a repeat (the continuation set has at least
        `attempt_mass` of the tempered probability); on babble and on runs of one character, only
        where the temperature is what heads it there (it raised that probability): at T=1 the
        models' own predictions are left alone. The hard limits hold at any temperature.
        """
        g = self.guard
        if not g.on:
            return w, p_raw, p
        det = g.detector
        cont = loop.indices(det.escape_continuations())
        heading = cont.size > 0 and p[cont].sum() >= g.rules.attempt_mass
        looping = heading and (det.periodic() or ((det.babbling() or det.copying()) and _sharpened(p, p_raw, cont)))
        if looping:
            det.note_attempt()
            if g.escape_left == 0:
                self.counts.loop_acts += 1
                self.events.append("loop")
            g.escape_left = g.rules.escape_chars
            if g.escape == "shift":
                row = loop.way_out(logps, cont, self._readers(order, w))
                g.target = int(order[row]) if row is not None else -1
        acted = False  # this character's distribution was changed (counted in loop_chars)
        if g.escape_left > 0:
            # Escapes act before the temperature, so a low temperature cannot sharpen them away.
            temperature = self.params.temperature
            acted = True
            if g.escape == "block" and looping:
                p_raw = loop.mask(p_raw, cont)
            elif g.escape == "penalty" and looping:
                p_raw = loop.penalise(p_raw, cont, loop.penalty_factor(g.strength))
            elif g.escape == "shift" and g.target in order:
                w = loop.shift_weights(w, int(np.flatnonzero(order == g.target)[0]), g.strength)
                p_raw = mixer.MIXERS[self.params.mix](logps, w)
            elif g.escape == "shift" and looping:  # every style expects the loop: no one to hand it to
                p_raw = loop.penalise(p_raw, cont, loop.penalty_factor(g.strength))
            elif g.escape == "heat":
                temperature = loop.heat(temperature, g.strength)
            else:
                acted = False  # block and penalty act on the looping character alone
            p = self._temper(p_raw, temperature)
        if det.char_run():
            # No style helps here (every style that has read a screen of spaces predicts more), so
            # whatever the escape, a run of one character is broken by a penalty on that character.
            run = np.array([CHAR_TO_INDEX[det.last]], dtype=np.int64)
            if p[run].sum() >= g.rules.attempt_mass and _sharpened(p, p_raw, run):
                self.counts.loop_acts += 1
                self.events.append("run")
                p_raw = loop.penalise(p_raw, run, loop.penalty_factor(max(g.strength, 0.5)))
                p = self._temper(p_raw)
                acted = True
        hard = det.hard_mask()
        if hard is not None:
            kind, idx = hard
            if p[idx].sum() > 0:
                self.counts.loop_acts += 1
                self.events.append(kind)
            p = loop.mask(p, idx, p_raw)
        if acted or hard is not None:
            self.counts.loop_chars += 1
        if g.escape_left > 0:
            g.escape_left -= 1
            if g.escape_left == 0:
                g.target = -1  # hand the weight back
        return w, p_raw, p

    def _track_fit(self, order: np.ndarray, logp_char: np.ndarray) -> None:
        """How well each stepped style reads the text: a running mean of log p(the written char)."""
        fit = {}
        for s, lp in zip(order.tolist(), logp_char.tolist(), strict=True):
            old = self._fit.get(s)
            fit[s] = lp if old is None else old + FIT_RATE * (lp - old)
        self._fit = fit

    def _readers(self, order: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Rows of the styles that read the text about as well as the leading style does: the shift's
        candidates. A neighbour on the circle is not always a neighbour in kind (LaTeX sits next to
        the Bible); one that cannot read the text would hand it over to noise."""
        lead = self._fit.get(int(order[int(np.argmax(w))]))
        if lead is None:
            return np.arange(len(order))
        return np.array([k for k, s in enumerate(order.tolist()) if self._fit.get(s, -np.inf) >= lead - FIT_MARGIN],
                        dtype=np.int64)

    def text_tail(self, n: int = 500) -> str:
        hist = "".join(self.history)
        return hist[-n:]


__all__ = ["CHAR_TO_INDEX", "CommandError", "Conductor", "Tuning"]
