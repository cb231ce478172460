"""`textconductor doctor`: can `play` work on this machine, and if not, what exactly to install or change.

Why: on stage the first sign of a missing library used to be a window that never opened and a
supervisor restarting it forever. Every check here is a small function returning a `Check` (one
line: name, verdict, detail, fix) and imports nothing heavy: not Qt (that is what may be broken),
not torch (2.5 s), not cv2 (importing it repoints Qt's plugin path). `play` runs the same checks
before it starts anything and refuses only for what makes it impossible (`Check.essential`):
no display, missing Qt libraries, an unwritable data directory, a busy engine port. MIDI, camera,
hand model and CUDA are reported, never blocking: the instrument plays without them.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from textconductor.display import HEADLESS_PLATFORMS
from textconductor.tools import qt_libs


@dataclass(frozen=True)
class Check:
    """One line of the report. `essential`: `play` cannot work while this fails."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    essential: bool = False

    @property
    def status(self) -> str:
        return "ok" if self.ok else "FAIL" if self.essential else "warn"

    @property
    def blocking(self) -> bool:
        return self.essential and not self.ok


# -- display -------------------------------------------------------------------------------------

HEADLESS_HINT = "or run without a window: `textconductor play --headless` (the text streams to the terminal)"


def _x_server_answers(display: str, timeout: float = 1.0) -> bool:
    """Does something accept connections where DISPLAY points? (The socket, not the X protocol: cheap,
    and enough to tell a stale DISPLAY from a live one.)"""
    host, _, rest = display.rpartition(":")
    try:
        number = int(rest.split(".")[0])
    except ValueError:
        return False
    if host in ("", "unix"):
        paths = [f"\0/tmp/.X11-unix/X{number}", f"/tmp/.X11-unix/X{number}"]  # abstract first, as Xlib does
        for path in paths:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                try:
                    s.connect(path)
                    return True
                except OSError:
                    continue
        return False
    if host.startswith("/"):  # macOS launchd socket path
        return os.path.exists(f"{host}:{rest}")
    try:
        with socket.create_connection((host, 6000 + number), timeout=timeout):
            return True
    except OSError:
        return False


def check_display(env: Mapping[str, str] | None = None, essential: bool = True) -> Check:
    """Is there somewhere for the window to appear (or a platform that needs none)?"""
    env = os.environ if env is None else env
    platform = qt_libs.default_platform(env)
    if platform in HEADLESS_PLATFORMS:
        return Check("display", True, f"QT_QPA_PLATFORM={platform}: windows render off screen (nothing is visible)",
                     essential=essential)
    if sys.platform in ("darwin", "win32"):
        return Check("display", True, f"{sys.platform} desktop", essential=essential)
    wayland = env.get("WAYLAND_DISPLAY", "")
    if platform.startswith("wayland"):
        sock = Path(wayland) if wayland.startswith("/") else Path(env.get("XDG_RUNTIME_DIR", "/nonexistent")) / wayland
        if wayland and sock.exists():
            return Check("display", True, f"WAYLAND_DISPLAY={wayland} ({sock} exists)", essential=essential)
        return Check("display", False, f"Wayland asked for, but no compositor socket at {sock}",
                     f"start the session's compositor, or set QT_QPA_PLATFORM=xcb; {HEADLESS_HINT}", essential)
    display = env.get("DISPLAY", "")
    if not display:
        return Check("display", False, "no display: DISPLAY is not set" + ("" if wayland else " (nor WAYLAND_DISPLAY)"),
                     f"run on a desktop, or start Xvfb (Debian: xvfb) and set DISPLAY; {HEADLESS_HINT}", essential)
    if _x_server_answers(display):
        return Check("display", True, f"DISPLAY={display}: the X server answers", essential=essential)
    return Check("display", False, f"DISPLAY={display} is set, but no X server answers there",
                 f"start the X server (e.g. `Xvfb {display.split('.')[0]} &`) or fix DISPLAY; {HEADLESS_HINT}",
                 essential)


# -- Qt platform plugin ----------------------------------------------------------------------------

