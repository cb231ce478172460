"""The score's timeline (pure: time and characters in, actions out) and the player's hand-over (fake clock)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock, RecordingSink
from textconductor.controllers.score import ScorePlayer, Timeline, parse_score
from textconductor.controllers.score.timeline import smoothstep

START = {"linux": 1.0, "bible": 0.0, "austen": 0.0}


def weights_of(actions) -> list[dict]:
    return [a.value for a in actions if a.kind == "weights"]


def score(text: str):
    return parse_score(text, "t.toml")


def test_a_weights_event_sets_the_whole_mix_and_settings_come_first():
    tl = Timeline(score("[[event]]\nat = 1\nweights = { bible = 1 }\nrate = 20\nprime = 'x'\nsay = 'now'"), START)
    assert tl.advance(0.99, 0) == []
    acts = tl.advance(1.0, 0)
    assert [a.kind for a in acts] == ["say", "rate", "weights", "prime"]
    assert weights_of(acts) == [{"linux": 0.0, "bible": 1.0, "austen": 0.0}]  # unnamed styles go to 0
    assert all(a.event == 1 for a in acts)
    assert tl.done and tl.advance(5, 0) == []


def test_morph_midpoint_quarter_and_end():
    tl = Timeline(score("[[event]]\nat = 10\nweights = { bible = 1 }\nmorph = 4"), START)
    assert tl.advance(10, 0) == []  # the morph starts where it is: nothing moved yet
    mid = weights_of(tl.advance(12, 0))[0]
    assert mid == pytest.approx({"linux": 0.5, "bible": 0.5})
    tl2 = Timeline(score("[[event]]\nat = 10\nweights = { bible = 1 }\nmorph = 4"), START)
    quarter = weights_of(tl2.advance(11, 0))[0]
    assert quarter["bible"] == pytest.approx(smoothstep(0.25)) == pytest.approx(0.15625)  # eased, like presets
    assert weights_of(tl.advance(99, 0)) == [{"linux": 0.0, "bible": 1.0}]
    assert tl.done


def test_a_late_player_lands_where_the_score_says():
    """A timed event fires at its own time: a tick 1 s late is 1 s into the morph, not at its start."""
    tl = Timeline(score("[[event]]\nat = 10\nweights = { bible = 1 }\nmorph = 4"), START)
    first = weights_of(tl.advance(12, 0))
    assert first[0]["bible"] == pytest.approx(0.5)


def test_a_new_weights_event_takes_over_a_running_morph_from_where_it_is():
    tl = Timeline(score("[[event]]\nat = 0\nweights = { bible = 1 }\nmorph = 4\n"
                        "[[event]]\nat = 2\nweights = { austen = 1 }\nmorph = 2"), START)
    tl.advance(0, 0)
    tl.advance(2, 0)  # the first morph is half way: linux .5, bible .5
    mid = weights_of(tl.advance(3, 0))[0]
    assert mid == pytest.approx({"linux": 0.25, "bible": 0.25, "austen": 0.5})
    assert tl.advance(4, 0)[-1].value == pytest.approx({"linux": 0.0, "bible": 0.0, "austen": 1.0})


def test_character_count_events_wait_for_the_characters():
    tl = Timeline(score("[[event]]\nchars = 100\nweights = { bible = 1 }\n[[event]]\nchars = 250\npause = true"), START)
    assert tl.advance(50, 99) == []  # however long it takes
    assert [a.kind for a in tl.advance(50.1, 100)] == ["weights"]
    assert tl.advance(60, 249) == []
    assert [a.kind for a in tl.advance(61, 400)] == ["pause"]
    assert tl.done


def test_time_and_character_events_fire_in_file_order():
    tl = Timeline(score("[[event]]\nat = 0\nrate = 1\n[[event]]\nchars = 10\nrate = 2\n[[event]]\nat = 1\nrate = 3"),
                  START)
    assert [a.value for a in tl.advance(5, 0)] == [1.0]  # at = 1 waits behind the character event
    assert [a.value for a in tl.advance(5.1, 10)] == [2.0, 3.0]


def test_loop_starts_again_from_the_top_at_its_length():
    tl = Timeline(score("loop = true\nlength = 10\n[[event]]\nat = 0\nrate = 5\n[[event]]\nat = 4\nrate = 9\n"
                        "[[event]]\nchars = 50\nrate = 7"), START)
    assert [a.value for a in tl.advance(0, 0)] == [5.0]
    assert [a.value for a in tl.advance(4, 10)] == [9.0]
    assert tl.advance(9.9, 40) == []
    assert [a.value for a in tl.advance(10, 45)] == [5.0]  # pass 2 begins; the char event of pass 1 never came
    assert tl.passes == 1 and tl.pass_t0 == 10 and tl.pass_c0 == 45
    assert tl.advance(12, 94) == []  # 49 characters into pass 2
    assert tl.advance(13, 95) == []  # enough characters, but the char event waits behind at = 4 (file order)
    assert [a.value for a in tl.advance(14, 95)] == [9.0, 7.0]  # characters count from the pass's start
    assert [a.value for a in tl.advance(20.5, 96)] == [5.0] and tl.pass_t0 == 20  # no drift: at its length
    assert not tl.done


def test_loop_without_length_ends_a_pass_when_its_last_morph_lands():
    tl = Timeline(score("loop = true\n[[event]]\nat = 0\nweights = { bible = 1 }\nmorph = 2\n"
                        "[[event]]\nat = 1\nweights = { linux = 1 }\nmorph = 3"), START)
    tl.advance(0, 0)
    tl.advance(1, 0)
    tl.advance(3.9, 0)
    assert tl.passes == 0
    acts = tl.advance(4, 0)
    assert tl.passes == 1 and tl.pass_t0 == 4
    assert weights_of(acts)[0] == pytest.approx({"linux": 1.0, "bible": 0.0})  # the morph's last frame: what moved
    assert tl.weights == pytest.approx({"linux": 1.0, "bible": 0.0, "austen": 0.0})
    assert len(weights_of(acts)) == 1  # pass 2's first morph (at = 0) has not moved anything yet


def test_a_pass_cut_short_by_its_length_lands_its_morph():
    tl = Timeline(score("length = 5\n[[event]]\nat = 4\nweights = { bible = 1 }\nmorph = 1"), START)
    tl.advance(4, 0)
    acts = tl.advance(7, 0)
    assert weights_of(acts)[-1] == {"linux": 0.0, "bible": 1.0} and tl.done


# -- the player: take over, hand back ----------------------------------------------------------

SWITCH = """
[[event]]
at = 0
weights = { linux = 1 }
temperature = 0.5
[[event]]
at = 10
weights = { bible = 1 }
prime = "And"
guard = false
[[event]]
chars = 20
pause = true
"""


def make_player(text=SWITCH, chars=None, rejoin_s=2.0):
    sink, clock = RecordingSink(["linux", "bible"]), FakeClock(0.0)
    counter = chars if chars is not None else [0]
    player = ScorePlayer(score(text), sink, lambda: counter[0], lambda: dict(sink.weights) or {"linux": 0.3},
                         clock=clock, rejoin_s=rejoin_s)
    return player, sink, clock, counter


def test_the_player_sends_each_action_to_the_sink():
    player, sink, clock, chars = make_player(chars=[500])  # the engine wrote 500 before the score began
    player.tick()
    assert sink.take() == [("control", "temperature", 0.5), ("weights", {"linux": 1.0, "bible": 0.0})]
    clock.t = 10
    assert sink.take() == [] and player.tick()
    assert sink.take() == [("guard", False, None), ("weights", {"linux": 0.0, "bible": 1.0}), ("prime", "And")]
    chars[0] = 519
    player.tick()
    assert sink.take() == [] and not player.done
    chars[0] = 520
    player.tick()
    assert sink.take() == [("control", "pause", None)]
    assert player.done and player.wait(0)


def test_taking_over_holds_the_weights_but_not_the_rest_and_hand_back_glides():
    player, sink, clock, _ = make_player()
    player.tick()
    sink.take()
    player.take_over()
    sink.weights.update({"linux": 0.2, "bible": 0.6})  # the performer's mix
    clock.t = 10
    player.tick()
    assert sink.take() == [("guard", False, None), ("prime", "And")]  # no weights while taken over
    assert player.timeline.weights == {"linux": 0.0, "bible": 1.0}  # the score goes on in its head
    assert "taken over" in player.describe()
    player.hand_back()
    clock.t = 11  # half way through a 2 s rejoin
    player.tick()
    (kind, w), = sink.take()
    assert kind == "weights" and w == pytest.approx({"linux": 0.1, "bible": 0.8})
    clock.t = 12
    player.tick()
    assert sink.take() == [("weights", {"linux": 0.0, "bible": 1.0})]
    assert "rejoining" not in player.describe() and "taken over" not in player.describe()


def test_a_score_that_loops_never_finishes():
    player, sink, clock, _ = make_player("loop = true\nlength = 2\n[[event]]\nat = 0\nrate = 3")
    for t in range(7):
        clock.t = t
        player.tick()
    assert [c for c in sink.take() if c[0] == "control"] == [("control", "rate", 3.0)] * 4
    assert not player.done and "pass 4" in player.describe()
