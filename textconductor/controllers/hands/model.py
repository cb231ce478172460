"""Getting the hand-landmark model onto the machine once, so hand tracking then works with no internet.

Why this exists: the current `mediapipe` wheel (1.x) runs the Tasks `HandLandmarker` but ships no hand
model, and the official `.task` download lives on a web server a gallery machine may never reach. The
last wheel that bundled the models, mediapipe 0.10.21 on PyPI, holds `palm_detection_full.tflite` and
`hand_landmark_full.tflite`; a HandLandmarker `.task` file is simply a zip of those two named
`hand_detector.tflite` and `hand_landmarks_detector.tflite`. `textconductor hands setup` downloads that
wheel with pip (PyPI only, `--no-deps`, nothing installed) and assembles the `.task` into the user's
data directory. Offline machines: copy the wheel over and run `textconductor hands setup --wheel FILE`,
or copy an existing `.task` with `--task FILE`.

Where the model is looked for, in order: an explicit path, `$TEXTCONDUCTOR_HAND_MODEL`, the cached file
(`default_model_path()`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from textconductor.errors import UserError
from textconductor.paths import hand_models_dir

log = logging.getLogger(__name__)

MODEL_FILENAME = "hand_landmarker.task"
ENV_VAR = "TEXTCONDUCTOR_HAND_MODEL"
SOURCE_VERSION = "0.10.21"
# The wheel pip fetches is pinned to one platform so `setup` works from any Python version or OS (only
# the model files are used, never the wheel's code): 0.10.21 has no wheel for Python 3.13, say.
SOURCE_PLATFORM = "manylinux_2_28_x86_64"
SOURCE_PYTHON = "311"
# wheel member -> name inside the .task zip
WHEEL_MEMBERS: dict[str, str] = {
    "mediapipe/modules/palm_detection/palm_detection_full.tflite": "hand_detector.tflite",
    "mediapipe/modules/hand_landmark/hand_landmark_full.tflite": "hand_landmarks_detector.tflite",
}
TASK_MEMBERS = tuple(WHEEL_MEMBERS.values())
# SHA-256 of the two files in mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl (measured). A wheel
# for another platform may differ; a mismatch is logged, not refused.
KNOWN_SHA256: dict[str, str] = {
    "hand_detector.tflite": "1b14e9422c6ad006cde6581a46c8b90dd573c07ab7f3934b5589e7cea3f89a54",
    "hand_landmarks_detector.tflite": "11c272b891e1a99ab034208e23937a8008388cf11ed2a9d776ed3d01d0ba00e3",
}
SETUP_HINT = "run `textconductor hands setup` once (needs PyPI; offline: `textconductor hands setup --wheel FILE`)"


class HandModelError(UserError):
    """The hand model is missing or unusable; the message says what to run."""


def default_model_path() -> Path:
    return hand_models_dir() / MODEL_FILENAME


def check_task_file(path: Path) -> None:
    """Raise HandModelError unless `path` is a zip holding the two model files HandLandmarker expects."""
    if not path.is_file():
        raise HandModelError(f"hand model {path} does not exist: {SETUP_HINT}")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise HandModelError(f"hand model {path} is not a valid .task (zip) file ({e}): {SETUP_HINT}") from e
    missing = [m for m in TASK_MEMBERS if m not in names]
    if missing:
        raise HandModelError(f"hand model {path} lacks {', '.join(missing)}: {SETUP_HINT}")


def find_model(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The model file to use, or HandModelError naming what is missing and the command that fixes it."""
    if explicit:
        path, origin = Path(explicit), "given"
    elif os.environ.get(ENV_VAR):
        path, origin = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        path, origin = default_model_path(), "cached"
    if not path.is_file():
        raise HandModelError(f"no hand-landmark model: the {origin} path {path} does not exist; {SETUP_HINT}")
    check_task_file(path)
    return path


