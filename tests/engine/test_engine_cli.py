import subprocess
import sys

import pytest

from tests.engine.conftest import make_bank


def engine(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "textconductor", "engine", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def bank_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bankdir")
    make_bank(d, ["alpha", "beta"])
    return d


def test_print_streams_reproducible_text(bank_dir):
    args = ["--bank", str(bank_dir), "--print", "--max-chars", "300", "--rate", "0", "--seed", "5", "--port", "0",
            "--weights", "alpha=0.5", "beta=0.5"]
    a, b = engine(*args), engine(*args)
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout and len(a.stdout) >= 300
    c = engine(*args[:-3], "alpha=1")
    assert c.stdout != a.stdout


@pytest.mark.parametrize("args,words", [
    (["--bank", "/nonexistent/folder"], ["no checkpoints"]),
    (["--styles", "alpha", "nope"], ["no style(s) nope"]),
    (["--weights", "zeta=1"], ["--weights", "unknown style"]),
    (["--rate", "-3"], ["--rate"]),
    (["--listen", "0.0.0.0"], ["--allow"]),
])
def test_errors_are_one_clear_line(bank_dir, args, words):
    if "--bank" not in args:
        args = ["--bank", str(bank_dir), *args]
    r = engine(*args, "--port", "0", "--max-chars", "1")
    assert r.returncode == 2, r.stderr
    for w in words:
        assert w in r.stderr
    assert "Traceback" not in r.stderr
