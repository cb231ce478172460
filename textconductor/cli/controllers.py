"""Sub-commands of the controllers (registered into the `textconductor` command by textconductor.cli).

`midi`, `autopilot` and `osc-bridge` run a controller headless against an engine through
`OscSink`. Controller modules are imported inside the handlers, so `textconductor --help` stays
instant and never touches MIDI.
"""

from __future__ import annotations

import argparse
import logging
import queue
import random
import sys
import threading
import time
from typing import TYPE_CHECKING

from textconductor.cli.args import DEFAULT_ENGINE, nonnegative_float, positive_float
from textconductor.errors import UserError
from textconductor.protocol.defaults import AUTOPILOT_IDLE_S, AUTOPILOT_LEG_S

if TYPE_CHECKING:
    from textconductor.controllers.base import Controller, ControlSink
    from textconductor.controllers.osc_sink import OscSink

log = logging.getLogger("textconductor.controllers")

ENGINE_HELP = f"engine address HOST:PORT (default {DEFAULT_ENGINE})"


def _port_arg(text: str) -> str | int:
    """A MIDI port: an index into `--list` if all digits, else a name or part of one."""
    return int(text) if text.isdigit() else text


def _osc_sink():  # the module
    try:
        from textconductor.controllers import osc_sink
    except ImportError as e:  # python-osc missing from a broken install: a sentence, not a traceback
        raise UserError(f"the OSC sink is not available ({e})") from e
    return osc_sink


def engine_address(text: str) -> tuple[str, int]:
    """--engine HOST:PORT as (host, port); UserError saying what is wrong with it."""
    try:
        return _osc_sink().parse_engine_address(text)
    except ValueError as e:
        raise UserError(str(e)) from None


def connect_engine(text: str, wait_s: float = 3.0) -> OscSink:
    """The `OscSink` every headless controller command plays into (one definition for midi, autopilot,
    osc-bridge and hands run). With `wait_s` > 0, waits that long for the engine's hello and says so
    if none came; either way the sink keeps pinging and picks the engine up when it starts."""
    host, port = engine_address(text)
    sink = _osc_sink().OscSink(host, port)
    if wait_s > 0 and not sink.wait_for_engine(wait_s):
        log.warning("no engine answers at %s:%d yet (start it with `textconductor engine`); "
                    "sending anyway and picking it up when it comes", host, port)
    return sink


def _run(controllers: list[Controller], sinks: list[ControlSink], engine: OscSink,
         until: threading.Event | None = None) -> int:
    """Start each controller on its sink, run until Ctrl-C (or `until`), stop them all."""
    from textconductor.controllers.base import start_safely, stop_safely
    started = [c for c, s in zip(controllers, sinks, strict=True) if start_safely(c, s, log)]
    try:
        if not started:
            return 1
        stop = until or threading.Event()
        while not stop.wait(0.5):
            pass
        return 0
    finally:
        for c in reversed(started):
            stop_safely(c, log)
        engine.close()


# ---------------------------------------------------------------------------------------------
def cmd_midi(a: argparse.Namespace) -> int:
    from textconductor.controllers.midi import MappingStore, MidiController, MidiUnavailable, list_midi_inputs
    if a.list:
        try:
            names = list_midi_inputs(a.midi_api)
        except MidiUnavailable as e:
            print(f"MIDI unavailable: {e}")
            return 1
        if not names:
            print("no MIDI input ports (plug a controller in; `textconductor midi` picks it up when it appears)")
        for i, n in enumerate(names):
            print(f"{i}: {n}")
        return 0
    store = MappingStore(a.mapping)
    learned = threading.Event()
    ctl = MidiController(a.port, api=a.midi_api, store=store, on_learned=lambda target, b: learned.set(),
                         feedback=a.feedback)
    ok, reason = ctl.available()
    if not ok:
        log.warning("MIDI unavailable: %s (will keep checking about once a minute)", reason)
    engine = connect_engine(a.engine)
    log.info("MIDI mappings: %s", store.path)
    if a.reset_mapping:
        ctl.reset_on_open = True
    if not a.learn:
        return _run([ctl], [engine], engine)
    from textconductor.controllers.base import start_safely, stop_safely
    start_safely(ctl, engine, log)
    try:
        return _learn_session(ctl, engine, learned)
    finally:
        stop_safely(ctl, log)
        engine.close()


