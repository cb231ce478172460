"""Score files: what the parser accepts, and the one-line error (event number and key) for the rest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from textconductor.assets import ASSETS, BANK_DIR
from textconductor.controllers.score import ScoreError, check_styles, load_score, parse_score
from textconductor.controllers.score.parse import bundled_styles
from textconductor.errors import UserError
from textconductor.protocol.commands import MAX_PRIME_CHARS, RATE_RANGE, TEMPERATURE_RANGE

SCORES = sorted((ASSETS / "scores").glob("*.toml"))
GOOD = """
title = "t"
[[event]]
at = 0
weights = { linux = 1.0 }
temperature = 0.6
rate = 15
mix = "linear"
guard = true
guard_strength = 0.5
[[event]]
at = 2.5
weights = { bible = 1, austen = 0.25 }
morph = 4
prime = "In the beginning"
say = "the switch"
[[event]]
chars = 100
pause = true
[[event]]
chars = 100
pause = false
"""


def test_a_good_score_reads_as_written():
    s = parse_score(GOOD, "good.toml")
    assert s.title == "t" and not s.loop and s.length is None and len(s.events) == 4
    first, second, third, fourth = s.events
    assert (first.number, first.at, first.chars) == (1, 0.0, None)
    assert dict(first.weights) == {"linux": 1.0}
    assert (first.temperature, first.rate, first.mix, first.guard, first.guard_strength) == (0.6, 15.0, "linear",
                                                                                            True, 0.5)
    assert dict(second.weights) == {"bible": 1.0, "austen": 0.25} and second.morph == 4.0
    assert second.prime == "In the beginning" and second.say == "the switch"
    assert (third.chars, third.pause, fourth.pause) == (100, True, False)
    assert s.styles == {"linux", "bible", "austen"}
    assert s.timed_end == 6.5


def event(body: str, before: str = "") -> str:
    return f"{before}\n[[event]]\n{body}\n"


LO_T, HI_T = TEMPERATURE_RANGE

# (score text, the exact "where: problem" the error must carry)
BAD = [
    ("[[event]\nat = 0", "not valid TOML"),
    ("title = 'x'", "event: a score needs at least one [[event]]"),
    ("event = 3", "event: a score needs at least one [[event]]"),
    (event("at = 0\nrate = 1", "tempo = 3"), "tempo: unknown key"),
    (event("at = 0\nrate = 1", "loop = 'yes'"), "loop: expected true or false, got text"),
    (event("at = 0\nrate = 1", "length = 0"), "length: must be more than 0 seconds"),
    (event("at = 0\nrate = 1", "length = -3"), "length: length -3 is outside 0..inf"),
    (event("at = 0\nrate = 1", "title = 3"), "title: expected text, got a whole number"),
    (event("rate = 1"), "event 1: needs exactly one of at = SECONDS or chars = COUNT"),
    (event("at = 1\nchars = 3\nrate = 1"), "event 1: needs exactly one of at = SECONDS or chars = COUNT (it has at "
                                           "and chars)"),
    (event("at = 0"), "event 1: does nothing"),
    (event("at = -1\nrate = 1"), "event 1, at: time -1 is outside 0..inf"),
    (event("at = nan\nrate = 1"), "event 1, at: must be a finite number"),
    (event("at = '3'\nrate = 1"), "event 1, at: expected a number, got text"),
    (event("chars = 1.5\nrate = 1"), "event 1, chars: expected a whole number >= 0, got 1.5"),
    (event("chars = -2\nrate = 1"), "event 1, chars: expected a whole number >= 0, got -2"),
    (event("at = 0\ntemperature = 9"), f"event 1, temperature: temperature 9 is outside {LO_T:g}..{HI_T:g}"),
    (event("at = 0\ntemperature = true"), "event 1, temperature: expected a number, got true/false"),
    (event("at = 0\nrate = -1"), f"event 1, rate: rate -1 is outside {RATE_RANGE[0]:g}..{RATE_RANGE[1]:g}"),
    (event("at = 0\nrate = 5000"), "event 1, rate: rate 5000 is outside"),
    (event("at = 0\nmix = 'sum'"), "event 1, mix: must be one of 'linear', 'product', got 'sum'"),
    (event("at = 0\nguard = 1"), "event 1, guard: expected true or false, got a whole number"),
    (event("at = 0\nguard_strength = 2"), "event 1, guard_strength: guard strength 2 is outside 0..1"),
    (event("at = 0\npause = 'yes'"), "event 1, pause: expected true or false, got text"),
    (event("at = 0\nprime = ''"), f"event 1, prime: must be 1..{MAX_PRIME_CHARS} characters long, got 0"),
    (event(f"at = 0\nprime = '{'x' * (MAX_PRIME_CHARS + 1)}'"), "event 1, prime: must be 1.."),
    (event("at = 0\nweights = 1"), "event 1, weights: expected a table of style = weight"),
    (event("at = 0\nweights = { bible = 1.5 }"), "event 1, weights.bible: weight 1.5 is outside 0..1"),
    (event("at = 0\nweights = { bible = 'a' }"), "event 1, weights.bible: expected a number, got text"),
    (event("at = 0\nmorph = 3"), "event 1, morph: a morph needs weights to move to"),
    (event("at = 0\nweights = {}"), "event 1, weights: give at least one style a weight above 0"),
    (event("at = 0\nweights = { bible = 0 }"), "event 1, weights: give at least one style a weight above 0"),
    (event("at = 0\nweights = { bible = 1 }\nmorph = -1"), "event 1, morph: morph -1 is outside"),
    (event("at = 0\nresume = true"), "event 1, resume: unknown key (did you mean pause = false?)"),
    (event("at = 0\ntemprature = 1"), "event 1, temprature: unknown key (did you mean temperature?)"),
    (event("at = 5\nrate = 1") + event("at = 3\nrate = 2"), "event 2, at: 3 comes before event 1's 5: events must be "
                                                             "in time order"),
    (event("chars = 50\nrate = 1") + event("at = 9\nrate = 1") + event("chars = 10\nrate = 2"),
     "event 3, chars: 10 comes before event 1's 50: events must be in character order"),
    (event("at = 5\nweights = { bible = 1 }\nmorph = 10", "length = 12"),
     "event 1, at: ends at 15 s, after the score's length = 12"),
    (event("at = 0\nrate = 3", "loop = true"), "loop: every event fires at once"),
    ("[event]\nat = 0\nrate = 1", "event: a score needs at least one [[event]]"),
    ("event = [1]", "event 1: expected a table ([[event]]), got a whole number"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m[:40] for _, m in BAD])
def test_bad_scores_name_the_event_and_the_key(text, message):
    with pytest.raises(ScoreError) as e:
        parse_score(text, "bad.toml")
    assert isinstance(e.value, UserError)  # one line and exit 2 in the CLI
    assert str(e.value).startswith("bad.toml: ") and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_unknown_styles_are_named_with_a_suggestion_and_whose_list():
    s = parse_score(event("at = 0\nweights = { bible = 1 }") + event("at = 1\nweights = { linus = 1 }"), "s.toml")
    check_styles(s, ["bible", "linus"], "the engine")  # every name known: passes
    with pytest.raises(ScoreError, match=r"^s\.toml: event 2, weights\.linus: unknown style 'linus' \(did you mean "
                                         r"'linux'\?\); the engine has: bible, linux$"):
        check_styles(s, ["bible", "linux"], "the engine")
    with pytest.raises(ScoreError, match="event 1, weights.bible: unknown style 'bible'; the engine has: austen"):
        check_styles(s, ["austen"], "the engine")


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(ScoreError, match="cannot read the score"):
        load_score(tmp_path / "nope.toml")


@pytest.mark.parametrize("path", SCORES, ids=[p.name for p in SCORES])
def test_the_shipped_scores_play_on_the_bundled_bank(path):
    score = load_score(path)
    bank = sorted(p.stem for p in BANK_DIR.glob("*.safetensors"))
    check_styles(score, bank, "the bundled bank")
    check_styles(score, bundled_styles(), "the bundled style table")
    assert score.title and len(score.events) >= 3


def test_the_three_examples_are_what_they_claim():
    by_name = {p.stem: load_score(p) for p in SCORES}
    assert set(by_name) == {"talk-demo", "gallery-loop", "study-two-styles"}
    talk = by_name["talk-demo"]
    assert talk.length == 180 and not talk.loop
    hard = [e for e in talk.events if e.weights and len(e.weights) == 1 and e.morph == 0]
    assert [next(iter(e.weights)) for e in hard[:2]] == ["linux", "bible"]  # the hard A->B switch
    assert any(e.weights and len(e.weights) >= 2 for e in talk.events)  # and a mix
    gallery = by_name["gallery-loop"]
    assert gallery.loop and gallery.events[0].guard is True
    assert all(e.morph >= 20 for e in gallery.events if e.weights)  # gentle
    assert by_name["study-two-styles"].styles == {"austen", "darwin"}


def test_perform_check_from_the_command_line(tmp_path):
    root = Path(__file__).resolve().parents[2]
    ok = subprocess.run([sys.executable, "-m", "textconductor", "perform", "--check", str(SCORES[0])],
                        capture_output=True, text=True, timeout=60, cwd=root)
    assert ok.returncode == 0 and ": ok (" in ok.stdout, ok.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(event("at = 0\nweights = { qqqq = 1 }"))
    r = subprocess.run([sys.executable, "-m", "textconductor", "perform", "--check", str(bad)],
                       capture_output=True, text=True, timeout=60, cwd=root)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "event 1, weights.qqqq: unknown style 'qqqq'; the bundled style table has: bible," in r.stderr
