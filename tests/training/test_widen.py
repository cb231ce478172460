"""Widening a trained model: the reference is the model itself (it must predict exactly as before)."""

import pytest
import torch

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.training.widen import widen


def _trained_like(layers: int = 2, hidden: int = 16, embed: int = 8) -> CharLSTM:
    torch.manual_seed(3)
    model = CharLSTM(CharLSTMConfig(layers, hidden, embed))
    for p in model.parameters():  # away from the init, so a misplaced block would show
        p.data.add_(torch.randn_like(p) * 0.3)
    return model.eval()


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_a_widened_model_predicts_exactly_as_the_original(layers):
    model = _trained_like(layers)
    wide = widen(model, 24).eval()
    assert wide.config.hidden == 24 and wide.config.layers == layers
    x = torch.randint(0, model.config.vocab, (3, 50))
    with torch.no_grad():
        a, (ha, ca) = model(x)
        b, (hb, cb) = wide(x)
    torch.testing.assert_close(b, a, rtol=0, atol=1e-5)
    torch.testing.assert_close(hb[:, :, :16], ha, rtol=0, atol=1e-6)  # the old units' state is the old state
    assert wide.num_params() > model.num_params()


def test_the_new_units_compute_and_learn():
    model = _trained_like()
    wide = widen(model, 24)
    x = torch.randint(0, model.config.vocab, (2, 40))
    _, (h, _) = wide(x)
    assert h[:, :, 16:].abs().max() > 0  # not dead: they run on the input
    logits, _ = wide(x)
    torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.roll(-1, 1).reshape(-1)).backward()
    assert wide.head.weight.grad[:, 16:].abs().max() > 0  # and the loss reaches the zeros they start behind
    assert wide.lstm.weight_hh_l0.grad[:, 16:].abs().max() > 0


def test_widening_to_fewer_units_is_refused():
    with pytest.raises(ValueError, match="fewer"):
        widen(_trained_like(), 8)
