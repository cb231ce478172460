"""The batched bank against each style's own CharLSTM (the reference implementation)."""

import random

import pytest
import torch

from textconductor.engine.bank import Bank, BankError
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol.charset import CHARS


def models(n=5, layers=2, hidden=24, embed=8, seed=0):
    torch.manual_seed(seed)
    out = []
    for _ in range(n):
        m = CharLSTM(CharLSTMConfig(layers=layers, hidden=hidden, embed=embed)).eval()
        with torch.no_grad():
            for p in m.parameters():
                p.mul_(3.0)  # larger weights: states far from zero, so mistakes show
        out.append(m)
    return out


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_batched_step_equals_each_model_across_activations(layers):
    ms = models(6, layers=layers)
    bank = Bank(ms)
    rng = random.Random(layers)
    history = "\n"
    ref_state: dict[int, tuple] = {}
    for tick in range(120):
        if tick % 7 == 0:  # a new random active set: activations and deactivations
            active = rng.sample(range(6), rng.randint(1, 6))
            for s in bank.set_active(active):
                window = history[-80:-1]
                bank.feed(s, window)
                ref_state[s] = ms[s].prime(window)
            ref_state = {s: ref_state[s] for s in active}
        logp = bank.step(history[-1])
        for row, s in enumerate(bank.active):
            logits, ref_state[s] = ms[s].step(history[-1], ref_state[s])
            torch.testing.assert_close(logp[row], torch.log_softmax(logits, -1), atol=1e-5, rtol=0)
        history += rng.choice(CHARS)


def test_resync_equals_fresh_model_primed_on_the_window():
    ms = models(3)
    bank = Bank(ms)
    text = "In the beginning was the Word, and the Word was with God.\n" * 3
    bank.set_active([0, 1])
    for ch in text[:50]:
        bank.step(ch)
    assert bank.set_active([0, 1, 2]) == [2]
    bank.feed(2, text[50:129])
    logp = bank.step(text[129])
    fresh = CharLSTM(ms[2].config).eval()
    fresh.load_state_dict(ms[2].state_dict())
    logits, _ = fresh.step(text[129], fresh.prime(text[50:129]))
    torch.testing.assert_close(logp[bank.active.index(2)], torch.log_softmax(logits, -1), atol=1e-5, rtol=0)


def test_mismatched_shapes_are_refused():
    with pytest.raises(BankError, match="one shape"):
        Bank(models(1, hidden=16) + models(1, hidden=24))


def test_empty_active_set_steps_nothing():
    bank = Bank(models(2))
    assert bank.step("a").shape == (0, 97)