def _atomic_write_zip(out: Path, members: dict[str, bytes]) -> None:
    """Write the zip beside `out`, then rename: a crash never leaves a half-written model behind."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=out.name, suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        # Stored, not deflated: MediaPipe may map the members straight from the file.
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            for name, data in members.items():
                z.writestr(name, data)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model is not a secret
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def assemble_task_from_wheel(wheel: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Build a HandLandmarker `.task` at `out` from a mediapipe wheel that bundles the hand models."""
    wheel, out = Path(wheel), Path(out)
    if not wheel.is_file():
        raise HandModelError(f"wheel {wheel} does not exist")
    try:
        with zipfile.ZipFile(wheel) as z:
            names = set(z.namelist())
            missing = [m for m in WHEEL_MEMBERS if m not in names]
            if missing:
                raise HandModelError(f"{wheel} holds no hand model ({', '.join(missing)} missing): use the "
                                     f"mediapipe {SOURCE_VERSION} wheel")
            members = {task_name: z.read(member) for member, task_name in WHEEL_MEMBERS.items()}
    except zipfile.BadZipFile as e:
        raise HandModelError(f"{wheel} is not a wheel (zip) file: {e}") from e
    for name, data in members.items():
        digest = hashlib.sha256(data).hexdigest()
        if digest != KNOWN_SHA256[name]:
            log.warning("%s from %s has SHA-256 %s, not the measured %s (another platform's wheel?)",
                        name, wheel.name, digest, KNOWN_SHA256[name])
    _atomic_write_zip(out, members)
    log.info("assembled %s from %s", out, wheel.name)
    return out


def install_task_file(task: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Copy an existing HandLandmarker `.task` (e.g. Google's hand_landmarker.task) to `out`, checked first."""
    task, out = Path(task), Path(out)
    check_task_file(task)
    with zipfile.ZipFile(task) as z:
        members = {n: z.read(n) for n in z.namelist()}
    _atomic_write_zip(out, members)
    return out


def pip_download_command(dest: Path) -> list[str]:
    """The pip command that fetches the model-bearing wheel (no dependencies, nothing installed)."""
    return [sys.executable, "-m", "pip", "download", f"mediapipe=={SOURCE_VERSION}", "--no-deps",
            "--only-binary=:all:", "--platform", SOURCE_PLATFORM, "--python-version", SOURCE_PYTHON,
            "--implementation", "cp", "--abi", f"cp{SOURCE_PYTHON}", "--disable-pip-version-check",
            "--dest", str(dest)]


def download_wheel(dest: Path) -> Path:
    """Run pip to download the mediapipe 0.10.21 wheel into `dest` and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = pip_download_command(dest)
    log.info("downloading the mediapipe %s wheel (about 36 MB) with: %s", SOURCE_VERSION, " ".join(cmd))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:
        raise HandModelError(f"could not run pip ({e}); download mediapipe=={SOURCE_VERSION} by hand and run "
                             "`textconductor hands setup --wheel FILE`") from e
    wheels = sorted(dest.glob(f"mediapipe-{SOURCE_VERSION}-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise HandModelError(f"pip could not download mediapipe=={SOURCE_VERSION} (exit {proc.returncode}: "
                             f"{' / '.join(tail)}); on a machine with internet run `pip download "
                             f"mediapipe=={SOURCE_VERSION} --no-deps`, copy the wheel here and run "
                             "`textconductor hands setup --wheel FILE`")
    return wheels[0]


def setup_model(wheel: str | os.PathLike[str] | None = None, task: str | os.PathLike[str] | None = None,
                out: str | os.PathLike[str] | None = None, force: bool = False) -> tuple[Path, str]:
    """The one-time step: put a working `.task` at `out` (default: the cached path).

    Returns (path, what was done). With neither `wheel` nor `task`, downloads the wheel with pip into a
    temporary folder that is removed afterwards.
    """
    target = Path(out) if out else default_model_path()
    if wheel and task:
        raise HandModelError("give --wheel or --task, not both")
    if target.is_file() and not force and not wheel and not task:
        check_task_file(target)
        return target, "already set up"
    if task:
        return install_task_file(task, target), f"copied {task}"
    if wheel:
        return assemble_task_from_wheel(wheel, target), f"assembled from {wheel}"
    with tempfile.TemporaryDirectory(prefix="textconductor-mediapipe-") as tmp:
        w = download_wheel(Path(tmp))
        return assemble_task_from_wheel(w, target), f"assembled from downloaded {w.name}"
