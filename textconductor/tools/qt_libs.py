"""Which Qt platform plugin the window will load, and which of its shared libraries are missing.

Why this exists: on a fresh Debian 12 PySide6's wheel brings Qt itself, but its xcb plugin links
against system libraries the wheel does not carry (libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1
were missing there). Qt then aborts the window process at once with a message that names no
package, and the supervisor used to restart it forever. Here the plugin is found without importing
Qt (the check must work exactly when Qt cannot load), `ldd` lists what the loader cannot find, and
a small table turns each missing soname into the Debian package that provides it, so the fix is
one exact `apt-get install` line.

Where Qt 6 looks for a platform plugin (measured with PySide6 6.11.3 and QT_DEBUG_PLUGINS=1): the
folders in QT_PLUGIN_PATH (their `platforms/`), then PySide6's own `Qt/plugins/platforms`, then
QT_QPA_PLATFORM_PLUGIN_PATH; the first Qt 6 plugin for the platform wins. OpenCV's GUI build (which
mediapipe pulls in) ships a Qt 5 xcb plugin under `cv2/qt/plugins` and points
QT_QPA_PLATFORM_PLUGIN_PATH there when `cv2` is imported: Qt 6 skips it ("uses incompatible Qt
library"), and so does this resolver, but `qt_child_env` keeps those paths away from the window's
process altogether.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Debian 12 packages for offscreen Qt (the Makefile's tests) and, on top, for a real X display.
OFFSCREEN_PACKAGES = ("libglib2.0-0", "libegl1", "libgl1", "libx11-6", "libdbus-1-3", "libfontconfig1",
                      "libfreetype6", "libxkbcommon0")
XCB_PACKAGES = ("libx11-xcb1", "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1",
                "libxcb-randr0", "libxcb-render-util0", "libxcb-render0", "libxcb-shape0", "libxcb-shm0",
                "libxcb-sync1", "libxcb-util1", "libxcb-xfixes0", "libxcb-xkb1", "libxkbcommon-x11-0")
X_SERVER_PACKAGES = ("xvfb", "xauth", "x11-utils")  # a virtual X display (xwininfo: the window tests)

# soname -> Debian package. Covers what PySide6's platform plugins and Qt libraries link against.
SONAME_PACKAGES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libXext.so.6": "libxext6",
    "libXrender.so.1": "libxrender1",
    "libXi.so.6": "libxi6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libGLdispatch.so.0": "libglvnd0",
    "libGLESv2.so.2": "libgles2",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libharfbuzz.so.0": "libharfbuzz0b",
    "libpng16.so.16": "libpng16-16",
    "libz.so.1": "zlib1g",
    "libexpat.so.1": "libexpat1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libasound.so.2": "libasound2",
    "libjack.so.0": "libjack-jackd2-0",
}
# Libraries the PySide6 wheel itself ships: missing means a broken install, not a Debian package.
WHEEL_LIBRARY = re.compile(r"^lib(Qt6|icu\w+|pyside6|shiboken6)")
PYSIDE_REINSTALL = "pip install --force-reinstall 'PySide6-Essentials!=6.12.0' (into .venv)"

# QT_QPA_PLATFORM value -> plugin file stem (libq<stem>*.so)
PLUGIN_STEM = {"xcb": "xcb", "wayland": "wayland", "wayland-egl": "wayland", "offscreen": "offscreen",
               "minimal": "minimal", "minimalegl": "minimalegl", "vnc": "vnc", "eglfs": "eglfs",
               "linuxfb": "linuxfb", "vkkhrdisplay": "vkkhrdisplay"}
OPENCV_MARK = f"{os.sep}cv2{os.sep}"


@dataclass
class LddResult:
    """What the dynamic loader would do with one file: found sonames (with paths) and missing ones."""

    path: Path
    found: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    error: str = ""  # ldd itself failed (not a library, no ldd): the check cannot say


def parse_ldd(text: str) -> tuple[dict[str, str], list[str]]:
    """ldd's output -> ({soname: path}, [missing sonames]) in the order ldd printed them."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for line in text.splitlines():
        name, arrow, rest = line.strip().partition("=>")
        name, rest = name.strip(), rest.strip()
        if not arrow or not name:
            continue  # linux-vdso.so.1 (0x...), /lib64/ld-linux-x86-64.so.2 (0x...), errors
        if rest.startswith("not found"):
            if name not in missing:
                missing.append(name)
        else:
            found[name] = rest.split(" (")[0]
    return found, missing


def ldd(path: Path, env: Mapping[str, str] | None = None) -> LddResult:
    """Run ldd on `path` in `env` (LD_LIBRARY_PATH counts, as it will for the window's process)."""
    exe = shutil.which("ldd")
    if exe is None:
        return LddResult(path, error="ldd not found (Debian: libc-bin)")
    try:
        r = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=30,
                           env=dict(env) if env is not None else None)
    except (OSError, subprocess.TimeoutExpired) as e:
        return LddResult(path, error=f"ldd failed: {e}")
    found, missing = parse_ldd(r.stdout)
    if r.returncode != 0 and not found and not missing:
        return LddResult(path, error=(r.stderr or r.stdout).strip().splitlines()[-1] if (r.stderr or r.stdout)
                         else f"ldd exited with status {r.returncode}")
    return LddResult(path, found, missing)


