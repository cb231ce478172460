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
    (["--guard-strength", "2"], ["--guard-strength", "0..1"]),
    (["--guard-escape", "magic"], ["--guard-escape", "invalid choice"]),
])
def test_errors_are_one_clear_line(bank_dir, args, words):
    if "--bank" not in args:
        args = ["--bank", str(bank_dir), *args]
    r = engine(*args, "--port", "0", "--max-chars", "1")
    assert r.returncode == 2, r.stderr
    for w in words:
        assert w in r.stderr
    assert "Traceback" not in r.stderr


def test_help_loads_neither_torch_nor_qt():
    code = ("import sys; from textconductor.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_bench_and_soak_keep_their_options():
    from textconductor.cli import build_parser
    p = build_parser()
    a = p.parse_args(["bench", "engine", "--random", "4", "--ticks", "50", "--seconds", "2", "--threads", "2"])
    assert (a.random, a.ticks, a.seconds, a.threads, a.device) == (4, 50, 2.0, 2, "cpu")
    a = p.parse_args(["bench", "train", "--seconds", "3"])
    assert (a.corpus, a.seconds) == (None, 3.0)
    a = p.parse_args(["bench", "ui", "--styles", "3", "--active", "2", "--talk"])
    assert (a.seconds, a.styles, a.active, a.talk) == (5.0, 3, 2, True)
    a = p.parse_args(["soak", "--ui", "--chars", "1000"])
    assert (a.ui, a.chars, a.random) == (True, 1000, None)


def test_bench_engine_and_soak_run_on_checkpoints(tiny_bank, capsys):
    from textconductor.cli import main
    files = [str(p) for p in tiny_bank]
    assert main(["bench", "engine", "--checkpoints", *files, "--ticks", "20", "--seconds", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "# bench engine: 3 trained styles" in out and "| 3 |" in out and "OSC weight change" in out
    assert main(["soak", "--checkpoints", *files, "--chars", "500"]) == 0
    out = capsys.readouterr().out
    assert "# soak: 3 trained styles" in out and "500 chars in" in out


def test_bench_engine_sizes_compares_widths_side_by_side(capsys):
    from textconductor.cli import main
    assert main(["bench", "engine", "--random", "2", "--sizes", "32", "64", "--ticks", "5"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| 2x")]
    assert [r.split(" | ")[0] for r in rows] == ["| 2x32", "| 2x64"]
    assert rows[0].endswith("| 1.00x |")  # the first width is the yardstick
    assert main(["bench", "engine", "--sizes", "32"]) == 2  # widths of random styles only: a usage error


def test_blocklist_file_is_read_and_missing_file_is_no_list(bank_dir, tmp_path):
    words = tmp_path / "blocklist.txt"
    words.write_text("# stand-ins\nthe\nand\n")
    r = engine("--bank", str(bank_dir), "--print", "--max-chars", "50", "--rate", "0", "--port", "0",
               "--blocklist", str(words))
    assert r.returncode == 0 and "blocklist" in r.stderr and "2 entries" in r.stderr, r.stderr
    r = engine("--bank", str(bank_dir), "--print", "--max-chars", "50", "--rate", "0", "--port", "0",
               "--blocklist", str(tmp_path / "missing.txt"))
    assert r.returncode == 0 and "none (create the file" in r.stderr, r.stderr
