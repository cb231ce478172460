"""`textconductor doctor` and the checks `play` runs first: each check on a built failing case, the
report's format and exit status, and `play` refusing with the diagnosis before it starts anything."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import MISSING_SONAME, fake_qt_plugin, free_port
from textconductor.tools import doctor, qt_libs

REPO = Path(__file__).resolve().parents[1]

# `ldd .../PySide6/Qt/plugins/platforms/libqxcb.so` on a fresh Debian 12 with Xvfb (abridged; ldd lists a
# missing library once per library that needs it).
FRESH_DEBIAN_LDD = """\
\tlinux-vdso.so.1 (0x00007f277879b000)
\tlibQt6XcbQpa.so.6 => /v/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f27786cd000)
\tlibQt6Gui.so.6 => /v/PySide6/Qt/plugins/platforms/../../lib/libQt6Gui.so.6 (0x00007f2777a00000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f277863d000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f27785ea000)
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f27785e2000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => not found
\tlibxcb-icccm.so.4 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f27787a2000)
"""


def quiet_env(**extra: str) -> dict[str, str]:
    """This process's environment without any display or Qt platform setting, plus `extra`."""
    drop = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QT_PLUGIN_PATH", "QT_QPA_PLATFORM_PLUGIN_PATH")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


# -- the Qt library check ----------------------------------------------------------------------------

def test_fresh_debian_ldd_output_names_the_three_packages():
    found, missing = qt_libs.parse_ldd(FRESH_DEBIAN_LDD)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert found["libGL.so.1"] == "/lib/x86_64-linux-gnu/libGL.so.1" and "linux-vdso.so.1" not in found
    line = qt_libs.apt_line(qt_libs.debian_package(s) for s in missing)
    assert line.endswith("apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1")


def test_every_window_package_is_in_the_soname_table():
    """The table covers the whole xcb list of NOTES.md and the offscreen list; unknown names follow Debian's rule."""
    assert set(qt_libs.XCB_PACKAGES) | set(qt_libs.OFFSCREEN_PACKAGES) <= set(qt_libs.SONAME_PACKAGES.values())
    assert qt_libs.debian_package("libfoo-bar.so.3") == "libfoo-bar3"
    assert qt_libs.debian_package("libfoo2.so.1") == "libfoo2-1"  # a hyphen between two digits


def test_a_plugin_missing_a_library_fails_with_the_apt_line(tmp_path):
    """A real ldd run on a real plugin whose dependency no machine has (no root needed)."""
    plugins = fake_qt_plugin(tmp_path)
    env = quiet_env(QT_QPA_PLATFORM="offscreen", QT_PLUGIN_PATH=str(plugins))
    check = doctor.check_qt_plugin(env)
    assert not check.ok and check.essential and check.blocking
    assert str(plugins / "platforms" / "libqoffscreen.so") in check.detail
    assert f"missing {MISSING_SONAME}" in check.detail  # only that one: Qt itself is found through Qt/lib
    assert check.fix.endswith("apt-get install libtcmissing0")
    assert doctor.check_qt_plugin(quiet_env(QT_QPA_PLATFORM="offscreen")).ok  # PySide6's own plugin is fine
    headless = doctor.check_qt_plugin(env, essential=False)
    assert not headless.ok and not headless.blocking and headless.status == "warn"


def test_a_missing_qt_library_of_the_wheel_says_reinstall_pyside(tmp_path):
    plugins = fake_qt_plugin(tmp_path, victim="libQt6Core.so.6", missing="libQt6Gone.so.6")
    check = doctor.check_qt_plugin(quiet_env(QT_QPA_PLATFORM="offscreen", QT_PLUGIN_PATH=str(plugins)))
    assert not check.ok and "libQt6Gone.so.6" in check.detail
    assert "apt-get" not in check.fix and "PySide6-Essentials" in check.fix


def test_the_plugin_checked_is_the_one_qt_loads():
    from PySide6.QtCore import QLibraryInfo
    rep = qt_libs.find_plugin("xcb", quiet_env())
    assert rep.plugin is not None and rep.plugin.name == "libqxcb.so"
    assert rep.plugin.parent.parent == Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    assert rep.libs is not None and "libQt6Widgets.so.6" in rep.libs.found  # QtWidgets' libraries too