def check_qt_plugin(env: Mapping[str, str] | None = None, essential: bool = True,
                    pyside: Path | None = None) -> Check:
    """Does the plugin for the platform Qt will open find all its shared libraries?"""
    env = os.environ if env is None else env
    platform = qt_libs.default_platform(env)
    if pyside is None and qt_libs.pyside_dir() is None:
        return Check("qt-plugin", False, "PySide6 is not installed", "make play (or: pip install -e .)", essential)
    rep = qt_libs.find_plugin(platform, env, pyside)
    skipped = f"; skipped {', '.join(rep.skipped)}" if rep.skipped else ""
    if rep.plugin is None or rep.libs is None:
        return Check("qt-plugin", False, f"no Qt 6 plugin for platform {platform!r}{skipped}",
                     f"set QT_QPA_PLATFORM to xcb, wayland or offscreen; else {qt_libs.PYSIDE_REINSTALL}", essential)
    where = f"{platform} plugin {rep.plugin}" + (f" (PySide6 {rep.pyside_version})" if rep.pyside_version else "")
    if rep.libs.error:
        return Check("qt-plugin", False, f"{where}: cannot list its libraries ({rep.libs.error}){skipped}",
                     "install libc-bin (ldd)", essential)
    if not rep.missing:
        return Check("qt-plugin", True, f"{where}: all {len(rep.libs.found)} libraries found{skipped}",
                     essential=essential)
    fixes = []
    if rep.packages():
        fixes.append(qt_libs.apt_line(rep.packages()))
    if rep.wheel_missing():
        fixes.append(qt_libs.PYSIDE_REINSTALL)
    return Check("qt-plugin", False, f"{where} cannot load: missing {', '.join(rep.missing)}{skipped}",
                 "; ".join(fixes), essential)


# -- MIDI ----------------------------------------------------------------------------------------

# Run in a child: ALSA and JACK print to the C stderr, and libjack would start a server (JACK_NO_START_SERVER).
_MIDI_PROBE = """
import json
from textconductor.controllers.midi.ports import MidiUnavailable, list_midi_inputs
out = {}
for key, api in (("default", None), ("jack", "UNIX_JACK")):
    try:
        out[key] = {"ports": list_midi_inputs(api)}
    except MidiUnavailable as e:
        out[key] = {"error": str(e)}
    except Exception as e:  # noqa: BLE001 - a backend failing in a new way is still one line of report
        out[key] = {"error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
"""


def _ports(names: Sequence[str]) -> str:
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(names)} input port{'s' if len(names) != 1 else ''}" + (f" ({shown})" if names else "")


