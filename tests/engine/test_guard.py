"""The loop guard: detection on hand-made text, escapes on hand-made distributions, and the engine
on a tiny bank built to loop (tests/engine/conftest.py): the loop with the guard off, none with it on."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine.conftest import LOOP
from textconductor.engine import guard
from textconductor.engine.conductor import Conductor, Tuning
from textconductor.engine.guard import LoopDetector, LoopRules
from textconductor.engine.loader import load_bank
from textconductor.protocol import Command, Params
from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS, VOCAB_SIZE


def pushed(text: str, rules: LoopRules | None = None) -> LoopDetector:
    d = LoopDetector(rules)
    for ch in text:
        d.push(ch)
    return d


def repeats_online(text: str, rules: LoopRules | None = None) -> list[int]:
    """Positions whose n-gram the detector reports as a repeat, as it is written."""
    d, out = LoopDetector(rules), []
    for i, ch in enumerate(text):
        was = d.repeat_run
        d.push(ch)
        if d.repeat_run > was or (d.repeat_run and was == d.repeat_run - 1):
            out.append(i)
    return out


# -- detection ------------------------------------------------------------------------------------

def test_repeat_share_counts_characters_that_start_a_seen_string():
    assert guard.repeat_share("abcd" * 3, n=4, window=100) == pytest.approx(5 / 12)  # 9 grams, the last 5 seen
    assert guard.repeat_share("abcdefgh", n=4) == 0.0
    assert guard.repeat_share("abcdXabcd", n=4, window=4) == 0.0  # the copy is 5 back: outside the window
    assert guard.repeat_share("abcdXabcd", n=4, window=5) == pytest.approx(1 / 9)
    assert guard.longest_whitespace_run("a  \t\n b   c") == 5


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ab \n", min_size=0, max_size=300), st.integers(2, 8), st.integers(3, 40))
def test_online_repeats_are_the_benchmarks_repeats(text, n, window):
    """The detector's repeat is exactly the measure of the targets, position by position."""
    rules = LoopRules(ngram=n, window=window, escape_ngram=n)
    want = []
    last: dict[str, int] = {}
    for i in range(len(text) - n + 1):
        j = last.get(text[i:i + n])
        if j is not None and i - j <= window:
            want.append(i + n - 1)  # reported when its last character is written
        last[text[i:i + n]] = i
    assert repeats_online(text, rules) == want


def test_continuations_name_the_characters_that_would_repeat():
    rules = LoopRules(ngram=4, window=50, escape_ngram=4)
    d = pushed("abcX abcY abc", rules)
    assert sorted(d.continuations()) == ["X", "Y"]
    d.push("Z")
    assert d.continuations() == []  # 'bcZ' was never followed by anything


def test_continuations_forget_what_left_the_window():
    rules = LoopRules(ngram=4, window=10, escape_ngram=4)
    assert pushed("abcX" + "-" * 3 + "abc", rules).continuations() == ["X"]
    assert pushed("abcX" + "-" * 20 + "abc", rules).continuations() == []


def test_whitespace_and_one_character_runs_have_limits():
    r = LoopRules()
    d = pushed("x" + " " * (r.whitespace_limit - 1))
    assert d.hard_mask() is None
    d.push("\t")
    kind, idx = d.hard_mask()
    assert kind == "whitespace" and sorted(CHARS[i] for i in idx) == ["\t", "\n", " "]
    d = pushed("*" * (r.run_limit - 1))
    assert not d.char_run()
    d.push("*")
    assert d.char_run() and d.hard_mask() is None
    d = pushed("*" * r.char_limit)
    assert d.hard_mask()[0] == "repeat-char" and CHARS[int(d.hard_mask()[1][0])] == "*"


def test_back_to_back_copies_are_periodic_but_one_distant_copy_is_not():
    unit = "The LORD said unto him, "
    assert len(unit) == 24
    d = pushed("\n" + unit + unit[:-1])
    assert d.repeat_run == 0 and not d.periodic()
    d.push(unit[-1])
    assert d.repeat_run == 1 and d.lag == 24 and d.periodic()  # the copy has reached its source
    line = "static int cpu_stop(struct task_struct *p);\n"
    d = pushed(line + "x = 1;\n" * 30 + line)
    assert d.repeat_run == len(line) - 23 and not d.periodic() and not d.babbling()


