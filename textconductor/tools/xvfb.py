"""A private X server (Xvfb) of a given size, for screenshots and tests on a real X display.

Why a real X server and not only Qt's offscreen platform: what goes wrong on a projector or a kiosk
(a window larger than the screen, `showFullScreen()` that does not resize without a window manager)
only happens where an X server places the windows. Xvfb is such a server, without a window manager,
as kiosk machines are often run.

The display number is chosen by Xvfb itself (`-displayfd`), so two runs never race for one. A Qt
process must end before its X server does (Qt exits when its display goes away): run the Qt side in
a subprocess with `env()`, as the screenshot tool and the tests do.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import tempfile
import time

from textconductor.errors import UserError
from textconductor.tools.harness import stop_process

log = logging.getLogger(__name__)


def available() -> bool:
    return shutil.which("Xvfb") is not None


class Xvfb:
    """`with Xvfb(1920, 1080) as x:` an X server on `x.display` until the block ends."""

    def __init__(self, width: int, height: int, depth: int = 24, start_timeout: float = 20.0) -> None:
        self.width, self.height, self.depth = int(width), int(height), int(depth)
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.display = ""
        self._log = tempfile.TemporaryFile()  # not a pipe: a chatty server must never block on a full one

    def __enter__(self) -> Xvfb:
        exe = shutil.which("Xvfb")
        if exe is None:
            raise UserError("Xvfb is not installed (Debian: apt-get install xvfb xauth x11-utils)")
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [exe, "-displayfd", str(write_fd), "-screen", "0", f"{self.width}x{self.height}x{self.depth}",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=self._log)
            os.close(write_fd)
            write_fd = -1
            self.display = ":" + self._read_display(read_fd)
        except BaseException:
            self.stop()
            raise
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        log.info("Xvfb %s at %dx%d", self.display, self.width, self.height)
        return self

    def _read_display(self, fd: int) -> str:
        """The number Xvfb writes once it accepts connections."""
        got, end = b"", time.monotonic() + self.start_timeout
        while not got.endswith(b"\n"):
            left = end - time.monotonic()
            if left <= 0 or (self.proc is not None and self.proc.poll() is not None):
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise UserError(f"Xvfb did not start: {err.strip()[-500:]}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(fd, 64)
                if not chunk:
                    continue
                got += chunk
        return got.decode().strip()

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment for a Qt process on this server (xcb platform, no offscreen override)."""
        env = dict(os.environ if base is None else base)
        env["DISPLAY"] = self.display
        env["QT_QPA_PLATFORM"] = "xcb"
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_process(self.proc)
        self._log.close()

    def __exit__(self, *exc: object) -> None:
        self.stop()