def test_opencvs_qt5_plugin_is_passed_over_and_kept_from_the_window():
    """mediapipe's OpenCV ships a Qt 5 xcb plugin and points Qt at it when imported."""
    import importlib.util
    spec = importlib.util.find_spec("cv2")
    cv2_plugins = Path(next(iter(spec.submodule_search_locations))) / "qt" / "plugins" if spec else None
    if cv2_plugins is None or not (cv2_plugins / "platforms" / "libqxcb.so").exists():
        pytest.skip("no GUI OpenCV with its own Qt plugins here")
    env = quiet_env(QT_QPA_PLATFORM="xcb", QT_PLUGIN_PATH=str(cv2_plugins),
                    QT_QPA_PLATFORM_PLUGIN_PATH=str(cv2_plugins))
    rep = qt_libs.find_plugin("xcb", env)
    assert rep.plugin == qt_libs.pyside_dir() / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    assert any("OpenCV's Qt 5 plugin" in s for s in rep.skipped)
    child = qt_libs.qt_child_env({**env, "QT_QPA_FONTDIR": str(cv2_plugins.parent / "fonts"),
                                  "QT_PLUGIN_PATH": f"{cv2_plugins}{os.pathsep}/opt/mine"})
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in child and "QT_QPA_FONTDIR" not in child
    assert child["QT_PLUGIN_PATH"] == "/opt/mine" and child["QT_QPA_PLATFORM"] == "xcb"


# -- display, data directory, port, CUDA --------------------------------------------------------------

def _listening_x_socket() -> tuple[socket.socket, int]:
    """An abstract Unix socket where an X server for display :N would listen (nothing on disk)."""
    for n in range(900, 1000):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.bind(f"\0/tmp/.X11-unix/X{n}")
        except OSError:
            s.close()
            continue
        if os.path.exists(f"/tmp/.X11-unix/X{n}"):
            s.close()
            continue
        s.listen(1)
        return s, n
    pytest.skip("no free display number")


def test_display_check():
    assert doctor.check_display(quiet_env(QT_QPA_PLATFORM="offscreen")).ok
    none = doctor.check_display(quiet_env())
    assert none.blocking and "DISPLAY is not set" in none.detail and "--headless" in none.fix
    assert not doctor.check_display(quiet_env(), essential=False).blocking
    server, n = _listening_x_socket()
    with server:
        live = doctor.check_display(quiet_env(DISPLAY=f":{n}"))
        assert live.ok and "the X server answers" in live.detail
    dead = doctor.check_display(quiet_env(DISPLAY=f":{n}.0"))
    assert dead.blocking and "no X server answers" in dead.detail and f"Xvfb :{n}" in dead.fix


def test_an_unwritable_data_dir_blocks(tmp_path):
    (tmp_path / "file").write_text("x")
    bad = doctor.check_data_dir(tmp_path / "file" / "data")  # a folder inside a file: even root cannot
    assert bad.blocking and "not writable" in bad.detail and "TEXTCONDUCTOR_DATA" in bad.fix
    good = doctor.check_data_dir(tmp_path / "new" / "data")
    assert good.ok and (tmp_path / "new" / "data").is_dir() and not list((tmp_path / "new" / "data").iterdir())


def test_a_busy_port_blocks_and_names_its_owner():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        busy = doctor.check_port(port)
        assert busy.blocking and f"UDP 127.0.0.1:{port} is in use" in busy.detail
        assert f"pid {os.getpid()}" in busy.detail and f"--port {port + 1}" in busy.fix
    assert doctor.check_port(port).ok


def test_cuda_is_informational_unless_asked_for(monkeypatch):
    monkeypatch.setattr(doctor, "_dist_version", lambda *names: "2.13.0+cpu")
    info = doctor.check_cuda()
    assert not info.ok and not info.blocking and "CPU build" in info.detail
    assert doctor.check_cuda(essential=True).blocking


