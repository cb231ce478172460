import json
import struct

import pytest
import torch
from safetensors.torch import save_file

from textconductor.model.charlstm import CharLSTM, CharLSTMConfig
from textconductor.model.checkpoint import CheckpointError, CheckpointMeta, load_checkpoint, save_checkpoint


def _saved(tmp_path, dtype=torch.float32):
    torch.manual_seed(0)
    model = CharLSTM(CharLSTMConfig(layers=2, hidden=24, embed=8))
    meta = CheckpointMeta(name="t", display_name="Test", layers=2, hidden=24, embed=8, heldout_bpc=1.5,
                          corpus_sha256="ab" * 32, train_chars=123, train_seconds=4.5, base="base")
    path = save_checkpoint(tmp_path / "t.safetensors", model, meta, dtype=dtype)
    return model, meta, path


def test_round_trip_is_bit_exact(tmp_path):
    model, meta, path = _saved(tmp_path)
    loaded, lmeta = load_checkpoint(path)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    assert lmeta == meta


def test_fp16_round_trip_equals_rounding(tmp_path):
    model, _, path = _saved(tmp_path, torch.float16)
    loaded, _ = load_checkpoint(path)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v.half().float()), k


def _expect(path, words):
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    msg = str(e.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, msg


def test_truncated_file_is_refused(tmp_path):
    _, _, path = _saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    _expect(path, ["truncated"])


def test_garbage_is_refused(tmp_path):
    p = tmp_path / "junk.safetensors"
    p.write_bytes(b"\x00" * 3)
    _expect(p, ["not a safetensors"])
    p.write_bytes(struct.pack("<Q", 20) + b"{not json at all!!!}")
    _expect(p, ["corrupt header"])


def test_foreign_safetensors_is_refused(tmp_path):
    p = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, str(p), metadata={"format": "pt"})
    _expect(p, ["not a textconductor-charlstm"])


def test_different_charset_is_refused(tmp_path):
    model, meta, _ = _saved(tmp_path)
    meta.charset = "abc"
    path = save_checkpoint(tmp_path / "c.safetensors", model, meta)
    _expect(path, ["different character set"])


def test_wrong_shapes_are_refused(tmp_path):
    model, meta, _ = _saved(tmp_path)
    meta.hidden = 32
    path = save_checkpoint(tmp_path / "s.safetensors", model, meta)
    _expect(path, ["shape"])


def test_pickle_is_refused_without_executing(tmp_path):
    import pickle

    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    p = tmp_path / "evil.safetensors"
    p.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(CheckpointError):
        load_checkpoint(p)
    assert not (tmp_path / "pwned").exists()


def test_corrupt_metadata_json_is_refused(tmp_path):
    p = tmp_path / "m.safetensors"
    save_file({"w": torch.zeros(3)}, str(p), metadata={"format": "textconductor-charlstm", "version": "1",
                                                      "meta": "{oops"})
    _expect(p, ["corrupt metadata"])
    save_file({"w": torch.zeros(3)}, str(p), metadata={"format": "textconductor-charlstm", "version": "1",
                                                      "meta": json.dumps({"name": "x", "layers": 999})})
    _expect(p, ["implausible"])