def debian_package(soname: str) -> str:
    """The Debian package that ships `soname`: from the table, else by Debian's naming rule
    (library name + soname version, a hyphen between two digits), which fits most libraries."""
    if soname in SONAME_PACKAGES:
        return SONAME_PACKAGES[soname]
    m = re.match(r"^(lib.+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, version = m.group(1).lower(), m.group(2)
    return f"{name}{'-' if name[-1].isdigit() else ''}{version}"


def apt_line(packages: Iterable[str]) -> str:
    """The exact install command for `packages` (sudo unless already root)."""
    sudo = "" if hasattr(os, "geteuid") and os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get install {' '.join(dict.fromkeys(packages))}"


def pyside_dir() -> Path | None:
    """PySide6's package folder, found without importing it (importing Qt is what may fail)."""
    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_platform(env: Mapping[str, str]) -> str:
    """The platform Qt will open: QT_QPA_PLATFORM (first of a ;-list, without options), else what Qt 6
    picks on Linux: Wayland in a Wayland session, xcb otherwise."""
    want = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0]
    if want:
        return want
    if env.get("XDG_SESSION_TYPE") == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def plugin_dirs(env: Mapping[str, str], pyside: Path | None) -> list[Path]:
    """The `platforms` folders in the order Qt 6 searches them (see the module docstring)."""
    dirs = [Path(p) / "platforms" for p in env.get("QT_PLUGIN_PATH", "").split(os.pathsep) if p]
    if pyside is not None:
        dirs.append(pyside / "Qt" / "plugins" / "platforms")
    dirs += [Path(p) for p in env.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(os.pathsep) if p]
    return dirs


def is_qt5_plugin(result: LddResult) -> bool:
    """A Qt 5 plugin (OpenCV's): Qt 6 refuses it and moves on to the next folder."""
    return any(name.startswith("libQt5") for name in [*result.found, *result.missing])


@dataclass
class PluginReport:
    """The plugin Qt will load for a platform, and what its libraries lack."""

    platform: str
    plugin: Path | None
    libs: LddResult | None
    skipped: list[str] = field(default_factory=list)  # plugins passed over, and why
    pyside_version: str = ""

    @property
    def missing(self) -> list[str]:
        return list(self.libs.missing) if self.libs else []

    def packages(self) -> list[str]:
        return [debian_package(s) for s in self.missing if not WHEEL_LIBRARY.match(s)]

    def wheel_missing(self) -> list[str]:
        return [s for s in self.missing if WHEEL_LIBRARY.match(s)]


def find_plugin(platform: str, env: Mapping[str, str], pyside: Path | None = None) -> PluginReport:
    """Resolve `platform`'s plugin as Qt 6 would, and ldd it together with QtWidgets (the window's module).

    `pyside`: PySide6's folder (default: the installed one); tests point it at a fake tree."""
    from importlib import metadata
    pyside = pyside if pyside is not None else pyside_dir()
    version = ""
    for dist in ("PySide6-Essentials", "PySide6"):
        try:
            version = metadata.version(dist)
            break
        except metadata.PackageNotFoundError:
            continue
    stem = PLUGIN_STEM.get(platform, platform)
    skipped: list[str] = []
    for folder in plugin_dirs(env, pyside):
        for plugin in sorted(folder.glob(f"libq{stem}*.so")) if folder.is_dir() else []:
            libs = ldd(plugin, env)
            if is_qt5_plugin(libs):
                who = "OpenCV's " if OPENCV_MARK in str(plugin) else ""
                skipped.append(f"{plugin} ({who}Qt 5 plugin, which Qt 6 skips)")
                continue
            if pyside is not None:
                widgets = next(iter(sorted(pyside.glob("QtWidgets*.so"))), None)
                if widgets is not None:
                    extra = ldd(widgets, env)
                    libs.found.update(extra.found)
                    libs.missing += [m for m in extra.missing if m not in libs.missing]
            return PluginReport(platform, plugin, libs, skipped, version)
    return PluginReport(platform, None, None, skipped, version)


def is_opencv_path(path: str) -> bool:
    return OPENCV_MARK in path or path.rstrip(os.sep).endswith(f"{os.sep}cv2")


def qt_child_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for a Qt process, without OpenCV's Qt folders: importing cv2 points QT_QPA_PLATFORM_PLUGIN_PATH
    (and QT_QPA_FONTDIR) at `cv2/qt`, and a child started after that would inherit them."""
    out = dict(env)
    for key in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        if key not in out:
            continue
        kept = [p for p in out[key].split(os.pathsep) if p and not is_opencv_path(p)]
        if kept:
            out[key] = os.pathsep.join(kept)
        else:
            del out[key]
    return out