def _learn_session(ctl, engine: OscSink, learned: threading.Event) -> int:
    """Walk the performer through the enabled styles, then temperature, rate and pause, then play."""
    deadline = time.monotonic() + 10
    while ctl.port_name is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if ctl.port_name is None:
        print(f"{ctl.status}; nothing to learn from")
        return 1
    targets = [f"style:{s}" for s in engine.enabled_styles()] + ["temperature", "rate", "pause"]
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in sys.stdin], daemon=True).start()
    print(f"MIDI learn on {ctl.port_name}: move a fader/knob/pad for each target; Enter skips, q + Enter ends.")
    for target in targets:
        learned.clear()
        ctl.arm(target)
        print(f"  {target} ...", end="", flush=True)
        while True:
            if learned.wait(0.1):
                bound = [b for b in ctl.mapping.bindings if b.target == target]
                print(f" {bound[0].source.describe() if bound else 'bound'}")
                break
            try:
                line = lines.get_nowait()
            except queue.Empty:
                continue
            ctl.cancel()
            if line.strip().lower().startswith("q"):
                print(" done")
                targets = []
            else:
                print(" skipped")
            break
        if not targets:
            break
    print(f"saved to {ctl.store.path}; playing (Ctrl-C to stop)")
    stop = threading.Event()
    while not stop.wait(0.5):
        pass
    return 0


def cmd_autopilot(a: argparse.Namespace) -> int:
    from textconductor.controllers.autopilot import Autopilot
    from textconductor.protocol.controls import ActivitySink
    seed = a.seed if a.seed is not None else random.randrange(2**31)
    engine = connect_engine(a.engine)
    pilot = Autopilot(idle_s=a.idle, seed=seed, leg_s=a.leg)
    log.info("autopilot seed %d (repeat this path with --seed %d)", seed, seed)
    controllers: list = [pilot]
    sinks: list = [engine]
    watched = ActivitySink(engine, pilot.input_seen)
    if a.midi is not None:
        from textconductor.controllers.midi import MappingStore, MidiController
        controllers.append(MidiController(_port_arg(a.midi) if a.midi else None, api=a.midi_api,
                                          store=MappingStore(a.mapping)))
        sinks.append(watched)
    if a.bridge is not None:
        from textconductor.controllers.osc_bridge import OscBridge
        controllers.append(OscBridge(port=a.bridge))
        sinks.append(watched)
    return _run(controllers, sinks, engine)


def cmd_osc_bridge(a: argparse.Namespace) -> int:
    from textconductor.controllers.osc_bridge import OscBridge
    bridge = OscBridge(port=a.port, host=a.listen, allow=a.allow, xy_range=a.xy_range, flip_y=a.flip_y,
                       swap_xy=a.swap_xy, wek_puck=a.wek_puck)
    engine = connect_engine(a.engine)
    if a.autopilot is None:
        return _run([bridge], [engine], engine)
    from textconductor.controllers.autopilot import Autopilot
    from textconductor.protocol.controls import ActivitySink
    pilot = Autopilot(idle_s=a.autopilot, seed=a.seed)
    return _run([pilot, bridge], [engine, ActivitySink(engine, pilot.input_seen)], engine)


