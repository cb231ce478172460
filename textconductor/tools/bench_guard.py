"""`textconductor bench guard`: the figures behind the loop guard and the blocklist (docs/performance.md).

Five parts, each a table, all through the real conductor (the engine's own tick, no sockets):

* `generation`: every style chosen and ten mixes, at each temperature, guard off and on: the share
  of characters that start a 24-character string seen in the previous 2,000 (target <= 1% with the
  guard on) and the longest whitespace-only run (target <= 80);
* `escapes`: the escapes side by side on the worst cases (which escape ships is decided here);
* `heldout`: real text. The detector alone over each corpus's held-out text (how often would the
  guard be ready to act), and the text scored through the engine with the guard off and on
  (teacher-forced: the real next character is taken instead of a sampled one), giving how often
  it acted and the bits/char difference (target <= 0.01);
* `blocklist`: a 200-word stand-in list of common words, generated across styles and temperatures:
  blocked words written (target 0) and how often the mask acted;
* `timing`: step time with all styles active, guards on vs off (target within 10%).

The bank loads once; every run gets a fresh conductor and a cleared bank, so runs are independent
and each is reproducible from its seed. That makes a run cacheable: with `--work DIR` each finished
run is kept as a JSON file keyed by everything that makes it (the bank's files, the engine source
that ticks, the settings and the seed), so the full run — hours on this machine's one free core —
can stop and resume across sessions and only what changed is run again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from textconductor.engine.bank import Bank
from textconductor.engine.blocklist import Blocklist
from textconductor.engine.conductor import Conductor, Tuning
from textconductor.engine.guard import (
    DEFAULT_ESCAPE,
    DEFAULT_STRENGTH,
    ESCAPES,
    LoopDetector,
    longest_whitespace_run,
    repeat_share,
)
from textconductor.protocol import Command, Params
from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS

log = logging.getLogger(__name__)

TEMPERATURES = (0.1, 0.2, 0.3, 0.5, 0.8)
# Ten mixes, equal weights, each of styles that share something (verse, the novel, argument, code,
# speech), so a mix is one a performer would play. Styles missing from the bank are left out.
MIXES: tuple[tuple[str, ...], ...] = (
    ("kant", "nietzsche"), ("linux", "latex"), ("lincoln", "sotu"), ("bible", "shakespeare"),
    ("apollo", "jargon"), ("austen", "dickens"), ("homer", "milton", "whitman"), ("darwin", "beeton"),
    ("grimm", "sherlock", "shelley"), ("quran", "aristotle", "davinci", "pepys"),
)
# The worst cases with the guard off (3,000 chars, seed 1; docs/performance.md): where escapes are compared.
WORST = (("quran", 0.1), ("kant", 0.1), ("sotu", 0.1), ("apollo", 0.3), ("apollo", 0.5), ("lincoln", 0.3),
         ("kant", 0.3), ("bible", 0.3))

# 200 common English words: a stand-in blocklist, so the check needs no offensive list.
STAND_INS = tuple("""
the of and to in is was he for it with as his on be at by had not are but from or have an they which one
you were her all she there would their we him been has when who will more no if out so said what up its
about into than them can only other new some could time these two may then do first any my now such like
our over man me even most made after also did many before must through back years where much your way well
down should because each just those people how too little state good very make world still own see men work
long get here between both life being under never day same another know while last might us great old year
off come since against go came right used take three states himself few house use during without again place
around however home small found thought went say part once general high upon school every does got united left
number course war until always away something fact though water less public put think almost hand enough far
light night word name side head face door king
""".split())


@dataclass
class Run:
    """One generated text and what the guard did in it."""

    text: str
    loop_acts: int
    loop_chars: int
    blocked: int
    step_ms: float  # median tick time


def _conductor(bank: Bank, names: list[str], weights: Sequence[str], temperature: float, seed: int,
               guard: bool, escape: str, strength: float) -> Conductor:
    bank.set_active([])
    tuning = Tuning(guard=guard, guard_escape=escape, guard_strength=strength)
    c = Conductor(bank, names, seed=seed, params=Params(temperature=temperature, rate=0.0, seed=seed), tuning=tuning)
    c.raw[:] = 0.0
    for name in weights:
        c.raw[names.index(name)] = 1.0
    c.apply(Command("weights", tuple(float(x) for x in c.raw)))
    return c


def generate(bank: Bank, names: list[str], weights: Sequence[str], temperature: float, chars: int, seed: int = 1,
             guard: bool = True, escape: str = DEFAULT_ESCAPE, strength: float = DEFAULT_STRENGTH,
             blocklist: Blocklist | None = None) -> Run:
    c = _conductor(bank, names, weights, temperature, seed, guard, escape, strength)
    if blocklist is not None:
        c.set_blocklist(blocklist)
    out, times = [], []
    for _ in range(chars):
        t0 = time.perf_counter()
        out.append(c.tick().char)
        times.append(time.perf_counter() - t0)
    n = c.counts
    return Run("".join(out), n.loop_acts, n.loop_chars, n.blocked, float(np.median(times) * 1e3))


Generate = Callable[..., Run]

# The engine modules that decide what a run writes (the guard and what it acts on): a change here
# makes every cached run stale. The conductor that calls them is left out on purpose — it grows
# features that do not touch generation, and its behaviour is pinned by the exact-replay tests.
_ENGINE_SOURCES = ("blocklist.py", "guard.py", "mixer.py", "sampler.py")


def _digest(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:16]


class RunCache:
    """Finished runs on disk, one JSON file each, keyed by everything that makes a run.

    `generate` is deterministic given the bank, the engine code and its arguments, so a cached run
    is the run; the key holds digests of the bank's checkpoint files and of the guard's modules
    (`_ENGINE_SOURCES`), so changing either invalidates the cache rather than mixing stale figures
    into a table.
    """

    def __init__(self, folder: Path, bank_files: Sequence[Path]) -> None:
        from textconductor.engine import conductor
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        engine_dir = Path(conductor.__file__).parent
        self.salt = _digest(list(bank_files)) + _digest([engine_dir / n for n in _ENGINE_SOURCES])
        self.hits = self.misses = 0

    def memo(self, label: str, key: dict, compute: Callable[[], dict]) -> dict:
        """`compute()`'s JSON result for `key`, from disk when an earlier run finished it."""
        key = {"salt": self.salt, **key}
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        path = self.folder / f"{label}-{digest}.json"
        if path.exists():
            try:
                result = json.loads(path.read_text())["result"]
                self.hits += 1
                return result
            except (OSError, ValueError, KeyError):
                log.warning("unreadable cached run %s: running it again", path)
        self.misses += 1
        result = compute()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": key, "result": result}))
        tmp.replace(path)  # atomic: a run stopped mid-write leaves no half file behind
        return result

    def generate(self, bank: Bank, names: list[str], weights: Sequence[str], temperature: float, chars: int,
                 seed: int = 1, guard: bool = True, escape: str = DEFAULT_ESCAPE, strength: float = DEFAULT_STRENGTH,
                 blocklist: Blocklist | None = None) -> Run:
        """`generate`, cached."""
        key = {"names": names, "weights": list(weights), "temperature": temperature, "chars": chars, "seed": seed,
               "guard": guard, "escape": escape, "strength": strength,
               "blocklist": sorted(blocklist.entries) if blocklist is not None else None}
        label = f"{_label(weights)}-{temperature:g}-{'on' if guard else 'off'}"
        return Run(**self.memo(label, key, lambda: asdict(generate(bank, names, weights, temperature, chars, seed,
                                                                    guard, escape, strength, blocklist))))


