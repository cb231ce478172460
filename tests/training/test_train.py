import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pytest
import torch

from textconductor.model.checkpoint import load_checkpoint
from textconductor.training.corpus import load_corpus
from textconductor.training.evaluate import model_bpc, scored_windows
from textconductor.training.train_state import state_path

TINY = ["--layers", "1", "--hidden", "32", "--embed", "16", "--batch", "8", "--seq-len", "32", "--lr", "0.01"]


def unigram_entropy(data) -> float:
    counts = Counter(data.tolist())
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def test_training_beats_unigram_entropy(tiny_checkpoint, tiny_corpus):
    model, meta = load_checkpoint(tiny_checkpoint)
    corpus = load_corpus(tiny_corpus)
    bpc = model_bpc(model, corpus.data, scored_windows(len(corpus.data), corpus.heldout))
    assert bpc < unigram_entropy(corpus.train) - 0.5
    assert meta.heldout_bpc == pytest.approx(bpc, abs=0.02)  # stored figure is honest (fp16 weights)
    assert meta.train_chars >= 150_000 and meta.corpus_sha256 == corpus.sha256


def test_heldout_is_five_percent_in_contiguous_blocks(tiny_corpus):
    c = load_corpus(tiny_corpus)
    assert c.heldout_chars == pytest.approx(0.05 * len(c.data), rel=0.05)
    assert len(c.train) + c.heldout_chars == len(c.data)


def run_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "textconductor", *args], capture_output=True, text=True,
                          timeout=kw.pop("timeout", 120), **kw)


def train_args(corpus, out, chars):
    return ["train", str(corpus), "--name", "psalm", "--out", str(out), "--chars", str(chars), "--threads", "1",
            "--no-progress", "--save-every-steps", "20", *TINY]


