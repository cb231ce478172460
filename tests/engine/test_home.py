"""Home states (engine/home.py) against each style's own CharLSTM reading its opening."""

import pytest
import torch

from textconductor.engine.bank import Bank
from textconductor.engine.home import HOME_CHARS, home_states
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol.charset import CHAR_TO_INDEX


def models(n=4, seed=0):
    torch.manual_seed(seed)
    out = []
    for _ in range(n):
        m = CharLSTM(CharLSTMConfig(layers=2, hidden=24, embed=8)).eval()
        with torch.no_grad():
            m.head.weight.mul_(4.0)  # peaked predictions: openings with line and sentence ends in them
            m.head.bias[CHAR_TO_INDEX["\n"]] += 2.0
        out.append(m)
    return out


def test_step_each_equals_each_model_on_its_own_character():
    ms = models()
    bank = Bank(ms)
    bank.set_active([2, 0, 3])
    states = {s: None for s in (2, 0, 3)}
    for chars in ("abc", "x\n ", "Q.;"):
        logp = bank.step_each(torch.tensor([CHAR_TO_INDEX[c] for c in chars]))
        for row, (s, c) in enumerate(zip(bank.active, chars, strict=True)):
            logits, states[s] = ms[s].step(c, states[s])
            torch.testing.assert_close(logp[row], torch.log_softmax(logits, -1), atol=1e-5, rtol=0)


def test_a_home_is_what_the_style_reads_from_its_own_opening():
    ms = models()
    bank = Bank(ms)
    homes = home_states(bank)
    assert bank.active == [] and not bank.h.any()  # the bank is left as it was found
    ended = 0
    for m, (h, c, text) in zip(ms, homes, strict=True):
        assert 0 < len(text) <= HOME_CHARS
        ended += text.endswith("\n") or text[-2:] in {". ", "; ", ": ", "! ", "? "}
        h_ref, c_ref = m.prime("\n" + text)
        torch.testing.assert_close(h, h_ref[:, 0], atol=1e-5, rtol=0)
        torch.testing.assert_close(c, c_ref[:, 0], atol=1e-5, rtol=0)
    assert ended >= 3  # most openings had an end to stop at (the rest stop where they stopped)
    again = home_states(Bank(models()))
    assert [t for *_, t in again] == [t for *_, t in homes]  # seeded: the same bank finds the same homes


def test_homes_need_an_idle_bank_and_a_hot_loaded_style_brings_its_own():
    ms = models()
    bank = Bank(ms[:3])
    bank.set_active([1])
    with pytest.raises(RuntimeError, match="no active style"):
        home_states(bank)
    bank.set_active([])
    bank.find_homes()
    k = bank.add_style(ms[3], bank.prepare(ms[3]))
    h_alone, c_alone, _ = home_states(Bank([ms[3]]))[0]
    bank.set_active([k])
    assert bank.go_home(k)
    torch.testing.assert_close(bank.h[:, 0], h_alone, atol=1e-6, rtol=0)
    torch.testing.assert_close(bank.c[:, 0], c_alone, atol=1e-6, rtol=0)
