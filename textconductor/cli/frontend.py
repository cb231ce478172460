"""Sub-commands of the frontend (registered into the `textconductor` command by cli.py).

`ui` (the instrument, with the real controllers from `window_controllers`) and `screenshots` (PNGs
for the docs, `tools.screenshots`); `bench ui` is registered with the other benchmarks (`cli/bench.py`).
Qt and the controllers are imported only inside the handlers.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from textconductor.cli.args import DEFAULT_ENGINE, nonnegative_float

log = logging.getLogger(__name__)
SCREENSHOT_DIR = Path("docs") / "screenshots"  # relative to where it is run: the checkout


def cmd_ui(a: argparse.Namespace) -> int:
    from textconductor.cli.window_controllers import real_controllers, start_controllers
    from textconductor.frontend.app import run_ui
    midi = a.midi or None  # `--midi` alone: the first real port
    if isinstance(midi, str) and midi.isdigit():
        midi = int(midi)  # an index into the MIDI menu's (and `midi --list`'s) port list

    def start(win) -> None:  # a MainWindow (Qt is imported only by run_ui)
        if a.burn_in is not None:
            win.set_burn_in(a.burn_in)
        if a.audience_url:
            win.crowd.set_url(a.audience_url)  # the QR button (play --audience passes it)
        start_controllers(win, a.fullscreen, midi=midi, midi_on=a.midi is not None, midi_api=a.midi_api,
                          autopilot=a.autopilot, no_autopilot=a.no_autopilot, hands=a.hands, camera=a.camera)
    return run_ui(a.engine, a.listen_port, a.fullscreen, a.talk, a.output_window, controllers=real_controllers(),
                  start_controllers=start)


def cmd_screenshots(a: argparse.Namespace) -> int:
    from textconductor.tools.screenshots import SHOTS, take_screenshots, take_screenshots_on_xvfb
    weights = None
    if a.weights:
        weights = {k: float(v) for k, v in (item.split("=", 1) for item in a.weights)}
    shots = a.shots or SHOTS
    if a.xvfb:  # the run inside the Xvfb logs what it writes
        take_screenshots_on_xvfb(Path(a.out), a.engine, a.checkpoints, a.chars, weights, a.size, shots)
        return 0
    for p in take_screenshots(Path(a.out), a.engine, a.checkpoints, a.chars, weights, size=a.size, shots=shots):
        log.info("wrote %s", p)
    return 0


def burn_in(s: str):  # -> frontend.burn_in.BurnInSettings
    """argparse type for PX or PX/SECONDS (burn-in care in fullscreen)."""
    from textconductor.frontend.burn_in import parse_burn_in
    try:
        return parse_burn_in(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def screen_size(s: str) -> tuple[int, int]:
    """argparse type for WIDTHxHEIGHT."""
    from textconductor.tools.screenshots import parse_size
    try:
        return parse_size(s)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add this part's sub-commands; import heavy modules only inside their handlers."""
    u = sub.add_parser("ui", help="the performer's window (Qt): text, bars, styles, sliders, puck",
                       description="Connects to a running `textconductor engine` over OSC. See docs/frontend.md "
                                   "for keyboard shortcuts.")
    u.add_argument("--engine", default=DEFAULT_ENGINE, metavar="HOST:PORT", help=f"engine address ({DEFAULT_ENGINE})")
    u.add_argument("--listen-port", type=int, default=0, help="UDP port for the engine's output (0 = any free)")
    u.add_argument("--fullscreen", action="store_true",
                   help="gallery mode: no window chrome, hidden cursor, starts generating by itself")
    u.add_argument("--talk", action="store_true",
                   help="a talk: maximised, text sized from the screen for the back row, simplified bars and puck; "
                        "P shows presenter notes")
    u.add_argument("--output-window", action="store_true", help="also open a text-only window (second screen)")
    u.add_argument("--audience-url", metavar="URL", help="the audience room's URL, shown as a QR code (Room: QR)")
    u.add_argument("--burn-in", type=burn_in, metavar="PX[/SECONDS]",
                   help="in fullscreen, move the text up to PX pixels, a step every SECONDS (0: off; "
                        "default: [screen] burn_in_px and burn_in_every_s of frontend.toml, 3/180)")
    c = u.add_argument_group("controllers (also in the MIDI and Controllers menus)")
    c.add_argument("--midi", nargs="?", const="", metavar="NAME|INDEX",
                   help="play from this MIDI input (name, part of one, or index; alone: the first port)")
    c.add_argument("--midi-api", help="rtmidi API, e.g. UNIX_JACK or LINUX_ALSA (default: mido's default)")
    pilot = c.add_mutually_exclusive_group()
    pilot.add_argument("--autopilot", type=nonnegative_float, metavar="SECONDS",
                       help="the puck wanders after SECONDS without input (default: on in --fullscreen, "
                            "after [autopilot] idle_s of frontend.toml)")
    pilot.add_argument("--no-autopilot", action="store_true", help="no autopilot, not even in --fullscreen")
    c.add_argument("--hands", action="store_true", help="hand gestures from a webcam move the puck")
    c.add_argument("--camera", type=int, default=0, metavar="N", help="camera index for --hands (default 0)")
    u.set_defaults(func=cmd_ui)

    s = sub.add_parser("screenshots", help="PNGs of the windows (1920x1080 by default) fed by a real engine")
    s.add_argument("--out", default=str(SCREENSHOT_DIR), help="folder (default docs/screenshots)")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--engine", metavar="HOST:PORT", help="use this running engine")
    src.add_argument("--checkpoints", nargs="+", help="start an engine on these checkpoints")
    s.add_argument("--chars", type=int, default=400, help="characters to generate before each shot")
    s.add_argument("--weights", nargs="*", metavar="STYLE=W", help="raw weights to set first")
    s.add_argument("--size", type=screen_size, default=(1920, 1080), metavar="WxH",
                   help="the screen's size (default 1920x1080)")
    s.add_argument("--xvfb", action="store_true",
                   help="render on a private Xvfb of --size, without a window manager, as `ui` shows the windows "
                        "there (default: Qt's offscreen platform, each window resized to --size)")
    s.add_argument("--shots", nargs="+", metavar="SHOT",
                   help="which PNGs, by name: default output-window talk talk-presenter fullscreen (default: all)")
    s.set_defaults(func=cmd_screenshots)
