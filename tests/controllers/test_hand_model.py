"""Model setup: assembling the .task from a wheel file, finding it, and the messages when it is missing."""

from __future__ import annotations

import logging
import subprocess
import zipfile
from pathlib import Path

import pytest

from textconductor.controllers.hands import model as hand_model
from textconductor.controllers.hands.model import (
    HandModelError,
    assemble_task_from_wheel,
    find_model,
    pip_download_command,
    setup_model,
)

DETECTOR, LANDMARKS = b"palm detector bytes", b"hand landmark bytes"


def fake_wheel(path: Path, with_models: bool = True) -> Path:
    """A zip laid out like the mediapipe 0.10.21 wheel (the bytes are stand-ins; the layout is what's tested)."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mediapipe/__init__.py", "")
        if with_models:
            z.writestr("mediapipe/modules/palm_detection/palm_detection_full.tflite", DETECTOR)
            z.writestr("mediapipe/modules/hand_landmark/hand_landmark_full.tflite", LANDMARKS)
            z.writestr("mediapipe/modules/hand_landmark/hand_landmark_lite.tflite", b"lite")
    return path


@pytest.fixture(autouse=True)
def private_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("TEXTCONDUCTOR_DATA", str(tmp_path / "data"))
    monkeypatch.delenv(hand_model.ENV_VAR, raising=False)
    return tmp_path / "data"


def test_assemble_from_wheel(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "m" / "hand_landmarker.task"
    with caplog.at_level(logging.WARNING):
        assemble_task_from_wheel(fake_wheel(tmp_path / "mediapipe-0.10.21-x.whl"), out)
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["hand_detector.tflite", "hand_landmarks_detector.tflite"]
        assert z.read("hand_detector.tflite") == DETECTOR and z.read("hand_landmarks_detector.tflite") == LANDMARKS
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
    assert "SHA-256" in caplog.text  # stand-in bytes do not match the measured digests: said, not refused
    assert find_model(out) == out
    assert list(out.parent.glob("*.tmp")) == []


def test_wheel_without_models_or_not_a_zip(tmp_path: Path) -> None:
    with pytest.raises(HandModelError, match="0.10.21"):
        assemble_task_from_wheel(fake_wheel(tmp_path / "new.whl", with_models=False), tmp_path / "o.task")
    junk = tmp_path / "junk.whl"
    junk.write_bytes(b"not a zip")
    with pytest.raises(HandModelError, match="not a wheel"):
        assemble_task_from_wheel(junk, tmp_path / "o.task")
    with pytest.raises(HandModelError, match="does not exist"):
        assemble_task_from_wheel(tmp_path / "absent.whl", tmp_path / "o.task")
    assert not (tmp_path / "o.task").exists()


def test_missing_model_message_names_the_path_and_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           private_data_dir: Path) -> None:
    with pytest.raises(HandModelError) as e:
        find_model()
    assert str(private_data_dir) in str(e.value) and "textconductor hands setup" in str(e.value)
    monkeypatch.setenv(hand_model.ENV_VAR, str(tmp_path / "elsewhere.task"))
    with pytest.raises(HandModelError, match=r"\$TEXTCONDUCTOR_HAND_MODEL"):
        find_model()
    bad = tmp_path / "bad.task"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("hand_detector.tflite", b"x")
    with pytest.raises(HandModelError, match="hand_landmarks_detector.tflite"):
        find_model(bad)


def test_setup_from_wheel_then_from_cache_then_from_task(tmp_path: Path, private_data_dir: Path) -> None:
    wheel = fake_wheel(tmp_path / "w.whl")
    path, what = setup_model(wheel=wheel)
    assert path == private_data_dir / "models" / "hand_landmarker.task" and "assembled" in what
    assert setup_model() == (path, "already set up")  # no download when it is there
    assert find_model() == path
    copy, what = setup_model(task=path, out=tmp_path / "copy.task")
    assert "copied" in what and find_model(copy) == copy
    with pytest.raises(HandModelError, match="not both"):
        setup_model(wheel=wheel, task=path)


def test_pip_command_fetches_only_the_pinned_wheel(tmp_path: Path) -> None:
    cmd = pip_download_command(tmp_path)
    assert cmd[1:4] == ["-m", "pip", "download"]
    assert "mediapipe==0.10.21" in cmd and "--no-deps" in cmd and "--only-binary=:all:" in cmd
    assert cmd[cmd.index("--dest") + 1] == str(tmp_path)


def test_failed_download_explains_the_offline_route(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def fake_run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version (no network)")

    monkeypatch.setattr(hand_model.subprocess, "run", fake_run)
    with pytest.raises(HandModelError) as e:
        setup_model(out=tmp_path / "m.task")
    msg = str(e.value)
    assert "no network" in msg and "--wheel FILE" in msg and "pip download mediapipe==0.10.21" in msg


def test_download_then_assemble(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The download path end to end, with pip replaced by a copy of a wheel into --dest."""
    src = fake_wheel(tmp_path / "src.whl")

    def fake_run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess:
        dest = Path(cmd[cmd.index("--dest") + 1])
        (dest / "mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(src.read_bytes())
        return subprocess.CompletedProcess(cmd, 0, "Saved", "")

    monkeypatch.setattr(hand_model.subprocess, "run", fake_run)
    path, what = setup_model(out=tmp_path / "m.task")
    assert "downloaded" in what and find_model(path) == path