def test_many_short_repeats_are_babble():
    rng = random.Random(0)
    phrase = "of the conception of the "
    fillers = "series subject world manifold senses reason object cause".split()
    text = "".join(f"{word} " + phrase for word in fillers)  # one repeat run after each filler
    assert pushed(text).babbling()
    words = "in the beginning god created the heaven and earth and the spirit moved upon the face".split()
    prose = " ".join(rng.choice(words) for _ in range(80))
    assert not pushed(prose).babbling()


def test_a_rebuilt_detector_is_the_live_one():
    rng = random.Random(1)
    text = "".join(rng.choice(["the cat ", "sat on ", "the mat ", "\n", "    ", "a"]) for _ in range(900))
    live = pushed(text)
    live.note_attempt()
    rebuilt = LoopDetector()
    rebuilt.rebuild(text)
    rebuilt.restore_state(live.state())
    for name in ("same_run", "whitespace_run", "repeat_run", "lag", "last"):
        assert getattr(rebuilt, name) == getattr(live, name), name
    assert [rebuilt.pos - p for p in rebuilt.episodes] == [live.pos - p for p in live.episodes]
    for ch in "the cat sat on the mat the":
        assert rebuilt.continuations() == live.continuations()
        rebuilt.push(ch)
        live.push(ch)


def test_the_index_stays_bounded():
    d = pushed("".join(random.Random(2).choice("abc") for _ in range(20_000)))
    assert len(d.index._order) <= d.rules.window + 1 and len(d.episodes) <= d.rules.episode_window


# -- escapes on hand-made distributions -----------------------------------------------------------

def dist(**mass: float) -> np.ndarray:
    p = np.zeros(VOCAB_SIZE)
    for ch, m in mass.items():
        p[CHAR_TO_INDEX[ch]] = m
    return p / p.sum()


def test_mask_moves_the_mass_elsewhere():
    p = dist(a=0.5, b=0.3, c=0.2)
    out = guard.mask(p, guard.indices("a"))
    assert out[CHAR_TO_INDEX["a"]] == 0 and out[CHAR_TO_INDEX["b"]] == pytest.approx(0.6)


def test_mask_with_all_the_mass_masked_falls_back_to_the_untempered_mixture():
    tempered = dist(a=1.0)  # T -> 0: everything on the loop's character
    raw = dist(a=0.7, b=0.2, c=0.1)
    out = guard.mask(tempered, guard.indices("a"), raw)
    assert out[CHAR_TO_INDEX["b"]] == pytest.approx(2 / 3) and out[CHAR_TO_INDEX["a"]] == 0
    out = guard.mask(tempered, guard.indices("a"))  # no fallback: uniform over the rest
    assert out[CHAR_TO_INDEX["a"]] == 0 and out.sum() == pytest.approx(1) and out.max() == pytest.approx(1 / 96)
    everything = np.arange(VOCAB_SIZE)
    np.testing.assert_array_equal(guard.mask(tempered, everything), tempered)  # nothing left: unmasked


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=VOCAB_SIZE, max_size=VOCAB_SIZE),
       st.sets(st.integers(0, VOCAB_SIZE - 1), min_size=1, max_size=VOCAB_SIZE - 1),
       st.floats(0, 1), st.booleans())
def test_masked_distribution_sums_to_one_and_spares_the_masked(values, masked, factor, fallback):
    p = np.array(values)
    p = p / p.sum() if p.sum() > 0 else np.full(VOCAB_SIZE, 1 / VOCAB_SIZE)
    idx = np.array(sorted(masked))
    raw = np.full(VOCAB_SIZE, 1 / VOCAB_SIZE) if fallback else None
    out = guard.mask(p, idx, raw)
    assert out.sum() == pytest.approx(1.0) and (out[idx] == 0).all() and (out >= 0).all()
    pen = guard.penalise(guard.mask(p, idx, np.full(VOCAB_SIZE, 1 / VOCAB_SIZE)), idx, factor)
    assert pen.sum() == pytest.approx(1.0)


def test_penalty_factor_is_logarithmic_in_strength():
    assert guard.penalty_factor(0.0) == 1.0 and guard.penalty_factor(0.5) == pytest.approx(0.01)
    p = dist(a=0.9, b=0.1)
    out = guard.penalise(p, guard.indices("a"), 0.01)
    assert out[CHAR_TO_INDEX["a"]] == pytest.approx(0.009 / 0.109)


