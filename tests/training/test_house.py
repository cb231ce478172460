"""Learning a house style on a toy corpus: likelihood moves the intended way; a loadable checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from textconductor.cli import main
from textconductor.engine.bank import Bank
from textconductor.engine.hotload import prepare
from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from textconductor.training.config import HouseConfig, TrainError
from textconductor.training.house import learn, mean_logp, passages, ranking_accuracy, sample_batch
from textconductor.training.lineage import curation, lineage

WORDS = "the cat sat on a mat and the dog ran to the old red barn where a hen laid one egg".split()


def _kept(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(6, 12)))) + "." for _ in range(n)]


def _rejected(rng: np.random.Generator, n: int) -> list[str]:
    letters = list("qxzjkvbwpy")
    return [" ".join("".join(rng.choice(letters, size=int(rng.integers(2, 6)))) for _ in range(8)) for _ in range(n)]


@pytest.fixture(scope="module")
def toy():
    """An origin that knows a little English (briefly trained on word salad and gibberish alike), and
    fresh kept / rejected passages for training and for a held-out check."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    origin = CharLSTM(CharLSTMConfig(layers=1, hidden=48, embed=16))
    mixed = passages(_kept(rng, 60) + _rejected(rng, 60))
    from textconductor.training.house import _rows, _token_logp
    opt = torch.optim.Adam(origin.parameters(), lr=5e-3)
    for _ in range(60):
        x, y = _rows([mixed[i] for i in rng.integers(len(mixed), size=16)], 128)
        _, tok = _token_logp(origin, x, y)
        loss = -tok.sum() / (y >= 0).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    origin.eval()
    return origin, _kept(rng, 40), _rejected(rng, 40), _kept(rng, 20), _rejected(rng, 20)


def _scores(model, kept, rejected):
    return mean_logp(model, passages(kept)), mean_logp(model, passages(rejected))


def test_learn_raises_kept_lowers_rejected_and_stays_near_the_origin(toy):
    origin, kept, rejected, hk, hr = toy
    own = passages(sample_batch(origin, 16, 80, temperature=1.0, seed=5))  # what the origin writes
    cfg = HouseConfig(steps=40, batch=8, seq_len=96, lr=3e-3, kl=0.5, replay=0.0, negatives=1.0, beta=10.0,
                      warmup_steps=5)
    house = learn(kept, rejected, origin, cfg, progress_bar=False).model
    ok0, or0 = _scores(origin, hk, hr)
    ok1, or1 = _scores(house, hk, hr)
    assert ok1.mean() > ok0.mean() + 0.1  # held-out kept passages are likelier (nats/char)
    assert or1.mean() < or0.mean()  # held-out rejected ones less likely
    assert ranking_accuracy(ok1, or1) >= ranking_accuracy(ok0, or0)
    drift = mean_logp(origin, own).mean() - mean_logp(house, own).mean()
    loose = learn(kept, rejected, origin, HouseConfig(**{**cfg.__dict__, "kl": 0.0}), progress_bar=False).model
    drift_loose = mean_logp(origin, own).mean() - mean_logp(loose, own).mean()
    assert drift < drift_loose  # the KL leash keeps the origin's own text likelier than no leash does
    for p0, p1 in zip(origin.parameters(), CharLSTM(origin.config).parameters(), strict=True):
        assert p0.shape == p1.shape  # (the origin itself was not trained: it is the frozen reference)


@pytest.mark.parametrize("preference", ["dpo", "simpo"])
def test_negatives_widen_the_gap_beyond_likelihood_alone(toy, preference):
    origin, kept, rejected, hk, hr = toy
    base = HouseConfig(steps=30, batch=8, seq_len=96, lr=3e-3, kl=0.5, replay=0.0, warmup_steps=5,
                       preference=preference)
    plain = learn(kept, rejected, origin, HouseConfig(**{**base.__dict__, "negatives": 0.0}), progress_bar=False).model
    neg = learn(kept, rejected, origin, HouseConfig(**{**base.__dict__, "negatives": 2.0}), progress_bar=False).model
    gap = [np.subtract(*(s.mean() for s in _scores(m, hk, hr))) for m in (plain, neg)]
    assert gap[1] > gap[0]