def _label(weights: Sequence[str]) -> str:
    return "+".join(weights)


def available_mixes(names: list[str], count: int) -> list[tuple[str, ...]]:
    return [m for m in MIXES if all(s in names for s in m)][:count]


# -- generation ---------------------------------------------------------------------------------

def generation_table(bank: Bank, names: list[str], styles: Sequence[str], mixes: Sequence[tuple[str, ...]],
                     temperatures: Sequence[float], chars: int, seed: int, escape: str, strength: float,
                     progress: Callable[[str], None] = log.info, run: Generate = generate) -> tuple[str, dict]:
    rows = [(s,) for s in styles] + list(mixes)
    lines = ["| styles | T | repeats off | repeats on | longest whitespace off | on | acts on | chars acted on |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    worst = {"repeats_on": 0.0, "whitespace_on": 0, "over_1pct": 0, "cases": 0}
    for weights in rows:
        for t in temperatures:
            off = run(bank, names, weights, t, chars, seed, guard=False)
            on = run(bank, names, weights, t, chars, seed, guard=True, escape=escape, strength=strength)
            r_off, r_on = repeat_share(off.text), repeat_share(on.text)
            ws_off, ws_on = longest_whitespace_run(off.text), longest_whitespace_run(on.text)
            worst["repeats_on"] = max(worst["repeats_on"], r_on)
            worst["whitespace_on"] = max(worst["whitespace_on"], ws_on)
            worst["over_1pct"] += r_on > 0.01
            worst["cases"] += 1
            lines.append(f"| {_label(weights)} | {t:g} | {100 * r_off:.1f}% | {100 * r_on:.2f}% | {ws_off} | {ws_on} | "
                         f"{on.loop_acts} | {100 * on.loop_chars / chars:.1f}% |")
            progress(lines[-1])
    return "\n".join(lines), worst


def parse_escape(text: str, strength: float) -> tuple[str, float]:
    """'shift' or 'shift:0.5' -> (escape, strength)."""
    name, _, value = text.partition(":")
    return check_escape(name), float(value) if value else strength


def style_judge(corpus: Path):
    """An order-5 Kneser-Ney model of a corpus's training text: how much a text reads like the style.

    Independent of the LSTMs, so it judges an escape's text without favouring any model's habits.
    """
    from textconductor.training.corpus import load_corpus
    from textconductor.training.ngram import KneserNey
    return KneserNey(5).fit(load_corpus(corpus).train)


def corpus_words(corpora: Path, names: Sequence[str]) -> set[str]:
    """Every word (run of letters, lower-cased) of the bank's corpora: what counts as a real word."""
    import re

    from textconductor.training.corpus import read_text
    words: set[str] = set()
    for name in names:
        path = Path(corpora) / f"{name}.txt"
        if path.exists():
            words |= {w.lower() for w in re.findall(r"[A-Za-z]+", read_text(path)[0])}
    return words


def nonword_share(words: set[str], text: str) -> float:
    """Share of the words in `text` that no corpus has: broken words an escape left behind."""
    import re
    found = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
    return sum(w not in words for w in found) / max(len(found), 1)


def judge_bpc(judge, text: str) -> float:
    from textconductor.protocol.charset import encode
    data = encode(text)
    return judge.bpc(data, np.arange(5, len(data))) if len(data) > 5 else float("nan")


def escape_table(bank: Bank, names: list[str], cases: Sequence[tuple[Sequence[str], float]], chars: int,
                 seeds: Sequence[int], escapes: Sequence[str], strength: float, corpora: Path | None = None,
                 progress: Callable[[str], None] = log.info, run: Generate = generate) -> str:
    """Per case and escape, the mean over `seeds` of: the repeat share; with `corpora`, the share of
    words no corpus has (broken words an escape left behind) and how the text reads to an order-5
    n-gram of the style's corpus (bits/char: lower reads more like the style; a loop reads lowest of
    all); and the median tick time. An escape may carry its own strength (`shift:0.5`). The last
    row is the mean over the cases."""
    specs = [("off", strength)] + [parse_escape(e, strength) for e in escapes]
    head = " | ".join("off" if e == "off" else f"{e} {s:g}" for e, s in specs)
    lines = [f"| styles | T | {head} |", "|---|---:|" + "---:|" * len(specs)]
    judges: dict[str, object] = {}
    words = corpus_words(Path(corpora), names) if corpora else set()
    totals: list[list[np.ndarray]] = [[] for _ in specs]

    def measures(r: Run, judge) -> np.ndarray:
        nw = nonword_share(words, r.text) if words else math.nan
        bpc = judge_bpc(judge, r.text) if judge is not None else math.nan
        return np.array([repeat_share(r.text), nw, bpc, r.step_ms])

    def cell(m: np.ndarray) -> str:
        out = f"{100 * m[0]:.2f}%"
        if not math.isnan(m[1]):
            out += f", {100 * m[1]:.1f}% nw"
        if not math.isnan(m[2]):
            out += f", {m[2]:.2f} b/c"
        return out + f", {m[3]:.2f} ms"

    for weights, t in cases:
        path = Path(corpora) / f"{weights[0]}.txt" if corpora else None
        judge = judges.setdefault(weights[0], style_judge(path)) if path is not None and path.exists() else None
        cells = []
        for k, (esc, st) in enumerate(specs):
            runs = [run(bank, names, weights, t, chars, seed, guard=esc != "off",
                        escape=esc if esc != "off" else "penalty", strength=st) for seed in seeds]
            m = np.mean([measures(r, judge) for r in runs], axis=0)
            totals[k].append(m)
            cells.append(cell(m))
        lines.append(f"| {_label(weights)} | {t:g} | " + " | ".join(cells) + " |")
        progress(lines[-1])
    lines.append("| **mean** | | " + " | ".join(f"**{cell(np.mean(tot, axis=0))}**" for tot in totals) + " |")
    return "\n".join(lines)


# -- real text ----------------------------------------------------------------------------------

def heldout_text(corpus: Path) -> list[str]:
    """The held-out blocks of a corpus as training holds them out (folded)."""
    from textconductor.training.corpus import load_corpus
    c = load_corpus(corpus)
    return ["".join(CHARS[i] for i in c.data[s:e]) for s, e in c.heldout]


def detector_rate(blocks: Sequence[str]) -> tuple[int, float]:
    """(characters, share of positions where the detector is armed and a repeat is possible).

    The model is left out: this is the most the guard could act on this text, whatever the models
    predict (it acts only where the mixture also heads into the repeat).
    """
    ready = total = 0
    for text in blocks:
        d = LoopDetector()
        for ch in text:
            loop = (d.periodic() or d.babbling()) and bool(d.escape_continuations())
            ready += loop or d.char_run() or d.hard_mask() is not None
            total += 1
            d.push(ch)
    return total, ready / max(total, 1)


def _pieces(blocks: Sequence[str], chars: int, piece: int = 1024) -> list[str]:
    """`chars` characters of held-out text in pieces spread evenly over the blocks."""
    pieces = [b[i:i + piece] for b in blocks for i in range(0, len(b) - piece + 1, piece)]
    if not pieces:
        return [b for b in blocks if b]
    keep = max(1, min(len(pieces), math.ceil(chars / piece)))
    idx = np.linspace(0, len(pieces) - 1, keep).round().astype(int)
    return [pieces[i] for i in sorted(set(idx))]


def score(bank: Bank, names: list[str], style: str, pieces: Sequence[str], guard: bool, escape: str,
          strength: float, warmup: int = 128, temperature: float = 1.0) -> tuple[float, int, int, int]:
    """(bits/char, characters scored, loop acts, characters acted on) of `style` on real text.

    Each piece is read through the engine's own tick with the real next character forced: the
    first `warmup` characters give the styles context and are not scored. Bits/char are of the
    distribution the engine would sample from at `temperature` (1: the models' own prediction).
    """
    bits, n, acts, acted = 0.0, 0, 0, 0
    for text in pieces:
        c = _conductor(bank, names, (style,), temperature, 0, guard, escape, strength)
        c.reset()
        for k, ch in enumerate(text):
            before = c.counts.loop_chars
            t = c.tick(forced=ch)
            if k >= warmup:
                p = float(t.mixed[CHAR_TO_INDEX[ch]])
                bits += -math.log2(p) if p > 0 else math.inf
                n += 1
                acted += c.counts.loop_chars > before
        acts += c.counts.loop_acts
    return bits / max(n, 1), n, acts, acted


def heldout_row(bank: Bank, names: list[str], style: str, path: Path, chars: int, escape: str,
                strength: float) -> dict:
    """One style's real text: the detector alone, then scored with the guard off, on, and on at T=0.8."""
    blocks = heldout_text(path)
    total, ready = detector_rate(blocks)
    pieces = _pieces(blocks, chars)
    off, n, _, _ = score(bank, names, style, pieces, False, escape, strength)
    on, _, acts, acted = score(bank, names, style, pieces, True, escape, strength)
    _, _, acts08, acted08 = score(bank, names, style, pieces, True, escape, strength, temperature=0.8)
    return {"total": total, "ready": ready, "n": n, "off": off, "on": on, "acts": acts, "acted": acted,
            "acts08": acts08, "acted08": acted08}


def heldout_table(bank: Bank, names: list[str], styles: Sequence[str], corpora: Path, chars: int, escape: str,
                  strength: float, progress: Callable[[str], None] = log.info,
                  cache: RunCache | None = None) -> tuple[str, dict]:
    lines = ["| style | held-out chars | detector ready | scored chars | bits/char off | on | difference | "
             "acts | chars acted on | at T=0.8: acts | chars acted on |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    diffs = []
    for style in styles:
        path = Path(corpora) / f"{style}.txt"
        if not path.exists():
            progress(f"{style}: no {path}; skipped")
            continue
        def compute(style: str = style, path: Path = path) -> dict:
            return heldout_row(bank, names, style, path, chars, escape, strength)
        if cache is None:
            row = compute()
        else:
            key = {"names": names, "style": style, "corpus": _digest([path]), "chars": chars, "escape": escape,
                   "strength": strength}
            row = cache.memo(f"heldout-{style}", key, compute)
        total, ready, n, off, on = row["total"], row["ready"], row["n"], row["off"], row["on"]
        acts, acted, acts08, acted08 = row["acts"], row["acted"], row["acts08"], row["acted08"]
        diffs.append(on - off)
        lines.append(f"| {style} | {total:,} | {100 * ready:.2f}% | {n:,} | {off:.4f} | {on:.4f} | {on - off:+.4f} | "
                     f"{acts} | {100 * acted / max(n, 1):.2f}% | {acts08} | {100 * acted08 / max(n, 1):.2f}% |")
        progress(lines[-1])
    summary = {"max_difference": max(diffs, default=0.0), "mean_difference": float(np.mean(diffs)) if diffs else 0.0}
    return "\n".join(lines), summary


# -- blocklist ----------------------------------------------------------------------------------

def blocked_words(blocklist: Blocklist, text: str) -> int:
    """Entries written as whole words (one still being written at the very end does not count)."""
    return sum(1 for _, end, _ in blocklist.occurrences(text) if end < len(text))


def blocklist_table(bank: Bank, names: list[str], styles: Sequence[str], temperatures: Sequence[float], chars: int,
                    seed: int, progress: Callable[[str], None] = log.info,
                    run: Generate = generate) -> tuple[str, dict]:
    bl = Blocklist.of(STAND_INS)
    lines = ["| style | T | chars | stand-ins written, list off | with the list | masks |",
             "|---|---:|---:|---:|---:|---:|"]
    total = {"chars": 0, "written": 0, "written_off": 0, "masks": 0}
    for style in styles:
        for t in temperatures:
            off = run(bank, names, (style,), t, chars, seed)
            on = run(bank, names, (style,), t, chars, seed, blocklist=bl)
            w_off, w_on = blocked_words(bl, off.text), blocked_words(bl, on.text)
            for k, v in (("chars", chars), ("written", w_on), ("written_off", w_off), ("masks", on.blocked)):
                total[k] += v
            lines.append(f"| {style} | {t:g} | {chars:,} | {w_off:,} | {w_on} | {on.blocked:,} |")
            progress(lines[-1])
    return "\n".join(lines), total


# -- timing -------------------------------------------------------------------------------------

def timing(bank: Bank, names: list[str], ticks: int, rounds: int = 8) -> dict[str, float]:
    """Median tick time with every style active: guards off and on (loop guard + 200 words).

    Off and on alternate in `rounds` blocks, each going first every other round, so drift in a
    shared machine's load and the cost of coming second (caches) hit both alike.
    """
    times: dict[str, list[float]] = {"off": [], "on": []}
    bl = Blocklist.of(STAND_INS)
    conductors = {}
    for key, on in (("off", False), ("on", True)):
        c = Conductor(bank, names, seed=0, params=Params(temperature=0.8, rate=0.0, threshold=0.0),
                      tuning=Tuning(guard=on))
        c.apply(Command("weights", (1.0,) * len(names)))
        if on:
            c.set_blocklist(bl)
        conductors[key] = c
    for k in range(rounds):
        for key, c in (conductors.items() if k % 2 == 0 else reversed(conductors.items())):
            bank.set_active([])
            c.tick()  # activation and re-sync are not the step
            for _ in range(ticks):
                t0 = time.perf_counter()
                c.tick()
                times[key].append(time.perf_counter() - t0)
    off, on = float(np.median(times["off"]) * 1e3), float(np.median(times["on"]) * 1e3)
    return {"styles": len(names), "off_ms": off, "on_ms": on, "overhead": on / off - 1.0}


def check_escape(name: str) -> str:
    if name not in ESCAPES:
        raise ValueError(f"unknown escape {name!r} (one of {', '.join(ESCAPES)})")
    return name