def test_killed_run_resumes_to_the_same_weights(tiny_corpus, tmp_path):
    chars = 8 * 32 * 1500
    straight = tmp_path / "straight.safetensors"
    assert run_cli(*train_args(tiny_corpus, straight, chars)).returncode == 0

    out = tmp_path / "killed.safetensors"
    proc = subprocess.Popen([sys.executable, "-m", "textconductor", *train_args(tiny_corpus, out, chars)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not state_path(out).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert state_path(out).exists() and not out.exists(), "the run finished before it could be killed"

    again = run_cli(*train_args(tiny_corpus, out, chars))
    assert again.returncode == 2 and "--resume" in again.stderr

    resumed = run_cli(*train_args(tiny_corpus, out, chars), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    step = int(resumed.stderr.split("at step ")[1].split()[0])
    assert 0 < step < 1500 and step % 20 == 0
    a, ma = load_checkpoint(straight)
    b, mb = load_checkpoint(out)
    assert ma.extra["steps"] == mb.extra["steps"] == 1500 and ma.train_chars == mb.train_chars
    for k, v in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[k], v, atol=0, rtol=0, msg=k)
    assert not state_path(out).exists()


def test_fine_tune_from_base(tiny_checkpoint, tmp_path):
    code = tmp_path / "code.txt"
    from tests.conftest import tiny_text
    code.write_text(tiny_text("code", 20_000))
    out = tmp_path / "code.safetensors"
    r = run_cli("train", str(code), "--name", "code", "--out", str(out), "--base", str(tiny_checkpoint),
                "--chars", "40000", "--threads", "1", "--no-progress", "--batch", "8", "--seq-len", "32")
    assert r.returncode == 0, r.stderr
    model, meta = load_checkpoint(out)
    assert meta.base == "psalm" and (meta.layers, meta.hidden) == (1, 32)


def test_fine_tune_widened_from_base_starts_where_the_base_was(tiny_checkpoint, tiny_corpus, tmp_path):
    out = tmp_path / "wide.safetensors"
    args = ["train", str(tiny_corpus), "--name", "psalm", "--out", str(out), "--base", str(tiny_checkpoint),
            "--threads", "1", "--no-progress", "--batch", "8", "--seq-len", "32", "--lr", "1e-3"]
    r = run_cli(*args, "--chars", "2560", "--hidden", "48", "--widen")
    assert r.returncode == 0, r.stderr
    model, meta = load_checkpoint(out)
    assert (meta.layers, meta.hidden) == (1, 48) and meta.base == "psalm"
    base, base_meta = load_checkpoint(tiny_checkpoint)
    # ten small steps from an exact copy: still about as good as the base (a broken widen would start at chance)
    assert meta.heldout_bpc < base_meta.heldout_bpc + 0.3
    r = run_cli(*args, "--chars", "100", "--hidden", "16", "--widen", "--out", str(tmp_path / "narrow.safetensors"))
    assert r.returncode == 2 and "--widen grows 1x32" in r.stderr


@pytest.mark.parametrize("setup,args,words", [
    (None, ["missing.txt"], ["no such file"]),
    ("", ["empty.txt"], ["empty"]),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00" * 100, ["bin.txt"], ["binary"]),
    ("tiny text only. " * 10, ["small.txt"], ["too small", "10,000"]),
])
def test_train_errors(tmp_path, setup, args, words):
    path = tmp_path / args[0]
    if isinstance(setup, bytes):
        path.write_bytes(setup)
    elif setup is not None:
        path.write_text(setup)
    r = run_cli("train", str(path), "--name", "x", "--out", str(tmp_path / "o.safetensors"), "--chars", "1000")
    assert r.returncode == 2
    for w in words:
        assert w in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_device_and_missing_budget(tiny_corpus, tmp_path):
    r = run_cli("train", str(tiny_corpus), "--name", "x", "--chars", "100", "--device", "tpu")
    assert r.returncode == 2 and "invalid choice: 'tpu'" in r.stderr
    r = run_cli("train", str(tiny_corpus), "--name", "x")
    assert r.returncode == 2 and "--minutes" in r.stderr
    if not torch.cuda.is_available():
        r = run_cli("train", str(tiny_corpus), "--name", "x", "--chars", "100", "--device", "cuda",
                    "--out", str(tmp_path / "c.safetensors"))
        assert r.returncode == 2 and "no CUDA device" in r.stderr


def test_eval_and_sample_commands(tiny_checkpoint, tiny_corpus):
    r = run_cli("eval", str(tiny_checkpoint), "--corpus", str(tiny_corpus))
    assert r.returncode == 0, r.stderr
    row = [line for line in r.stdout.splitlines() if line.startswith("| psalm")][0].split("|")
    lstm, ngram = float(row[4]), float(row[5])
    assert 0 < lstm < 4 and 0 < ngram < 4
    r = run_cli("sample", str(tiny_checkpoint), "--chars", "80", "--prime", "12 lord", "--seed", "3")
    r2 = run_cli("sample", str(tiny_checkpoint), "--chars", "80", "--prime", "12 lord", "--seed", "3")
    assert r.returncode == 0 and r.stdout == r2.stdout and r.stdout.startswith("12 lord")
    assert len(r.stdout) >= 80


def test_eval_refuses_a_broken_checkpoint(tmp_path, tiny_corpus):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"hello world, not a model")
    r = run_cli("eval", str(bad), "--corpus", str(tiny_corpus))
    assert r.returncode == 2 and str(bad) in r.stderr and "Traceback" not in r.stderr


def test_line_start_segments_open_at_a_newline_with_a_zeroed_state():
    """Every fresh segment reads "\\n" first, as a performance starts; plain segments start anywhere."""
    import numpy as np

    from tests.conftest import tiny_text
    from textconductor.protocol.charset import CHAR_TO_INDEX, encode
    from textconductor.training.batches import Streams, advance_streams, newline_starts
    from textconductor.training.config import TrainConfig
    data = encode(tiny_text("psalm", 20_000))
    nl = CHAR_TO_INDEX["\n"]
    for line_starts in (True, False):
        cfg = TrainConfig(name="t", batch=16, seq_len=32, segment=64, line_starts=line_starts)
        streams = Streams(np.full(16, -1), np.zeros(16, dtype=np.int64), np.zeros(16, dtype=np.int64))
        starts = newline_starts([data], cfg.seq_len) if line_starts else None
        first = []
        for step in range(20):
            x, y = advance_streams(streams, [data], cfg, step, starts)
            assert (x[:, 1:] == y[:, :-1]).all()
            first += x[streams.reset, 0].tolist()
            assert streams.reset.sum() == (16 if step % 2 == 0 else 0)  # 64-char segments, 32 per step
        share = np.mean(np.array(first) == nl)
        assert share == 1.0 if line_starts else share < 0.3


def _reentry_batch(reentry: float):
    from textconductor.training.batches import Streams, advance_streams
    from textconductor.training.config import TrainConfig
    own = [(np.arange(5000) % 50 + 10).astype(np.uint8)]  # the style's own text: symbols 10..59
    foreign = [np.full(5000, 3, dtype=np.uint8), np.full(5000, 5, dtype=np.uint8)]
    cfg = TrainConfig(name="t", batch=64, seq_len=64, reentry=reentry, prefix_max=40)
    streams = Streams(np.full(cfg.batch, -1), np.zeros(cfg.batch, dtype=np.int64), np.zeros(cfg.batch, dtype=np.int64))
    x, y = advance_streams(streams, own, cfg, 0, None, foreign)
    x2, _ = advance_streams(streams, own, cfg, 1, None, foreign)
    x2[streams.reset] = -1  # rows that reached the end of the text jumped elsewhere
    return cfg, x, y, x2


def test_reentry_prefix_targets_carry_no_loss():
    """Every target inside a foreign prefix is masked; the first own character after it is not."""
    import torch.nn.functional as F

    from textconductor.training.config import IGNORE, PREFIX_MIN
    cfg, x, y, x2 = _reentry_batch(0.5)
    prefixed = [b for b in range(cfg.batch) if x[b, 0] < 10]
    assert 10 < len(prefixed) < cfg.batch - 10  # about half the segments
    for b in prefixed:
        k = int(np.argmax(x[b] >= 10))
        assert PREFIX_MIN <= k <= 40 and (x[b, :k] < 10).all()
        assert (y[b, :k - 1] == IGNORE).all() and (y[b, k - 1:] >= 10).all()
    assert (y[[b for b in range(cfg.batch) if b not in prefixed]] >= 10).all()
    cont = x2[:, 0] >= 0
    # the next window continues the own text where this one ended
    assert cont.sum() > cfg.batch // 2 and (x2[cont, 0] == y[cont, -1]).all()
    # The loss's gradient is exactly zero on every prefix position, whatever the logits say there.
    logits = torch.randn(cfg.batch, cfg.seq_len, 97, requires_grad=True)
    loss = F.cross_entropy(logits.reshape(-1, 97), torch.from_numpy(y).reshape(-1).long(), ignore_index=IGNORE)
    loss.backward()
    masked = torch.from_numpy(y == IGNORE)
    assert masked.any() and logits.grad[masked].abs().max() == 0
    assert logits.grad[~masked].abs().sum(-1).min() > 0


def test_reentry_off_reads_only_own_text():
    cfg, x, y, _ = _reentry_batch(0.0)
    assert (x >= 10).all() and (y >= 10).all()