def check_midi(timeout: float = 15.0) -> Check:
    """The MIDI backend (mido + python-rtmidi) and what ALSA and JACK offer."""
    env = {**os.environ, "JACK_NO_START_SERVER": "1"}
    try:
        r = subprocess.run([sys.executable, "-c", _MIDI_PROBE], capture_output=True, text=True, timeout=timeout,
                           env=env)
        got = json.loads(r.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as e:
        return Check("midi", False, f"the MIDI probe failed ({type(e).__name__}: {e})",
                     "run `textconductor midi --list` to see the error")
    default, jack = got.get("default", {}), got.get("jack", {})
    ok = "ports" in default or "ports" in jack

    def said(probe: dict) -> str:  # the reason without its details and hints (the fix line has those)
        return _ports(probe["ports"]) if "ports" in probe else probe.get("error", "?").split(" (")[0]
    parts = [f"default backend: {said(default)}", f"JACK: {said(jack)}"]
    fix = "" if ok else ("ALSA: load snd-seq (`modprobe snd-seq`; /dev/snd/seq must exist); or start JACK "
                         "(`jackd -d alsa`, Debian: jackd2) and play with --midi-api UNIX_JACK")
    if not ok and "no MIDI backend" in default.get("error", ""):
        fix = "pip install -e '.[midi]' (python-rtmidi) and apt-get install libasound2"
    return Check("midi", ok, "; ".join(parts), fix)


# -- camera and hand model -------------------------------------------------------------------------

def _dist_version(*names: str) -> str:
    from importlib import metadata
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return ""


def check_camera(devices: Sequence[str] | None = None) -> Check:
    """A webcam for hand gestures, and the libraries that read it (found, not imported)."""
    import importlib.util
    devices = sorted(glob.glob("/dev/video*")) if devices is None else list(devices)
    cv = _dist_version("opencv-python", "opencv-contrib-python", "opencv-python-headless",
                       "opencv-contrib-python-headless")
    mp = _dist_version("mediapipe")
    libs = []
    for module, version, label in (("cv2", cv, "OpenCV"), ("mediapipe", mp, "mediapipe")):
        present = importlib.util.find_spec(module) is not None
        libs.append(f"{label} {version or '?'}" if present else f"no {label}")
    if "no OpenCV" in libs or "no mediapipe" in libs:
        return Check("camera", False, f"{', '.join(libs)}", "pip install -e '.[hands]' (mediapipe brings OpenCV)")
    if sys.platform != "linux":
        return Check("camera", True, f"{', '.join(libs)} (camera not probed on {sys.platform})")
    if not devices:
        return Check("camera", False, f"no camera (/dev/video* absent); {', '.join(libs)}",
                     "plug in a webcam (hand gestures are optional)")
    unreadable = [d for d in devices if not os.access(d, os.R_OK | os.W_OK)]
    if len(unreadable) == len(devices):
        return Check("camera", False, f"{', '.join(devices)} not readable by this user; {', '.join(libs)}",
                     "add the user to the video group (`sudo adduser $USER video`, then log in again)")
    return Check("camera", True, f"{', '.join(d for d in devices if d not in unreadable)}; {', '.join(libs)}")


def check_hand_model() -> Check:
    """The hand-landmark model `hands setup` assembles, and libGLESv2, which MediaPipe opens at start."""
    import ctypes.util

    from textconductor.controllers.hands.model import HandModelError, find_model
    gles = ctypes.util.find_library("GLESv2") is not None
    try:
        path = find_model()
    except HandModelError as e:
        return Check("hand-model", False, str(e).split("; ")[0],  # the rest is the fix, said once below
                     "textconductor hands setup (needs PyPI once; offline: --wheel FILE)")
    if not gles:
        return Check("hand-model", False, f"{path}, but libGLESv2 is missing (MediaPipe needs it)",
                     qt_libs.apt_line(["libgles2"]))
    return Check("hand-model", True, str(path))


# -- CUDA ----------------------------------------------------------------------------------------

def check_cuda(probe: bool = True, essential: bool = False) -> Check:
    """Can the engine step on a GPU? Read from torch's build tag and the driver without importing torch;
    only when both say yes (and `probe`) is torch asked in a child process."""
    torch_version = _dist_version("torch")
    if not torch_version:
        return Check("cuda", False, "torch is not installed", "make play (installs torch)", essential)
    driver = Path("/proc/driver/nvidia/version")
    cpu_build = "+cpu" in torch_version
    if cpu_build or not driver.exists():
        why = f"torch {torch_version} is a CPU build" if cpu_build else "no NVIDIA driver (/proc/driver/nvidia)"
        fix = "only for --device cuda: make play TORCH_SPEC='torch' (a CUDA build) on a machine with a GPU"
        return Check("cuda", False, f"no: {why}; the engine steps on the CPU (the default)", fix, essential)
    if not probe:
        return Check("cuda", True, f"torch {torch_version} and an NVIDIA driver (not probed)", essential=essential)
    code = "import torch; print(torch.cuda.is_available() and torch.cuda.get_device_name(0))"
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        answer = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr.strip()[-200:]
        seen = r.returncode == 0 and answer not in ("False", "")
    except (OSError, subprocess.TimeoutExpired) as e:
        answer, seen = f"probe failed: {e}", False
    if seen:
        return Check("cuda", True, f"{answer} (torch {torch_version})", essential=essential)
    return Check("cuda", False, f"torch {torch_version} sees no GPU ({answer})",
                 "check `nvidia-smi` and that torch's CUDA version fits the driver", essential)


# -- data directory and port -----------------------------------------------------------------------

def check_data_dir(path: Path | None = None) -> Check:
    """The user data directory (records, snapshots, models) exists or can be made, and takes a file."""
    from textconductor.paths import data_dir
    path = data_dir() if path is None else Path(path)
    fix = f"make {path} writable by this user, or point TEXTCONDUCTOR_DATA at a writable folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-", delete=True) as f:
            f.write(b"x")
            f.flush()
    except OSError as e:
        return Check("data-dir", False, f"{path} is not writable ({e.strerror or e})", fix, essential=True)
    free = shutil.disk_usage(path).free / 1e9
    return Check("data-dir", True, f"{path} is writable ({free:.1f} GB free)", essential=True)


