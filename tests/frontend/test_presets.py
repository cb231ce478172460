"""Preset store (JSON under the config dir) and the morph curve."""

from __future__ import annotations

import json

import pytest

from textconductor.frontend.presets import PresetStore, default_presets_path, morph, smoothstep


def test_save_and_reload(tmp_path):
    path = tmp_path / "sub" / "presets.json"
    s = PresetStore(path)
    s.save(3, {"bible": 0.7, "linux": 0.2})
    s.save(9, {"austen": 1.0})
    again = PresetStore(path)
    assert again.get(3) == {"bible": 0.7, "linux": 0.2}
    assert again.get(9) == {"austen": 1.0}
    assert again.get(1) is None
    assert json.loads(path.read_text())["slots"]["3"]["bible"] == 0.7


def test_bad_slot_is_refused(tmp_path):
    with pytest.raises(ValueError):
        PresetStore(tmp_path / "p.json").save(0, {"a": 1.0})


@pytest.mark.parametrize("content", ["{not json", '{"slots": {"1": "x", "42": {"a": 1}}}', "[]", ""])
def test_unreadable_file_starts_empty(tmp_path, content):
    path = tmp_path / "p.json"
    path.write_text(content)
    s = PresetStore(path)
    assert s.slots == {}
    s.save(1, {"a": 0.5})  # and still works
    assert PresetStore(path).get(1) == {"a": 0.5}


def test_values_are_clamped_on_load(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"slots": {"2": {"a": 7, "b": -1}}}')
    assert PresetStore(path).get(2) == {"a": 1.0, "b": 0.0}


def test_default_path_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("TEXTCONDUCTOR_PRESETS", str(tmp_path / "x.json"))
    assert default_presets_path() == tmp_path / "x.json"
    monkeypatch.delenv("TEXTCONDUCTOR_PRESETS")
    assert default_presets_path().name == "presets.json" and "textconductor" in str(default_presets_path())


def test_morph_endpoints_and_monotone():
    a, b = {"x": 1.0, "y": 0.0}, {"y": 1.0, "z": 0.5}
    assert morph(a, b, 0.0) == {"x": 1.0, "y": 0.0, "z": 0.0}
    assert morph(a, b, 1.0) == {"x": 0.0, "y": 1.0, "z": 0.5}
    assert morph(a, b, 7.0) == morph(a, b, 1.0) and morph(a, b, -1) == morph(a, b, 0)
    ys = [morph(a, b, t / 20)["y"] for t in range(21)]
    assert all(y2 >= y1 for y1, y2 in zip(ys, ys[1:], strict=False))
    assert 0.4 < morph(a, b, 0.5)["y"] < 0.6
    assert smoothstep(0.1) < 0.1  # eases in
