"""The tick as a state machine: reproducibility, activation, re-sync, zero weights."""

import numpy as np
import pytest
import torch

from textconductor.engine.bank import Bank
from textconductor.engine.conductor import CommandError, Conductor, Tuning
from textconductor.engine.home import home_states
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol import Command, Params


def bank(n=4, seed=0):
    torch.manual_seed(seed)
    ms = []
    for _ in range(n):
        m = CharLSTM(CharLSTMConfig(layers=2, hidden=32, embed=8)).eval()
        with torch.no_grad():
            m.head.weight.mul_(10)
        ms.append(m)
    return Bank(ms)


NAMES = ["a", "b", "c", "d"]
EVENTS = {
    5: [Command("weights", (0.5, 0.5, 0.0, 0.0))],
    17: [Command("weight", ("c", 1.0)), Command("temperature", (0.5,))],
    30: [Command("mix", ("product",)), Command("prime", ("static unsigned lo",))],
    44: [Command("enable", ("a", False)), Command("weight", (3, 0.2))],
    60: [Command("reset", ())],
}


def run(seed, events=EVENTS, ticks=80):
    c = Conductor(bank(), NAMES, seed=seed, params=Params(rate=0))
    text = []
    for t in range(ticks):
        for e in events.get(t, []):
            c.apply(e)
        text.append(c.tick().char)
    return "".join(text)


def test_same_seed_and_events_give_the_same_text():
    assert run(3) == run(3)
    assert run(3) != run(4)
    moved = dict(EVENTS)
    moved[18] = moved.pop(17)  # the same event one tick later changes the text
    assert run(3, moved) != run(3)


@pytest.mark.parametrize("resync_from", ["home", "blank"])
def test_inactive_styles_are_not_stepped_and_activation_resyncs(resync_from):
    chars = 10 if resync_from == "home" else 80
    c = Conductor(bank(), NAMES, seed=0, params=Params(threshold=0.05),
                  tuning=Tuning(resync_from=resync_from, resync_chars=chars))
    c.apply(Command("weights", (1.0, 0.0, 0.0, 0.0)))
    for _ in range(30):
        t = c.tick()
    assert t.active.tolist() == [0] and c.bank.active == [0]
    c.apply(Command("weights", (1.0, 0.04, 1.0, 0.0)))  # b is under 5% after normalising
    t = c.tick()
    assert sorted(t.active.tolist()) == [0, 2]
    # The newly active style's distribution equals a fresh model that read the window, from a
    # zeroed state (blank) or from the state its own opening left it in (home: engine/home.py).
    hist = "".join(c.history)[:-1]
    model = c.bank.models[2]
    start = model.prime("\n" + home_states(bank())[2][2]) if resync_from == "home" else None
    logits, _ = model.step(hist[-1], model.prime(hist[-chars:-1], start))
    row = t.active.tolist().index(2)
    np.testing.assert_allclose(t.dists[row], torch.softmax(logits, -1).numpy(), atol=1e-5)


def test_a_style_opens_from_blank_even_when_it_resyncs_from_home():
    c = Conductor(bank(), NAMES, seed=0, params=Params(threshold=0.05))
    c.apply(Command("weights", (0.0, 1.0, 0.0, 0.0)))
    t = c.tick()  # the first character: the style has read only the opening newline
    logits, _ = c.bank.models[1].step("\n")
    np.testing.assert_allclose(t.dists[0], torch.softmax(logits, -1).numpy(), atol=1e-5)


def test_zero_weights_keep_the_last_mixture():
    c = Conductor(bank(), NAMES, seed=0)
    c.apply(Command("weights", (0.25, 0.75, 0.0, 0.0)))
    c.tick()
    c.apply(Command("weights", (0.0, 0.0, 0.0, 0.0)))
    assert c.zero_weight
    t = c.tick()
    np.testing.assert_allclose(t.weights, [0.25, 0.75, 0, 0], atol=1e-6)


def test_disabled_style_weighs_nothing():
    c = Conductor(bank(), NAMES, seed=0)
    c.apply(Command("weights", (1.0, 1.0, 0.0, 0.0)))
    c.apply(Command("enable", ("a", False)))
    assert c.tick().active.tolist() == [1]


def test_unknown_style_and_wrong_count_are_command_errors():
    c = Conductor(bank(), NAMES, seed=0)
    with pytest.raises(CommandError, match="unknown style"):
        c.apply(Command("weight", ("zzz", 1.0)))
    with pytest.raises(CommandError, match="wrong number"):
        c.apply(Command("weights", (1.0,)))
    with pytest.raises(CommandError, match="out of range"):
        c.apply(Command("weight", (9, 1.0)))


def test_prime_feeds_active_styles_like_history():
    """After prime, the next distribution equals stepping the primed text through a fresh model."""
    c = Conductor(bank(), NAMES, seed=0)
    c.apply(Command("weights", (0.0, 1.0, 0.0, 0.0)))
    for _ in range(5):
        c.tick()
    c.apply(Command("prime", ("\u201cHello\u201d",)))  # folded to "Hello" in quotes
    assert "".join(c.history).endswith('"Hello"')
    t = c.tick()
    hist = "".join(c.history)[:-1]
    model = c.bank.models[1]
    logits, _ = model.step(hist[-1], model.prime(hist[:-1]))
    np.testing.assert_allclose(t.dists[0], torch.softmax(logits, -1).numpy(), atol=1e-5)


@pytest.mark.parametrize("resync_from, chars", [("blank", 80), ("home", 10)])
def test_how_newcomers_join_travels_in_the_snapshot(resync_from, chars):
    """A restored engine (and a replay) re-syncs newcomers as the engine that wrote the snapshot did."""
    from textconductor.engine import snapshot
    from textconductor.engine.replay import LEGACY_RESYNC_CHARS, _restore
    c = Conductor(bank(), NAMES, seed=3, tuning=Tuning(resync_from=resync_from, resync_chars=chars))
    c.apply(Command("weights", (1.0, 0.0, 0.0, 0.0)))
    for _ in range(40):
        c.tick()
    snap = snapshot.snapshot(c)
    twin = Conductor(bank(), NAMES, seed=0, tuning=Tuning(resync_from="home" if resync_from == "blank" else "blank"))
    snapshot.restore(twin, snap)
    c.bank.set_active([])  # the restored twin starts with every style inactive: so does the original here
    assert (twin.tuning.resync_from, twin.tuning.resync_chars) == (resync_from, chars)
    for t in (c, twin):
        t.apply(Command("weights", (0.0, 0.0, 1.0, 1.0)))  # two newcomers mid-text
    assert "".join(c.tick().char for _ in range(40)) == "".join(twin.tick().char for _ in range(40))
    old = {k: v for k, v in snap.items() if k != "resync"}  # a record from before homes
    legacy = Conductor(bank(), NAMES, seed=0)
    _restore(legacy, old)
    assert (legacy.tuning.resync_from, legacy.tuning.resync_chars) == ("blank", LEGACY_RESYNC_CHARS)