def _readlink(path: str) -> str:
    """A /proc fd link's target, or '' for one closed meanwhile (listdir's own fd always is)."""
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _udp_owner(port: int) -> str:
    """Which process holds UDP `port` (from /proc), as 'pid N (command)', or '' when unknown."""
    inodes = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return ""
    wanted = {f"socket:[{i}]" for i in inodes}
    for fd_dir in glob.glob("/proc/[0-9]*/fd"):
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to read
        if any(_readlink(os.path.join(fd_dir, fd)) in wanted for fd in fds):
            pid = fd_dir.split("/")[2]
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                cmd = "?"
            return f"pid {pid} ({cmd.strip()[:80]})"
    return ""


def check_port(port: int, host: str = "127.0.0.1") -> Check:
    """The engine's UDP port is free (a second `play`, or a stray engine, holds it otherwise)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                owner = _udp_owner(port)
                return Check("engine-port", False, f"UDP {host}:{port} is in use" + (f" by {owner}" if owner else ""),
                             f"stop that process, or choose another port: `textconductor play --port {port + 1}`",
                             essential=True)
            return Check("engine-port", False, f"cannot bind UDP {host}:{port} ({e.strerror or e})",
                         "choose another --port", essential=True)
    return Check("engine-port", True, f"UDP {host}:{port} is free", essential=True)


def check_bank(folder: Path | None = None) -> Check:
    """The bundled bank (or `folder`) holds checkpoints (counted, not loaded: no torch here)."""
    from textconductor.assets import BANK_DIR
    folder = BANK_DIR if folder is None else Path(folder)
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return Check("bank", False, f"no checkpoints (*.safetensors) in {folder}",
                     "textconductor train-bank --corpora DIR, or play --checkpoints FILE ...", essential=True)
    return Check("bank", True, f"{len(files)} styles in {folder}", essential=True)


# -- all together --------------------------------------------------------------------------------

def run_checks(headless: bool = False, port: int | None = None, device: str | None = None,
               env: Mapping[str, str] | None = None, cuda_probe: bool = True, bank: bool = True) -> list[Check]:
    """Every check, in report order. `headless`: display and Qt are reported but do not block;
    `device='cuda'` makes CUDA essential; `port=None`: the default engine port."""
    from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT
    env = os.environ if env is None else env
    window = not headless
    checks: list[Callable[[], Check]] = [
        lambda: check_display(env, essential=window),
        lambda: check_qt_plugin(env, essential=window),
        check_midi,
        check_camera,
        check_hand_model,
        lambda: check_cuda(probe=cuda_probe or device == "cuda", essential=device == "cuda"),
        check_data_dir,
        lambda: check_port(DEFAULT_PORT if port is None else port, DEFAULT_HOST),
    ]
    if bank:
        checks.append(check_bank)
    return [c() for c in checks]


def format_report(checks: Sequence[Check], headless: bool = False, optional_fixes: bool = True) -> str:
    """One line per check, the verdict, then what to do about each failure (`optional_fixes`: also about
    those that do not block)."""
    width = max(len(c.name) for c in checks)
    lines = [f"{c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks]
    blocking = [c for c in checks if c.blocking]
    optional = [c.name for c in checks if not c.ok and not c.essential]
    what = "play --headless" if headless else "play"
    if blocking:
        lines.append(f"verdict: {what} cannot work here: {', '.join(c.name for c in blocking)} failed")
    else:
        lines.append(f"verdict: {what} can work here"
                     + (f" (without: {', '.join(optional)})" if optional else ""))
    fixes = [c for c in checks if not c.ok and c.fix and (optional_fixes or c.essential)]
    if fixes:
        lines.append("to fix:")
        lines += [f"  {c.name}{'' if c.essential else ' (optional)'}: {c.fix}" for c in fixes]
    return "\n".join(lines) + "\n"


def diagnose_child(role: str, env: Mapping[str, str] | None = None, port: int | None = None) -> str:
    """What the supervisor prints when a child keeps dying at start: the checks that explain such a death
    (`env`: the child's environment; `port`: the engine's)."""
    if role == "frontend":
        checks = [check_display(env), check_qt_plugin(env)]
        tail = "run `textconductor ui` alone to see Qt's own message, or `textconductor play --headless`"
    else:
        # The port only for the live engine: while the spare starts, the live engine holds it.
        checks = [check_data_dir()] + ([check_port(port)] if port is not None and role == "engine" else [])
        tail = "run `textconductor engine --print` alone to see its error"
    report = format_report(checks)
    if not any(c.blocking for c in checks):
        report += f"these checks pass, so the cause is elsewhere: {tail}\n"
    return report
