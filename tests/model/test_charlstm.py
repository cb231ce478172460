import torch

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.protocol.charset import CHAR_TO_INDEX


def _model(seed=0):
    torch.manual_seed(seed)
    return CharLSTM(CharLSTMConfig(layers=2, hidden=48, embed=16)).eval()


def test_step_matches_batch_forward():
    model = _model()
    text = "In the beginning God created\tthe heaven and the earth.\n"
    x = torch.tensor([[CHAR_TO_INDEX[c] for c in text]])
    full, _ = model(x)
    state = None
    for t, c in enumerate(text):
        logits, state = model.step(c, state)
        torch.testing.assert_close(logits, full[0, t], atol=1e-5, rtol=0)


def test_prime_then_step_equals_stepping_through():
    model = _model(1)
    text = "static unsigned long"
    state = None
    for c in text:
        _, state = model.step(c, state)
    expected, _ = model.step("o", state)
    got, _ = model.step("o", model.prime(text))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_prime_empty_is_initial_state():
    model = _model()
    h, c = model.prime("")
    assert h.abs().sum() == 0 and c.abs().sum() == 0 and h.shape == (2, 1, 48)
