"""train-bank on a tiny recipe: base, then fine-tune and settle per style, resumable stage by stage."""

import pytest

from tests.conftest import tiny_text
from textconductor.model.checkpoint import load_meta
from textconductor.training.bank_recipe import load_recipe, train_bank
from textconductor.training.lineage import lineage

TINY = {"layers": 1, "hidden": 32, "embed": 16, "batch": 8, "seq_len": 32, "seed": 1}


def _corpora(tmp_path):
    corpora = tmp_path / "corpora"
    corpora.mkdir()
    for style in ("psalm", "code"):
        (corpora / f"{style}.txt").write_text(tiny_text(style, 15_000))
    return corpora


def test_the_shipped_recipe_names_every_stage():
    recipe = load_recipe()
    assert len(recipe["finetune"]["styles"]) == 24
    assert recipe["settle"]["line_starts"] is True and recipe["settle"]["segment"] < 8192


def test_train_bank_runs_base_finetune_and_settle_and_resumes(tmp_path):
    corpora = _corpora(tmp_path)
    recipe = {"base": {**TINY, "name": "base", "lr": 0.01, "chars": 12_000},
              "finetune": {**TINY, "lr": 0.005, "chars": 6_000, "styles": ["psalm", "code"], "jobs": 2,
                           "overrides": {"code": {"chars": 9_000}}},
              "settle": {**TINY, "lr": 0.002, "chars": 3_000, "segment": 64, "line_starts": True}}
    out, work = tmp_path / "bank", tmp_path / "work"
    kw = dict(work_dir=work, device="cpu", threads=1, recipe=recipe, shipped_base=tmp_path / "none.safetensors")

    done = train_bank(corpora, out, **kw)
    assert sorted(p.name for p in done) == ["code.safetensors", "psalm.safetensors"]
    meta = load_meta(out / "code.safetensors")
    runs = lineage(meta)
    assert [r["name"] for r in runs] == ["base", "code", "code"]
    assert [r["chars"] for r in runs] == [12_032, 9_216, 3_072]  # each budget, rounded up to whole 8x32 steps
    assert meta.extra["line_starts"] is True and meta.extra["segment"] == 64 and meta.base == "code"

    assert train_bank(corpora, out, **kw) == []  # nothing left to do
    (out / "psalm.safetensors").unlink()
    settled = work / "psalm.settle.safetensors"
    before = settled.stat().st_mtime_ns
    assert [p.name for p in train_bank(corpora, out, **kw)] == ["psalm.safetensors"]
    assert settled.stat().st_mtime_ns == before  # finished stages are kept, not retrained
    assert (out / "psalm.safetensors").read_bytes() == settled.read_bytes()


def test_train_bank_refuses_a_corpora_folder_without_the_styles(tmp_path):
    from textconductor.errors import UserError
    with pytest.raises(UserError, match="lacks"):
        train_bank(tmp_path, tmp_path / "bank", work_dir=tmp_path / "w",
                   recipe={"base": {}, "finetune": {"styles": ["psalm"]}})


def test_from_bank_runs_only_the_stages_after_the_one_named_and_skips_zero_budgets(tmp_path):
    corpora = _corpora(tmp_path)
    recipe = {"base": {**TINY, "name": "base", "lr": 0.01, "chars": 6_000},
              "finetune": {**TINY, "lr": 0.005, "chars": 3_000, "styles": ["psalm", "code"], "jobs": 2},
              "extend": {**TINY, "lr": 0.002, "chars": 0, "dropout": 0.25, "overrides": {"code": {"chars": 2_000}}}}
    kw = dict(device="cpu", threads=1, shipped_base=tmp_path / "none.safetensors")
    first = tmp_path / "bank"
    train_bank(corpora, first, work_dir=tmp_path / "w1", recipe={k: recipe[k] for k in ("base", "finetune")}, **kw)

    second = tmp_path / "bank2"
    done = train_bank(corpora, second, work_dir=tmp_path / "w2", recipe=recipe, from_bank=first, after="finetune", **kw)
    assert sorted(p.name for p in done) == ["code.safetensors", "psalm.safetensors"]
    assert (second / "psalm.safetensors").read_bytes() == (first / "psalm.safetensors").read_bytes()  # budget 0
    runs = lineage(load_meta(second / "code.safetensors"))
    assert [(r["name"], r["chars"]) for r in runs] == [("base", 6_144), ("code", 3_072), ("code", 2_048)]
    assert load_meta(second / "code.safetensors").extra["dropout"] == 0.25  # every recipe setting reaches the run
    assert not (tmp_path / "w2" / "base.safetensors").exists()  # no base is trained for a bank that has one

    from textconductor.errors import UserError
    with pytest.raises(UserError, match="unknown stage"):
        train_bank(corpora, tmp_path / "b3", work_dir=tmp_path / "w3", recipe=recipe, from_bank=first,
                   after="polish", **kw)
