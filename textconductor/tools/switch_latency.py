"""Switch latency: how many characters after a performer's move the text reads as the new style.

The experiment is the gesture itself, run through the engine's own tick (same bank, mixer,
sampler and re-sync as a performance): all weight on style A for `LEAD` characters, then all
weight on B (a hard switch) or half on each (a half-way move), then `FOLLOW` more characters.

The judge scores every following character under order-5 Kneser-Ney models of A and B (fitted
on their training splits; a different kind of model from the LSTMs it judges), in the context
of the text before it, giving a per-character log-likelihood ratio llr_t = ln P_B - ln P_A.
The text *reads as B from t* when two consecutive windows of `WINDOW` characters starting at t
each favour B by at least `NATS` (ln 150: 150 times likelier under B). Chance is measured, not
assumed: the same detector runs on null experiments where the weight never moves (A goes on
writing A), and the share of those that "arrive" is reported beside the figures.

The detector's own limit is measured too (`real_switches`): the same pairs and seeds, with A's and
B's real held-out text spliced at a random place instead of the bank's writing. Where real text of
B does not read as B within 40 characters, no bank can, and the figures say how often that is.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.errors import UserError
from textconductor.protocol.defaults import DEFAULT_TEMPERATURE, RESYNC_CHARS

log = logging.getLogger(__name__)

LEAD = 200  # characters of A before the move
FOLLOW = 200  # characters after it, in which B must arrive
WINDOW = 20  # characters per judged window
NATS = 5.0  # each window must favour B by this much (ln 150)
CONFIRM = 2  # consecutive windows that must agree
TEMPERATURE = DEFAULT_TEMPERATURE  # as a performance starts
OFFSETS = (1, 2, 3, 5, 7, 11, 13, 17, 19, 23)  # B = the style OFFSET places after A: 10 per style


def arrival(llr: np.ndarray, window: int = WINDOW, nats: float = NATS, confirm: int = CONFIRM) -> int | None:
    """The first t at which `confirm` consecutive windows from t each sum to >= `nats`, else None.

    A single lucky window is not enough: a shared word ("the ") can favour B for a few characters
    by chance; two windows in a row of 150:1 each almost never happen when A is still writing
    (see `null_rate`).
    """
    need = window * confirm
    if len(llr) < need:
        return None
    sums = np.convolve(llr, np.ones(window), mode="valid")  # sums[t] = llr[t:t+window].sum()
    ok = sums >= nats
    for t in range(len(llr) - need + 1):
        if all(ok[t + k * window] for k in range(confirm)):
            return t
    return None


def pairs(n: int, offsets: tuple[int, ...] = OFFSETS, involving: int | None = None) -> list[tuple[int, int]]:
    """Ordered pairs (A, B): every style is A len(offsets) times and B len(offsets) times; with
    `involving`, only the pairs that have that style as A or B."""
    return [(a, (a + k) % n) for a in range(n) for k in offsets
            if k % n and (involving is None or involving in (a, (a + k) % n))]


@dataclass
class Switch:
    a: int
    b: int
    seed: int
    latency: int | None  # characters after the move until the text reads as B; None: not within FOLLOW
    text: str  # the last 40 characters of A and what followed the move


def run_switch(conductor, judge, a: int, b: int, seed: int, half: bool = False, null: bool = False,
               fresh: bool = False, lead: int = LEAD, follow: int = FOLLOW) -> Switch:
    """One move through the engine's tick. `half`: A=0.5, B=0.5; `null`: the weight stays on A;
    `fresh`: the engine is reset at the move, so B opens a new text as from a reset (it never reads
    A's), judged as if it followed A: how soon B itself reads as B, the most a switch can hope for."""
    from textconductor.protocol import Command
    n = len(conductor.names)
    wa = np.zeros(n)
    wa[a] = 1.0
    conductor.apply(Command("reset", ()))
    conductor.apply(Command("seed", (seed,)))
    conductor.apply(Command("weights", tuple(wa)))
    before = "".join(conductor.tick().char for _ in range(lead))
    wb = wa.copy() if null else np.zeros(n)
    if not null:
        wb[b] = 1.0
        if half:
            wb[a] = 0.5
            wb[b] = 0.5
    if fresh:
        conductor.apply(Command("reset", ()))
        conductor.apply(Command("seed", (seed,)))
    conductor.apply(Command("weights", tuple(wb)))
    after = "".join(conductor.tick().char for _ in range(follow))
    return judged(judge, conductor.names, a, b, seed, before, after)


def judged(judge, names: list[str], a: int, b: int, seed: int, before: str, after: str) -> Switch:
    """The detector on one move: `after` scored under B's and A's judges in the context of `before`."""
    return Switch(a, b, seed, arrival(llr_after(judge, names, a, b, before, after)), before[-40:] + "|" + after)


def llr_after(judge, names: list[str], a: int, b: int, before: str, after: str) -> np.ndarray:
    """ln P_B - ln P_A for every character of `after`, each in the context of the text before it."""
    text = "\n" + before + after  # the engine's history starts with a newline
    start = len(text) - len(after)
    ia, ib = judge.labels.index(names[a]), judge.labels.index(names[b])
    return judge.char_log_probs(text, ib, start) - judge.char_log_probs(text, ia, start)


def heldout_piece(corpus, length: int, rng: np.random.Generator) -> str:
    """`length` characters of a corpus's held-out text from a random place in a random block long
    enough (a move falls anywhere: mid-word, mid-line)."""
    from textconductor.protocol.charset import decode
    blocks = [(s, e) for s, e in corpus.heldout if e - s > length]
    if not blocks:
        raise UserError(f"{corpus.path}: no held-out block longer than {length} characters")
    s, e = blocks[int(rng.integers(len(blocks)))]
    at = int(rng.integers(s, e - length))
    return decode(corpus.data[at:at + length])


def real_texts(corpora: list, names: list[str], seeds: tuple[int, ...] = (1, 2), offsets: tuple[int, ...] = OFFSETS,
               involving: int | None = None, null: bool = False,
               lead: int = LEAD, follow: int = FOLLOW) -> list[tuple[int, int, int, str, str]]:
    """(a, b, seed, before, after) for every pair and seed of `measure`: real held-out text of A
    and then of B (never trained on, nor fitted by the judge). `null`: A's real text goes on where
    B's would start, so any arrival the detector claims there is a false alarm on real text."""
    out = []
    for a, b in pairs(len(names), offsets, involving):
        for s in seeds:
            seed = 10_000 * a + 100 * b + s
            rng = np.random.default_rng(seed)
            if null:
                both = heldout_piece(corpora[a], lead + follow, rng)
                out.append((a, b, seed, both[:lead], both[lead:]))
            else:
                out.append((a, b, seed, heldout_piece(corpora[a], lead, rng), heldout_piece(corpora[b], follow, rng)))
    return out


def real_switches(corpora: list, names: list[str], judge, seeds: tuple[int, ...] = (1, 2),
                  offsets: tuple[int, ...] = OFFSETS, involving: int | None = None, null: bool = False) -> list[Switch]:
    """The detector's ceiling: the moves of `measure` with real text in place of the bank's writing."""
    return [judged(judge, names, *move) for move in real_texts(corpora, names, seeds, offsets, involving, null)]


DETECTORS = ((WINDOW, NATS, CONFIRM), (WINDOW, NATS, 1), (WINDOW, 3.0, CONFIRM), (15, 4.0, CONFIRM),
             (10, 3.0, CONFIRM), (40, 8.0, 1))  # (window, nats, confirm): the shipped one first


def detector_sweep(corpora: list, names: list[str], judge, seeds: tuple[int, ...] = (1, 2, 3, 4),
                   detectors: tuple[tuple[int, float, int], ...] = DETECTORS,
                   offsets: tuple[int, ...] = OFFSETS) -> list[dict]:
    """Is the detector too strict? For each setting, on real text alone: the share of real moves it
    calls B within 40 characters, the share never within FOLLOW, and its false alarms on real text
    where nothing moved. A looser detector that earns more real moves also calls B where there is none."""
    moves = [llr_after(judge, names, a, b, before, after)
             for a, b, _, before, after in real_texts(corpora, names, seeds, offsets)]
    nulls = [llr_after(judge, names, a, b, before, after)
             for a, b, _, before, after in real_texts(corpora, names, seeds, offsets, null=True)]
    rows = []
    for window, nats, confirm in detectors:
        lat = [arrival(x, window, nats, confirm) for x in moves]
        rows.append({"window": window, "nats": nats, "confirm": confirm,
                     "within40": float(np.mean([t is not None and t <= 40 for t in lat])),
                     "never": float(np.mean([t is None for t in lat])),
                     "false_alarms": float(np.mean([arrival(x, window, nats, confirm) is not None for x in nulls]))})
    return rows


def summary(switches: list[Switch], follow: int = FOLLOW) -> dict[str, float]:
    lat = np.array([s.latency if s.latency is not None else follow + 1 for s in switches], dtype=float)
    arrived = lat <= follow
    return {"n": len(lat), "median": float(np.median(lat)), "p90": float(np.percentile(lat, 90)),
            "p95": float(np.percentile(lat, 95)), "within40": float(np.mean(lat <= 40)),
            "never": float(1 - arrived.mean())}


def measure(conductor, judge, seeds: tuple[int, ...] = (1, 2), half: bool = False,
            offsets: tuple[int, ...] = OFFSETS, involving: int | None = None, fresh: bool = False) -> list[Switch]:
    """Every stratified pair under every seed (only those with style `involving` as A or B, if
    given); logs progress per A."""
    out = []
    n = len(conductor.names)
    kind = " (half)" if half else " (fresh)" if fresh else ""
    for a, b in pairs(n, offsets, involving):
        for s in seeds:
            out.append(run_switch(conductor, judge, a, b, seed=10_000 * a + 100 * b + s, half=half, fresh=fresh))
        if b == (a + offsets[-1]) % n:
            done = [x for x in out if x.a == a]
            log.info("switch%s from %s: %d/%d arrived", kind, conductor.names[a],
                     sum(x.latency is not None for x in done), len(done))
    return out


def null_rate(conductor, judge, seeds: tuple[int, ...] = (1,), offsets: tuple[int, ...] = OFFSETS,
              involving: int | None = None) -> float:
    """Share of no-move experiments (A keeps all the weight) in which the detector claims B arrived."""
    n = len(conductor.names)
    hits = [run_switch(conductor, judge, a, b, seed=20_000 * a + 100 * b + s, null=True).latency is not None
            for a, b in pairs(n, offsets, involving) for s in seeds]
    return float(np.mean(hits))


HALF_OFFSETS = (5,)  # the half-way move: every style as A once (it is the slower, rarer question)
NULL_OFFSETS = (1, 13)


def held_out_and_judge(corpora, names: list[str], judge=None) -> tuple[list, object]:
    """Each style's corpus (for its held-out text) and the order-5 Kneser-Ney judge fitted on their
    training splits (or `judge` as given, fitted before on the same corpora)."""
    from textconductor.training.classify import KneserNeyClassifier
    from textconductor.training.corpus import load_corpus
    texts = [load_corpus(corpora / f"{n}.txt") for n in names]
    if judge is None:
        log.info("fitting the Kneser-Ney judge on %d training splits", len(names))
        judge = KneserNeyClassifier().fit({n: c.train for n, c in zip(names, texts, strict=True)})
    return texts, judge


def measure_bank(bank_dir, corpora, seeds: tuple[int, ...] = (1, 2), judge=None,
                 tuning=None, involving: str | None = None) -> tuple[dict, object]:
    """Hard switches, half-way moves and null runs on one bank; (results as plain data, the judge).

    `tuning`: the conductor's Tuning (how a newcomer re-syncs); default: the engine's.
    `involving`: only the pairs with this style as A or B (to compare one style's versions)."""
    from textconductor.engine.conductor import Conductor
    from textconductor.engine.loader import bank_files, load_bank
    from textconductor.protocol import Params
    bank, names = load_bank(bank_files(bank_dir))
    if involving is not None and involving not in names:
        raise UserError(f"--involving {involving}: no such style in {bank_dir}")
    texts, judge = held_out_and_judge(corpora, names, judge)
    conductor = Conductor(bank, names, seed=0, params=Params(temperature=TEMPERATURE, threshold=0.0), tuning=tuning)

    def rows(sw: list[Switch]) -> list[dict]:
        return [{"a": names[x.a], "b": names[x.b], "seed": x.seed, "latency": x.latency, "text": x.text} for x in sw]

    only = names.index(involving) if involving is not None else None
    hard = measure(conductor, judge, seeds, involving=only)
    half = measure(conductor, judge, seeds, half=True, offsets=HALF_OFFSETS, involving=only)
    fresh = measure(conductor, judge, seeds, involving=only, fresh=True)
    null = null_rate(conductor, judge, seeds[:1], NULL_OFFSETS, involving=only)
    real = real_switches(texts, names, judge, seeds, involving=only)
    real_null = real_switches(texts, names, judge, seeds, involving=only, null=True)
    return {"bank": str(bank_dir), "hard": rows(hard), "half": rows(half), "null": null, "fresh": rows(fresh),
            "real": rows(real), "real_null": float(np.mean([x.latency is not None for x in real_null]))}, judge


def _stats(rows: list[dict]) -> dict[str, float]:
    return summary([Switch(0, 0, r["seed"], r["latency"], r["text"]) for r in rows])


def table(results: dict[str, dict]) -> str:
    """Markdown: one column per bank (e.g. before / after), the same judge and experiments."""
    labels = list(results)
    out = ["| measure | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]

    def line(name: str, fn) -> None:
        out.append(f"| {name} | " + " | ".join(fn(results[k]) for k in labels) + " |")

    line("hard switches (pairs x seeds)", lambda r: str(len(r["hard"])))
    line("median characters until it reads as B", lambda r: f"{_stats(r['hard'])['median']:.0f}")
    line("90th percentile", lambda r: _pct(_stats(r["hard"])["p90"]))
    line("95th percentile", lambda r: _pct(_stats(r["hard"])["p95"]))
    line("read as B within 40 characters", lambda r: _within40(r["hard"]))
    line(f"never within {FOLLOW}", lambda r: f"{100 * _stats(r['hard'])['never']:.1f}%")
    line("half-way move (A=B=0.5): median until B shows", lambda r: _pct(_stats(r["half"])["median"]))
    line(f"half-way: B never shows within {FOLLOW}", lambda r: f"{100 * _stats(r['half'])['never']:.0f}%")
    line("chance: null runs (no move) the judge calls B", lambda r: f"{100 * r['null']:.1f}%")
    if all("fresh" in r for r in results.values()):
        line("B opening fresh at the move (reset, never reads A): within 40", lambda r: _within40(r["fresh"]))
        line(f"B opening fresh: never within {FOLLOW}", lambda r: f"{100 * _stats(r['fresh'])['never']:.1f}%")
    if all("real" in r for r in results.values()):
        line("the detector's limit: real held-out B after real A, within 40", lambda r: _within40(r["real"]))
        line(f"real text: never within {FOLLOW}", lambda r: f"{100 * _stats(r['real'])['never']:.1f}%")
        line("real text, no move (A's text goes on): the judge calls B", lambda r: f"{100 * r['real_null']:.1f}%")
        line("switches whose real-text twin reads as B within 40: the bank within 40",
             lambda r: f"{100 * within40_where_real(r):.1f}%")
    return "\n".join(out)


def _within40(rows: list[dict]) -> str:
    return f"{100 * _stats(rows)['within40']:.1f}%"


def within40_where_real(r: dict) -> float:
    """Among the moves whose real-text twin (same pair and seed) the detector calls B within 40
    characters, the share the bank also answers within 40: the bank measured where the judge can
    tell the two styles apart at all."""
    real = {(x["a"], x["b"], x["seed"]) for x in r["real"] if x["latency"] is not None and x["latency"] <= 40}
    mine = [x for x in r["hard"] if (x["a"], x["b"], x["seed"]) in real]
    return float(np.mean([x["latency"] is not None and x["latency"] <= 40 for x in mine])) if mine else float("nan")


def _pct(v: float) -> str:
    return f"{v:.0f}" if v <= FOLLOW else f">{FOLLOW}"


def worst(rows: list[dict], k: int = 5) -> list[tuple[str, float]]:
    """Pairs by mean latency (never = FOLLOW + 1), slowest first."""
    by: dict[str, list[float]] = {}
    for r in rows:
        by.setdefault(f"{r['a']} -> {r['b']}", []).append(r["latency"] if r["latency"] is not None else FOLLOW + 1)
    return sorted(((p, float(np.mean(v))) for p, v in by.items()), key=lambda x: -x[1])[:k]


def main(argv: list[str] | None = None) -> int:
    """`python -m textconductor.tools.switch_latency BANK --corpora DIR --json OUT` (see docs/models.md)."""
    import argparse
    import sys
    p = argparse.ArgumentParser(prog="python -m textconductor.tools.switch_latency", description=__doc__.split("\n")[0])
    p.add_argument("banks", nargs="*", metavar="LABEL=DIR", help="bank folders to compare, e.g. before=old after=new")
    p.add_argument("--corpora", required=True, type=Path)
    p.add_argument("--json", type=Path, help="also write the raw results (every switch with its text) here")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--involving", metavar="STYLE", help="only the pairs with this style as A or B")
    p.add_argument("--resync", nargs="+", metavar="FROM:CHARS",
                   help="re-sync settings to compare on every bank, e.g. home:10 blank:80 (default: the engine's)")
    p.add_argument("--detectors", action="store_true",
                   help="instead: the detector itself on real held-out text, at several strictnesses (the styles "
                        "of the first bank given, or of the bundled bank)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    if not a.banks and not a.detectors:
        p.error("name at least one bank (LABEL=DIR), or --detectors")
    try:
        print(_detector_table(a) if a.detectors else _compare(a))
    except UserError as e:  # one line and exit 2, as the command line does
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 2
    return 0


def _compare(a) -> str:
    """The banks side by side (each under each re-sync setting), and each one's slowest pairs."""
    from textconductor.engine.conductor import Tuning
    tunings: list[tuple[str, Tuning | None]] = [("", None)]
    if a.resync:
        tunings = []
        for r in a.resync:
            frm, _, chars = r.partition(":")
            tunings.append((f" ({r})", Tuning(resync_from=frm, resync_chars=int(chars or RESYNC_CHARS))))
    results, judge = {}, None
    for spec in a.banks:
        label, _, folder = spec.rpartition("=")
        for suffix, tuning in tunings:
            results[(label or folder) + suffix], judge = measure_bank(Path(folder), a.corpora,
                                                                      tuple(range(1, a.seeds + 1)), judge, tuning,
                                                                      a.involving)
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return "\n".join([table(results)] + [f"\nslowest pairs ({label}): " + ", ".join(
        f"{p} {v:.0f}" for p, v in worst(r["hard"])) for label, r in results.items()])


def _detector_table(a) -> str:
    """The detector at several strictnesses on real text (`detector_sweep`), as markdown."""
    from textconductor.engine.loader import bank_files
    names = [f.stem for f in (bank_files(Path(a.banks[0].rpartition("=")[2])) if a.banks else bank_files())]
    texts, judge = held_out_and_judge(a.corpora, names)
    out = ["| window | nats each | windows in a row | real moves: B within 40 | real: never within "
           f"{FOLLOW} | real, no move: false alarms |", "|---:|---:|---:|---:|---:|---:|"]
    for r in detector_sweep(texts, names, judge):
        out.append(f"| {r['window']} | {r['nats']:g} | {r['confirm']} | {100 * r['within40']:.1f}% | "
                   f"{100 * r['never']:.1f}% | {100 * r['false_alarms']:.1f}% |")
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
