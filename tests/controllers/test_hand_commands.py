"""The `textconductor hands ...` sub-commands through the real command line."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.controllers.test_hand_model import fake_wheel
from textconductor.cli import main


def test_importing_the_commands_is_light() -> None:
    code = ("import sys, argparse; from textconductor.cli import hands as hand_commands; "
            "hand_commands.register(argparse.ArgumentParser().add_subparsers()); "
            "heavy = [m for m in ('mediapipe', 'cv2', 'numpy', 'torch', 'PySide6') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_setup_from_a_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hand_landmarker.task"
    assert main(["hands", "setup", "--wheel", str(fake_wheel(tmp_path / "w.whl")), "--out", str(out)]) == 0
    assert "assembled" in capsys.readouterr().out
    with zipfile.ZipFile(out) as z:
        assert set(z.namelist()) == {"hand_detector.tflite", "hand_landmarks_detector.tflite"}


def test_setup_with_a_bad_wheel_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hands", "setup", "--wheel", str(tmp_path / "absent.whl"), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "absent.whl does not exist" in err and "Traceback" not in err


def test_run_without_a_model_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("mediapipe", reason="mediapipe not installed")
    monkeypatch.setenv("TEXTCONDUCTOR_HAND_MODEL", str(tmp_path / "none.task"))
    assert main(["hands", "run", "--seconds", "1"]) == 2
    assert "textconductor hands setup" in capsys.readouterr().err


def test_bench_filter_prints_both_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hands", "bench-filter"]) == 0
    out = capsys.readouterr().out
    assert "reduction" in out and "lag ms" in out and "one euro" in out
