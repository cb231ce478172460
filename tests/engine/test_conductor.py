"""The tick as a state machine: reproducibility, activation, re-sync, zero weights."""

import numpy as np
import pytest
import torch

from textconductor.engine.bank import Bank
from textconductor.engine.conductor import CommandError, Conductor
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


def test_inactive_styles_are_not_stepped_and_activation_resyncs():
    c = Conductor(bank(), NAMES, seed=0, params=Params(threshold=0.05))
    c.apply(Command("weights", (1.0, 0.0, 0.0, 0.0)))
    for _ in range(10):
        t = c.tick()
    assert t.active.tolist() == [0] and c.bank.active == [0]
    c.apply(Command("weights", (1.0, 0.04, 1.0, 0.0)))  # b is under 5% after normalising
    t = c.tick()
    assert sorted(t.active.tolist()) == [0, 2]
    # The newly active style's distribution equals a fresh model primed on the window.
    hist = "".join(c.history)[:-1]
    model = c.bank.models[2]
    logits, _ = model.step(hist[-1], model.prime(hist[-80:-1]))
    row = t.active.tolist().index(2)
    np.testing.assert_allclose(t.dists[row], torch.softmax(logits, -1).numpy(), atol=1e-5)


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