def test_checks_import_no_qt_torch_or_opencv(tmp_path):
    """The checks must work exactly when Qt cannot load, stay quick, and not repoint Qt's plugin path (cv2)."""
    code = ("import sys; from textconductor.tools.doctor import run_checks; run_checks(); "
            "print(sorted(m for m in ('PySide6', 'torch', 'cv2', 'mediapipe') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO,
                       env=quiet_env(TEXTCONDUCTOR_DATA=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# -- the command ----------------------------------------------------------------------------------

LINE = re.compile(r"^(ok|FAIL|warn) {2,}(\S+) {2,}\S")
NAMES = ["display", "qt-plugin", "midi", "camera", "hand-model", "cuda", "data-dir", "engine-port", "bank"]


def run_doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "textconductor", "doctor", "--port", str(free_port()), *args],
                          capture_output=True, text=True, timeout=120, cwd=REPO, env=env)


def test_doctor_prints_one_line_per_check_and_a_verdict(tmp_path):
    r = run_doctor(quiet_env(QT_QPA_PLATFORM="offscreen", TEXTCONDUCTOR_DATA=str(tmp_path)))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert [LINE.match(ln).group(2) for ln in lines[:len(NAMES)]] == NAMES, r.stdout
    assert lines[len(NAMES)].startswith("verdict: play can work here")
    assert all(ln.startswith("  ") for ln in lines[len(NAMES) + 2:])  # "to fix:" and one line per fix
    assert r.stderr == ""  # ALSA's and JACK's own complaints stay inside the MIDI probe


def test_doctor_exits_1_when_play_cannot_work(tmp_path):
    env = quiet_env(TEXTCONDUCTOR_DATA=str(tmp_path))  # no display at all
    r = run_doctor(env)
    assert r.returncode == 1
    assert re.search(r"^FAIL +display +no display", r.stdout, re.M)
    assert "verdict: play cannot work here: display failed" in r.stdout
    assert re.search(r"^ {2}display: .*--headless", r.stdout, re.M)
    headless = run_doctor(env, "--headless")
    assert headless.returncode == 0 and "verdict: play --headless can work here" in headless.stdout
    assert re.search(r"^warn +display", headless.stdout, re.M)


def test_play_refuses_with_the_diagnosis_when_qt_cannot_load(tmp_path):
    plugins = fake_qt_plugin(tmp_path)
    env = quiet_env(QT_QPA_PLATFORM="offscreen", QT_PLUGIN_PATH=str(plugins), TEXTCONDUCTOR_DATA=str(tmp_path))
    r = subprocess.run([sys.executable, "-m", "textconductor", "play", "--port", str(free_port()), "--no-record"],
                       capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert r.returncode == 1
    assert "textconductor play: cannot start" in r.stderr
    assert re.search(rf"^FAIL +qt-plugin +.*missing {MISSING_SONAME}", r.stderr, re.M)
    assert re.search(r"^ {2}qt-plugin: .*apt-get install libtcmissing0$", r.stderr, re.M)
    assert "(optional)" not in r.stderr  # only what blocks is worth a fix line here
    assert "started engine" not in r.stderr  # refused before anything ran


def test_play_headless_refuses_a_busy_port(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "textconductor", "play", "--headless", "--port", str(port)],
                           capture_output=True, text=True, timeout=120, cwd=REPO,
                           env=quiet_env(TEXTCONDUCTOR_DATA=str(tmp_path)))
    assert r.returncode == 1
    assert re.search(rf"^FAIL +engine-port +UDP 127.0.0.1:{port} is in use by pid {os.getpid()}", r.stderr, re.M)
    assert "verdict: play --headless cannot work here: engine-port failed" in r.stderr


def test_ci_and_readme_install_what_doctor_asks_for():
    """One list of Debian packages: doctor's table, .ci/run's install line and the README's first section."""
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text().split("\n## ")[1]  # the first section after the title
    window = (*qt_libs.OFFSCREEN_PACKAGES, *qt_libs.XCB_PACKAGES)
    ci_packages = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(re.findall(r'^[A-Z_]+="([^"]*)"', ci, re.M))))
    assert set(window) | set(qt_libs.X_SERVER_PACKAGES) <= ci_packages
    assert ci.rstrip().endswith("\nmake test")  # then exactly the README's test command, which holds the xcb tests
    readme_words = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", readme))
    assert set(window) <= readme_words and "textconductor doctor" in readme