def test_nothing_kept_or_an_unknown_preference_is_a_clear_error(toy):
    with pytest.raises(TrainError, match="at least 1 kept"):
        learn(["   "], ["zzz"], toy[0], HouseConfig(steps=1), progress_bar=False)
    with pytest.raises(TrainError, match="preference 'ipo'"):
        learn(["the cat"], ["zzz"], toy[0], HouseConfig(steps=1, preference="ipo"), progress_bar=False)


def _record(path, kept, rejected):
    lines = [{"type": "start", "time": 0.0, "seed": 1, "styles": ["toy"], "files": [], "state": {}}]
    tick = 0
    for kind, texts in (("keep", kept), ("reject", rejected)):
        for t in texts:
            lines.append({"type": "mark", "id": tick, "kind": kind, "start": tick, "end": tick + len(t), "text": t,
                          "weights": {"toy": 1.0}, "temperature": 0.8, "mix": "linear", "seed": 1,
                          "span": "default", "time": 0.0})
            tick += len(t)
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")


def test_learn_command_writes_a_loadable_checkpoint_with_lineage(toy, tmp_path, capsys):
    origin, kept, rejected, _, _ = toy
    origin_file = save_checkpoint(tmp_path / "toy.safetensors", origin,
                                  CheckpointMeta(name="toy", layers=1, hidden=48, embed=16,
                                                 extra={"lineage": [{"name": "base", "chars": 10, "seconds": 1.0}]}))
    _record(tmp_path / "perf.jsonl", kept[:10], rejected[:7])
    out = tmp_path / "styles"
    assert main(["learn", str(tmp_path / "perf.jsonl"), "--name", "house", "--from", str(origin_file),
                 "--out", str(out), "--steps", "5", "--no-progress", "--preference", "simpo"]) == 0
    assert "/tc/load house" in capsys.readouterr().out
    model, meta = load_checkpoint(out / "house.safetensors")
    assert meta.name == "house" and meta.base == "toy"
    assert meta.extra["house"]["preference"] == "simpo"  # how it learnt is part of its lineage
    assert [r["name"] for r in lineage(meta)] == ["base", "toy", "house"]
    cur = curation(meta)
    assert cur["records"] == ["perf.jsonl"] and cur["kept"] == 10 and cur["rejected"] == 7
    assert cur["kept_chars"] == sum(len(t) for t in kept[:10])
    assert cur["rejected_chars"] == sum(len(t) for t in rejected[:7])
    bank = Bank([origin])
    bank.add_style(model, prepare(bank, out, "house").arrays)  # what /tc/load house does
    assert bank.n == 2


def test_learn_command_refuses_a_name_that_cannot_be_loaded(tmp_path, capsys):
    _record(tmp_path / "perf.jsonl", ["the cat"], [])
    assert main(["learn", str(tmp_path / "perf.jsonl"), "--name", "../house"]) == 2
    assert "--name" in capsys.readouterr().err


def test_replay_of_the_origin_text_keeps_it_likelier_than_no_leash(toy):
    origin, kept, rejected, _, _ = toy
    rng = np.random.default_rng(7)
    corpus = "\n".join(_kept(rng, 300) + _rejected(rng, 300))  # the kind of text the origin learnt from
    text = passages([corpus])[0]
    probe = passages([corpus[i:i + 120] for i in range(0, 6000, 400)])
    cfg = HouseConfig(steps=30, batch=8, seq_len=96, lr=3e-3, kl=0.0, replay=0.0, negatives=0.0, warmup_steps=5)
    loose = learn(kept, rejected, origin, cfg, progress_bar=False).model
    leashed = learn(kept, rejected, origin, HouseConfig(**{**cfg.__dict__, "replay": 0.5}), text,
                    progress_bar=False).model
    assert mean_logp(leashed, probe).mean() > mean_logp(loose, probe).mean()
    with pytest.raises(TrainError, match="replay needs"):
        learn(kept, rejected, origin, HouseConfig(**{**cfg.__dict__, "replay": 0.5}), None, progress_bar=False)
