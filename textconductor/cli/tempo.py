"""`tempo` (characters on the beat of MIDI clock, Ableton Link or a steady BPM) and `notes-out`
(every character as a MIDI note and a `/tc/char` OSC message). Controllers run headless against
an engine; MIDI and Link load inside the handlers, so `textconductor --help` stays instant."""

from __future__ import annotations

import argparse
import logging
import threading

from textconductor.cli.args import DEFAULT_ENGINE, host_port, positive_float, positive_int
from textconductor.errors import UserError

log = logging.getLogger("textconductor.tempo")


def _port_arg(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def _source(a: argparse.Namespace, transport):
    from textconductor.controllers.tempo.sources import LinkSource, MidiClockSource, TimerSource
    if a.midi_clock is not None:
        src = MidiClockSource(_port_arg(a.midi_clock) if a.midi_clock else None, a.midi_api,
                              on_transport=transport)
        ok, reason = src.available()
        if not ok:
            raise UserError(f"MIDI clock unavailable: {reason}")
        return src
    if a.link:
        return LinkSource(a.bpm or 120.0, quantum=a.beats_per_bar)
    if a.bpm is None:
        raise UserError("give a clock: --midi-clock PORT, --link, or --bpm BPM for a steady tempo")
    return TimerSource(a.bpm)


def cmd_tempo(a: argparse.Namespace) -> int:
    from textconductor.cli.controllers import engine_address
    from textconductor.controllers.tempo.driver import TempoDriver
    from textconductor.controllers.tempo.schedule import BarLines, check_chars_per_beat
    from textconductor.protocol.client import EngineConnection
    try:
        check_chars_per_beat(a.chars_per_beat)
        bars = BarLines(a.beats_per_bar, a.bar_window) if a.bars_newline else None
    except ValueError as e:
        raise UserError(str(e)) from None
    host, port = engine_address(a.engine)
    holder: dict = {}
    source = _source(a, lambda event: holder["driver"].transport(event) if a.transport and "driver" in holder else None)
    engine = EngineConnection(host, port, subscribe=bars is not None,
                              on_message=lambda m: holder["driver"].on_message(m) if "driver" in holder else None)
    driver = holder["driver"] = TempoDriver(source, engine, a.chars_per_beat, bars=bars)
    if not engine.wait_for_engine(3.0):
        log.warning("no engine answers at %s:%d yet; sending anyway", host, port)
    source.start()
    driver.start()
    log.info("%s, %g character(s) per beat%s", source.describe(), a.chars_per_beat,
             f", line breaks near bar lines ({a.beats_per_bar}/4)" if bars else "")
    stop = threading.Event()
    try:
        while not stop.wait(a.report):
            tl = source.timeline()
            follower = getattr(source, "follower", None)
            log.info("%s: %s; %d chars, %d skipped%s%s", source.describe(),
                     f"{tl.bpm:.1f} BPM, beat {tl.beat_at(tl.t0):.1f}" if tl else "no beat", driver.advanced,
                     driver.grid.skipped, f", {driver.newlines} line breaks" if bars else "",
                     f", {follower.lost} clock pulses lost in transport" if follower and follower.lost else "")
    except KeyboardInterrupt:
        pass
    finally:
        driver.stop()
        source.stop()
        engine.close()
    return 0


def cmd_notes_out(a: argparse.Namespace) -> int:
    from textconductor.cli.controllers import engine_address
    from textconductor.controllers.midi.ports import MidiUnavailable, list_midi_outputs, open_output, resolve_port
    from textconductor.controllers.tempo.notes import NotesOut
    if a.midi is None and a.virtual is None and a.osc is None:
        raise UserError("nothing to send to: give --midi PORT, --virtual [NAME] and/or --osc HOST:PORT")
    port = None
    try:
        if a.virtual is not None:
            port = open_output(a.midi_api, a.virtual, virtual=True)
        elif a.midi is not None:
            names = list_midi_outputs(a.midi_api)
            name = resolve_port(_port_arg(a.midi) if a.midi else None, names)
            if name is None:
                raise UserError(f"no MIDI output port {a.midi!r} (there are: {', '.join(names) or 'none'})")
            port = open_output(a.midi_api, name)
    except MidiUnavailable as e:
        raise UserError(f"MIDI unavailable: {e}") from None
    except (OSError, RuntimeError) as e:
        raise UserError(f"cannot open the MIDI output: {e}") from None
    host, eport = engine_address(a.engine)
    try:
        notes = NotesOut(host, eport, port, a.osc, channel=a.channel - 1, base=a.base, scale=a.scale,
                         octaves=a.octaves, length_s=a.length)
    except ValueError as e:
        raise UserError(str(e)) from None
    log.info("notes out: engine %s:%d -> %s%s", host, eport, f"MIDI {a.virtual or a.midi}" if port else "",
             f" OSC {a.osc[0]}:{a.osc[1]}" if a.osc else "")
    stop = threading.Event()
    try:
        while not stop.wait(a.report):
            log.info("%d characters, %d notes", notes.chars, notes.notes)
    except KeyboardInterrupt:
        pass
    finally:
        notes.close()
        if port is not None:
            port.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `tempo` and `notes-out`."""
    from textconductor.controllers.tempo.notes import SCALES  # light: numpy and python-osc only
    t = sub.add_parser("tempo", help="characters on the beat: MIDI clock, Ableton Link or a steady BPM",
                       description="Sends /tc/advance to the engine on a grid of N characters per beat, phase-"
                                   "locked to the clock (the engine's own rate pauses while it does, and takes "
                                   "over again 2 s after the beat stops). MIDI Start/Stop resume/pause the engine.")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--midi-clock", nargs="?", const="", metavar="PORT",
                     help="follow MIDI clock (24 ppqn) on this input port (name, part of it, or index; "
                          "no value: the first port)")
    src.add_argument("--link", action="store_true", help="join an Ableton Link session (needs aalink)")
    t.add_argument("--bpm", type=positive_float,
                   help="tempo: alone, a steady clock of this machine; with --link, the session's start tempo")
    t.add_argument("--chars-per-beat", type=positive_float, default=4.0, help="characters per beat (default 4)")
    t.add_argument("--bars-newline", action="store_true", help="line breaks at the first space near each bar line")
    t.add_argument("--beats-per-bar", type=positive_int, default=4, help="beats per bar (default 4; Link's quantum)")
    t.add_argument("--bar-window", type=positive_float, default=1.0,
                   help="beats after a bar line in which a space takes the line break (default 1)")
    t.add_argument("--no-transport", dest="transport", action="store_false",
                   help="ignore MIDI Start/Stop (do not pause and resume the engine)")
    t.add_argument("--midi-api", help="rtmidi API, e.g. UNIX_JACK or LINUX_ALSA (default: mido's default)")
    t.add_argument("--engine", default=DEFAULT_ENGINE, help=f"engine address HOST:PORT (default {DEFAULT_ENGINE})")
    t.add_argument("--report", type=positive_float, default=10.0, help="seconds between status lines")
    t.set_defaults(func=cmd_tempo)

    n = sub.add_parser("notes-out", help="every character as a MIDI note and a /tc/char OSC message",
                       description="Subscribes to the engine; each character becomes a note (pitch from the "
                                   "character on a scale, velocity from its probability; whitespace rests) and "
                                   "/tc/char i tick, s char, f probability, i note, i velocity, s style.")
    n.add_argument("--midi", nargs="?", const="", metavar="PORT", help="send notes to this MIDI output port")
    n.add_argument("--virtual", nargs="?", const="textconductor notes", metavar="NAME",
                   help="open a virtual MIDI output port a synth can connect to (default name 'textconductor notes')")
    n.add_argument("--osc", type=host_port, metavar="HOST:PORT", help="send /tc/char here")
    n.add_argument("--channel", type=int, choices=range(1, 17), default=1, metavar="1..16", help="MIDI channel")
    n.add_argument("--base", type=int, choices=range(0, 128), default=48, metavar="NOTE", help="lowest note (48)")
    n.add_argument("--scale", choices=sorted(SCALES), default="pentatonic")
    n.add_argument("--octaves", type=positive_int, default=3)
    n.add_argument("--length", type=positive_float, default=0.25, help="longest note in seconds (default 0.25)")
    n.add_argument("--midi-api", help="rtmidi API, e.g. UNIX_JACK or LINUX_ALSA")
    n.add_argument("--engine", default=DEFAULT_ENGINE, help=f"engine address HOST:PORT (default {DEFAULT_ENGINE})")
    n.add_argument("--report", type=positive_float, default=10.0, help="seconds between status lines")
    n.set_defaults(func=cmd_notes_out)
