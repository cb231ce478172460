"""The bundled bank: every shipped checkpoint loads, shares the character set, and plays."""

import pytest
import torch

from textconductor.assets import BANK_DIR, load_recipe, load_styles
from textconductor.engine.bank import Bank
from textconductor.model.checkpoint import load_checkpoint
from textconductor.protocol.charset import CHARS
from textconductor.training.bank_recipe import STAGES, stage_settings
from textconductor.training.lineage import lineage

FILES = sorted(BANK_DIR.glob("*.safetensors"))
RECIPE = load_recipe()
RECIPE_STYLES = RECIPE["finetune"]["styles"]


def test_recipe_styles_have_metadata():
    styles = load_styles()
    assert len(RECIPE_STYLES) == 24 == len(set(RECIPE_STYLES))
    for name in RECIPE_STYLES:
        assert name in styles and styles[name].colour.startswith("#") and styles[name].licence


@pytest.mark.skipif(not FILES, reason="no bundled checkpoints yet")
def test_every_bundled_checkpoint_loads_and_predicts():
    models = []
    for path in FILES:
        model, meta = load_checkpoint(path)
        assert meta.name == path.stem and meta.name in RECIPE_STYLES
        assert meta.charset == CHARS
        # trained as the recipe says: shared base, then this style's fine-tune, settling and re-entry runs,
        # and an extension where the recipe gives it one
        stages = [s for s in STAGES if stage_settings(RECIPE, s, meta.name) is not None]
        assert [run["name"] for run in lineage(meta)] == ["base"] + [meta.name] * len(stages)
        assert meta.extra["line_starts"] and meta.extra["reentry"] == RECIPE["reentry"]["reentry"]
        assert meta.heldout_bpc is not None and meta.heldout_bpc < 3.0
        logits, _ = model.step("\n", model.prime("In the beginning"))
        p = torch.softmax(logits, -1)
        assert p.shape == (97,) and torch.isfinite(p).all() and abs(float(p.sum()) - 1) < 1e-5
        models.append(model)
    bank = Bank(models)  # they share one shape, so the engine can stack them
    bank.set_active(list(range(len(models))))
    assert torch.isfinite(bank.step("a")).all()


def test_bank_fits_the_budget():
    assert sum(p.stat().st_size for p in FILES) < 60e6


def test_the_bank_has_every_style_of_the_recipe():
    assert sorted(p.stem for p in FILES) == sorted(RECIPE_STYLES)