# ---------------------------------------------------------------------------------------------
def register(sub: argparse._SubParsersAction) -> None:
    """Add this part's sub-commands; import heavy modules only inside their handlers."""
    m = sub.add_parser("midi", help="play the engine from a MIDI controller (headless), list ports, MIDI learn",
                       description="Faders/knobs (control change k) drive the k-th enabled style; program change "
                                   "p recalls preset p+1; learned bindings (--learn, or the UI) win and are saved "
                                   "per controller. Plugging the controller in or out is picked up while running.")
    m.add_argument("--port", type=_port_arg, help="input port: name (or part of it) or index from --list "
                                                  "(default: the first real port)")
    m.add_argument("--engine", default=DEFAULT_ENGINE, help=ENGINE_HELP)
    m.add_argument("--list", action="store_true", help="list MIDI input ports and exit")
    m.add_argument("--learn", action="store_true", help="map the controller now: move one control per target")
    m.add_argument("--reset-mapping", action="store_true", help="forget this controller's learned bindings")
    m.add_argument("--mapping", help="mapping file (default: midi.toml in the user config directory)")
    m.add_argument("--midi-api", help="rtmidi API, e.g. UNIX_JACK or LINUX_ALSA (default: mido's default)")
    m.add_argument("--feedback", nargs="?", const=True, metavar="PORT",
                   help="send the engine's values back to the controller (motorised faders, LED rings): to its own "
                        "output port, or to PORT (default: as the mapping file says, off)")
    m.set_defaults(func=cmd_midi)

    p = sub.add_parser("autopilot", help="wander the puck over the styles when nobody plays (headless)",
                       description="After --idle seconds without input the puck wanders smoothly, visiting every "
                                   "enabled style; input from --midi or --bridge takes over at once.")
    p.add_argument("--engine", default=DEFAULT_ENGINE, help=ENGINE_HELP)
    p.add_argument("--idle", type=nonnegative_float, default=AUTOPILOT_IDLE_S,
                   help=f"seconds without input before wandering (default {AUTOPILOT_IDLE_S:g}, as in the window)")
    p.add_argument("--seed", type=int, help="path seed (default: random, logged)")
    p.add_argument("--leg", type=positive_float, default=AUTOPILOT_LEG_S,
                   help=f"seconds from one style to the next (default {AUTOPILOT_LEG_S:g})")
    p.add_argument("--midi", nargs="?", const="", metavar="PORT",
                   help="also play from MIDI (input pauses the autopilot)")
    p.add_argument("--midi-api", help="rtmidi API for --midi")
    p.add_argument("--mapping", help="MIDI mapping file for --midi")
    p.add_argument("--bridge", type=int, metavar="PORT", help="also run the osc-bridge on PORT (its input pauses it)")
    p.set_defaults(func=cmd_autopilot)

    b = sub.add_parser("osc-bridge", help="map a TouchOSC XY pad (/puck x y) and Wekinator outputs onto the engine",
                       description="Listens for /puck x y, /wek/outputs, /style/<name> and the /tc/ controls and "
                                   "forwards weights and controls to the engine.")
    b.add_argument("--port", type=int, default=57140, help="port to listen on (default 57140)")
    b.add_argument("--listen", default="127.0.0.1", help="address to listen on (0.0.0.0 for a tablet; needs --allow)")
    b.add_argument("--allow", nargs="+", default=[], metavar="HOST", help="hosts allowed to send besides this one")
    b.add_argument("--engine", default=DEFAULT_ENGINE, help=ENGINE_HELP)
    b.add_argument("--xy-range", choices=["unit", "signed"], default="unit",
                   help="XY pad range: unit = 0..1 (TouchOSC default), signed = -1..1")
    b.add_argument("--flip-y", action="store_true", help="the pad's y grows downwards")
    b.add_argument("--swap-xy", action="store_true", help="the pad sends (y, x)")
    b.add_argument("--wek-puck", action="store_true", help="Wekinator's two outputs move the puck instead of weights")
    b.add_argument("--autopilot", type=nonnegative_float, metavar="IDLE",
                   help="wander after IDLE seconds without input")
    b.add_argument("--seed", type=int, default=0, help="autopilot path seed")
    b.set_defaults(func=cmd_osc_bridge)