def test_the_way_out_is_the_style_most_sure_of_something_else():
    loop = guard.indices("e")  # "of the conception of th" -> e
    rows = np.log(np.stack([
        dist(e=0.9, a=0.1),  # the playing style: the loop
        dist(e=0.3, r=0.7),  # a neighbour that reads the text and leads out
        dist(**{c: 1.0 for c in "xyzqwvk"}),  # noise: least on 'e' (none at all), but sure of nothing
    ]) + 1e-12)
    assert guard.way_out(rows, loop, np.arange(3)) == 1
    assert guard.way_out(rows, loop, np.array([0, 2])) == 2  # without the reader, noise still leads out
    assert guard.way_out(rows[:1], loop, np.arange(1)) is None  # every style expects the loop


def test_shift_moves_weight_and_keeps_the_sum():
    w = np.array([0.7, 0.3, 0.0])
    out = guard.shift_weights(w, 2, 0.5)
    np.testing.assert_allclose(out, [0.35, 0.15, 0.5])
    assert guard.heat(0.3, 1.0) == pytest.approx(1.2) and guard.heat(2.0, 1.0) == 2.0


def test_neighbours_are_the_next_enabled_styles_on_the_circle():
    on = np.array([True, True, False, True, True])
    assert guard.neighbours(0, on) == [4, 1]
    assert guard.neighbours(1, on) == [0, 3]  # 2 is disabled: off the circle
    assert guard.neighbours(2, on) == []
    assert guard.neighbours(0, np.array([True, True])) == [1]


# -- the engine, on a bank built to loop ------------------------------------------------------------

def loop_conductor(loop_bank, guard_on: bool, escape: str = guard.DEFAULT_ESCAPE, seed: int = 0) -> Conductor:
    bank, names = load_bank(loop_bank)
    c = Conductor(bank, names, seed=seed, params=Params(temperature=0.3, rate=0.0),
                  tuning=Tuning(guard=guard_on, guard_escape=escape))
    c.apply(Command("weights", (1.0, 0.0, 0.0)))  # looper alone; reader and other are its neighbours
    return c


def generate(c: Conductor, n: int) -> str:
    return "".join(c.tick().char for _ in range(n))


def test_the_tiny_bank_loops_without_the_guard(loop_bank):
    text = generate(loop_conductor(loop_bank, False), 1500)
    assert LOOP * 3 in text and guard.repeat_share(text) > 0.9


@pytest.mark.parametrize("escape", ["shift", "block", "penalty"])  # heat cannot: see docs/performance.md
def test_with_the_guard_the_loop_is_gone(loop_bank, escape):
    c = loop_conductor(loop_bank, True, escape)
    start, text = generate(c, 300), generate(c, 1500)  # the guard needs a few laps to notice
    assert guard.repeat_share(text) < 0.01, (escape, text[-200:])
    assert guard.repeat_share(start + text) < 0.06
    assert c.counts.loop_acts > 0 and LOOP * 2 not in text


def test_the_shift_hands_the_text_to_the_style_that_leads_out(loop_bank):
    c = loop_conductor(loop_bank, True, "shift")
    ticks = [c.tick() for _ in range(600)]
    reader = c.names.index("reader")
    moved = [t for t in ticks if t.weights[reader] > 0]
    assert moved, "the shift never moved weight to the reader"
    assert all(reader in t.active.tolist() for t in moved)  # published as active while it holds weight
    assert any(t.char == "." for t in moved)  # the reader's way out of the loop
    assert all(t.weights[c.names.index("other")] == 0 for t in ticks)  # 'other' does not read this text


def test_guard_command_switches_it_live(loop_bank):
    c = loop_conductor(loop_bank, True)
    c.apply(Command("guard", (False, 0.9)))
    assert not c.guard.on and c.guard.strength == 0.9
    assert guard.repeat_share(generate(c, 600)) > 0.8
    c.apply(Command("guard", (True, None)))
    assert c.guard.on and c.guard.strength == 0.9
    generate(c, 300)
    assert guard.repeat_share(generate(c, 600)) < 0.05


def test_published_distributions_still_sum_to_one_while_the_guard_acts(loop_bank):
    c = loop_conductor(loop_bank, True)
    for _ in range(400):
        t = c.tick()
        assert t.mixed.sum() == pytest.approx(1.0, abs=1e-5) and t.mixed[CHAR_TO_INDEX[t.char]] > 0
        assert t.weights.sum() == pytest.approx(1.0, abs=1e-5) and t.attribution.sum() == pytest.approx(1, abs=1e-5)
