"""Sub-commands of the hand-gesture controller (registered into the `textconductor` command by cli.py).

`textconductor hands setup | check | run | bench-filter`. Only argparse is imported here; mediapipe,
OpenCV and numpy load inside the handlers, so `textconductor --help` stays instant.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time

from textconductor.cli.args import DEFAULT_ENGINE
from textconductor.cli.controllers import ENGINE_HELP

log = logging.getLogger(__name__)


def _add_filter_args(p: argparse.ArgumentParser) -> None:
    from textconductor.controllers.hands.one_euro import OneEuroParams

    d = OneEuroParams()
    p.add_argument("--min-cutoff", type=float, default=d.min_cutoff,
                   help=f"One Euro cutoff at rest, Hz: lower = less jitter when still (default {d.min_cutoff})")
    p.add_argument("--beta", type=float, default=d.beta,
                   help=f"One Euro speed coefficient: higher = less lag when moving (default {d.beta})")
    p.add_argument("--d-cutoff", type=float, default=d.d_cutoff, help=f"speed-estimate cutoff, Hz ({d.d_cutoff})")


def cmd_setup(a: argparse.Namespace) -> int:
    from textconductor.controllers.hands.model import setup_model

    path, what = setup_model(wheel=a.wheel, task=a.task, out=a.out, force=a.force)
    print(f"hand model: {path} ({what})")
    if a.verify:
        from textconductor.controllers.hands.tracking import MediaPipeHandTracker

        with MediaPipeHandTracker(path, mode="image"):
            pass
        print("hand model loads in MediaPipe HandLandmarker: ok")
    return 0


def cmd_check(a: argparse.Namespace) -> int:
    from textconductor.tools.bench_hands import check_images

    results = check_images(a.images, model=a.model, repeats=a.repeats)
    print(f"{'image':28s} {'hand':5s} {'gesture':8s} {'side':6s} {'puck':>15s} {'image ms':>9s} {'video ms':>9s}")
    for r in results:
        puck = f"({r.puck[0]:+.2f}, {r.puck[1]:+.2f})" if r.puck else "-"
        print(f"{r.path[-28:]:28s} {'yes' if r.found else 'no':5s} {r.gesture:8s} {r.handedness:6s} {puck:>15s} "
              f"{r.image_ms:9.1f} {r.video_ms:9.1f}")
    found = sum(r.found for r in results)
    print(f"hands found: {found} of {len(results)}; median ms/frame: image mode "
          f"{statistics.median(r.image_ms for r in results):.1f}, video (tracking) mode "
          f"{statistics.median(r.video_ms for r in results):.1f}")
    return 0


def cmd_bench_filter(a: argparse.Namespace) -> int:
    from textconductor.controllers.hands.one_euro import OneEuroParams
    from textconductor.tools.bench_hands import filter_figures

    chosen = OneEuroParams(a.min_cutoff, a.beta, a.d_cutoff)
    rows = [("raw (no filter)", None), (f"one euro min_cutoff={a.min_cutoff} beta={a.beta}", chosen),
            (f"fixed low-pass {a.min_cutoff} Hz (beta=0)", OneEuroParams(a.min_cutoff, 0.0, a.d_cutoff))]
    print(f"synthetic palm trace: {a.fps:g} frames/s, noise sigma {a.noise:g} (normalised units), seed {a.seed}")
    print(f"{'filter':44s} {'jitter':>10s} {'reduction':>10s} {'lag ms':>7s}")
    for f in filter_figures(rows, fps=a.fps, noise=a.noise, seed=a.seed):
        print(f"{f.label:44s} {f.jitter:10.5f} {f.reduction:9.1f}x {f.lag_ms:7.0f}")
    return 0


def cmd_run(a: argparse.Namespace) -> int:
    from dataclasses import replace

    from textconductor.cli.controllers import connect_engine, engine_address
    from textconductor.controllers.hands import HandController, HandSettings
    from textconductor.controllers.hands.leap import LEAP_SETTINGS, LeapController
    from textconductor.controllers.hands.one_euro import OneEuroParams
    from textconductor.errors import UserError

    host, port = engine_address(a.engine)  # a bad address is said before any camera or model is touched
    try:
        settings = HandSettings(grab=a.grab, mirror=not a.no_mirror, region=a.region,
                                pause_resume=not a.no_pause,
                                filter=OneEuroParams(a.min_cutoff, a.beta, a.d_cutoff))
    except ValueError as e:
        raise UserError(str(e)) from e
    if a.leap:
        # The Leap box already spans the puck and needs no mirroring; keep the performer's other choices.
        ctl = LeapController(settings=replace(LEAP_SETTINGS, grab=settings.grab, pause_resume=settings.pause_resume,
                                              filter=settings.filter))
    else:
        ctl = HandController(settings, camera=a.camera, model=a.model)
    ok, why = ctl.available()
    if not ok:
        raise UserError(why)
    sink = connect_engine(a.engine, wait_s=0.0)  # no wait: the sink picks the engine up whenever it answers
    try:
        ctl.start(sink)
        log.info("hand controller running, engine %s:%d; Ctrl-C to stop", host, port)
        last = ""
        deadline = time.monotonic() + a.seconds if a.seconds else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.5)
            ov = ctl.overlay()
            line = f"{ov.status}: gesture {ov.gesture}, grabbed {ov.grabbed}, paused {ov.paused}"
            if ov.puck:
                line += f", puck ({ov.puck[0]:+.2f}, {ov.puck[1]:+.2f})"
            if line != last:
                log.info("%s (%.0f frames/s, %.1f ms/frame)", line, ov.fps, ov.latency_ms)
                last = line
            if ov.status.startswith(("unavailable", "error")):
                print(f"textconductor hands run: {ov.status}", file=sys.stderr)
                return 1
    finally:
        ctl.stop()
        sink.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this part's sub-commands; import heavy modules only inside their handlers."""
    h = sub.add_parser("hands", help="hand gestures: webcam (MediaPipe) or Leap Motion moves the puck",
                       description="Hand gestures move the puck: the palm is the cursor, a pinch grabs the "
                                   "puck, a fist pauses, an open hand resumes. Run `hands setup` once (needs "
                                   "PyPI), then everything works offline.")
    hs = h.add_subparsers(dest="hands_command", required=True, metavar="ACTION")

    s = hs.add_parser("setup", help="one-time: fetch and cache the hand-landmark model",
                      description="Downloads the mediapipe 0.10.21 wheel with pip (no install) and builds "
                                  "hand_landmarker.task from its two hand models into the user data folder. "
                                  "Offline: copy the wheel over and pass --wheel, or pass an existing --task.")
    src = s.add_mutually_exclusive_group()
    src.add_argument("--wheel", help="build from this mediapipe 0.10.21 wheel file instead of downloading")
    src.add_argument("--task", help="install this HandLandmarker .task file instead")
    s.add_argument("--out", help="where to put the model (default: the user data folder)")
    s.add_argument("--force", action="store_true", help="rebuild even if the model is already there")
    s.add_argument("--verify", action="store_true", help="also load it in MediaPipe (needs the hands extra)")
    s.set_defaults(func=cmd_setup)

    c = hs.add_parser("check", help="landmarks, gesture, puck and inference time for image files")
    c.add_argument("images", nargs="+")
    c.add_argument("--model", help="a .task file (default: the one `hands setup` cached)")
    c.add_argument("--repeats", type=int, default=5, help="timed runs per image and mode (default 5)")
    c.set_defaults(func=cmd_check)

    r = hs.add_parser("run", help="headless: webcam (or Leap) gestures drive an engine over OSC")
    r.add_argument("--camera", type=int, default=0, help="webcam index (default 0)")
    r.add_argument("--engine", default=DEFAULT_ENGINE, help=ENGINE_HELP)
    r.add_argument("--model", help="a .task file (default: the one `hands setup` cached)")
    r.add_argument("--leap", action="store_true", help="use a Leap Motion (needs Ultraleap's `leap` bindings)")
    r.add_argument("--grab", choices=["pinch", "always"], default="pinch",
                   help="pinch: the puck follows the palm only while pinching (default); always: it always does")
    r.add_argument("--region", type=float, default=0.6, help="central fraction of the frame spanning the puck")
    r.add_argument("--no-mirror", action="store_true", help="do not mirror left-right")
    r.add_argument("--no-pause", action="store_true", help="fist/open hand do not pause/resume")
    r.add_argument("--seconds", type=float, help="stop after this long (default: until Ctrl-C)")
    _add_filter_args(r)
    r.set_defaults(func=cmd_run)

    b = hs.add_parser("bench-filter", help="One Euro filter: jitter reduction and lag on a synthetic trace")
    b.add_argument("--fps", type=float, default=30.0)
    b.add_argument("--noise", type=float, default=0.003, help="noise sigma, normalised units (default 0.003)")
    b.add_argument("--seed", type=int, default=0)
    _add_filter_args(b)
    b.set_defaults(func=cmd_bench_filter)
