"""Where the beat comes from: a timer, MIDI clock on a port, or an Ableton Link session.

Each source is a thin shell that answers `timeline()` (schedule.Timeline, or None while there is no
beat) and counts `epoch` up when the position jumps (MIDI Start, Song Position), so the driver puts
its grid where the beat now is. Imports of rtmidi and aalink happen inside `start`, so importing
this module costs nothing and a machine without them still runs the others.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from textconductor.controllers.midi.ports import MidiUnavailable, list_midi_inputs, midi_available, resolve_port
from textconductor.controllers.tempo.schedule import BPM_RANGE, ClockFollower, PortStamps, Timeline
from textconductor.errors import UserError

log = logging.getLogger(__name__)

# MIDI real-time status bytes
CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2


def check_bpm(bpm: float) -> float:
    lo, hi = BPM_RANGE
    if not lo <= bpm <= hi:
        raise UserError(f"tempo must be {lo:g}..{hi:g} BPM, got {bpm:g}")
    return float(bpm)


class TimerSource:
    """A steady tempo from this machine's clock: for playing in time without a clock source, and
    the reference the benchmark compares the others with."""

    name = "timer"

    def __init__(self, bpm: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.bpm = check_bpm(bpm)
        self.clock = clock
        self.epoch = 0
        self._t0: float | None = None

    def start(self) -> None:
        self._t0 = self.clock()

    def timeline(self) -> Timeline | None:
        return None if self._t0 is None else Timeline(self._t0, 0.0, self.bpm)

    def stop(self) -> None:
        self._t0 = None

    def describe(self) -> str:
        return f"timer at {self.bpm:g} BPM"


class MidiClockSource:
    """MIDI clock from an input port, read by our own thread (rtmidi only queues; see ports._RtInput
    for why no Python runs on rtmidi's thread). The port is looked for once a second until it is
    there. `on_transport("start" | "stop" | "continue")` is called for the transport messages.

    A pulse's time is the port's own time stamp in our clock (schedule.PortStamps), not when the
    poll (every POLL_S) found it; the follower's line through the last two beats of pulses smooths
    what jitter the transport adds."""

    name = "MIDI clock"
    POLL_S = 0.002

    def __init__(self, port: str | int | None, api: str | None = None,
                 on_transport: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic):
        self.want, self.api = port, api
        self.on_transport = on_transport
        self.clock = clock
        self.follower = ClockFollower()
        self.epoch = 0
        self.port_name: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rt: Any = None
        self._stamps = PortStamps()

    def available(self) -> tuple[bool, str]:
        return midi_available(self.api)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="midi-clock", daemon=True)
        self._thread.start()

    def timeline(self) -> Timeline | None:
        with self._lock:
            return self.follower.timeline()

    def describe(self) -> str:
        return f"MIDI clock on {self.port_name}" if self.port_name else f"MIDI clock (waiting for {self.want!r})"

    def _open(self) -> bool:
        try:
            names = list_midi_inputs(self.api)
        except MidiUnavailable as e:  # said by available() before start; then retried once a second
            log.debug("MIDI unavailable: %s", e)
            return False
        name = resolve_port(self.want, names)
        if name is None:
            return False
        import rtmidi
        rt = rtmidi.MidiIn(getattr(rtmidi, f"API_{self.api}") if self.api else rtmidi.API_UNSPECIFIED,
                           "textconductor tempo")
        ports = rt.get_ports()
        if name not in ports:
            rt.delete()
            return False
        rt.open_port(ports.index(name), "textconductor clock in")
        rt.ignore_types(sysex=True, timing=False, active_sense=True)  # the clock is what we want here
        self._rt, self.port_name = rt, name
        log.info("following MIDI clock on %s", name)
        return True

    def _run(self) -> None:
        said = False
        while not self._stop.is_set():
            if self._rt is None:
                try:
                    opened = self._open()
                except (ImportError, OSError, RuntimeError, AttributeError) as e:  # rtmidi's SystemError is an OSError
                    (log.debug if said else log.warning)("cannot open MIDI clock port %r: %s", self.want, e)
                    said, opened = True, False
                if not opened:
                    if not said:
                        log.info("no MIDI port %r yet; looking once a second", self.want)
                        said = True
                    self._stop.wait(1.0)
                continue
            got = self._rt.get_message()
            if got is None:
                time.sleep(self.POLL_S)
                continue
            try:
                self.handle(got[0], self._stamps.stamp(got[1], self.clock()))
            except Exception as e:  # noqa: BLE001 - a bad byte or a failing callback must not end the clock
                log.debug("MIDI clock message %r: %s", got[0], e)

    def handle(self, data: list[int], t: float) -> None:
        """One MIDI message (its bytes) that arrived at `t`."""
        if not data:
            return
        status, event = data[0], None
        with self._lock:
            f = self.follower
            if status == CLOCK:
                f.pulse(t)
            elif status == START:
                f.start()
                self.epoch += 1
                event = "start"
            elif status == CONTINUE:
                f.resume()
                self.epoch += 1
                event = "continue"
            elif status == STOP:
                f.stop()
                event = "stop"
            elif status == SONG_POSITION and len(data) == 3:
                f.song_position(data[1] | (data[2] << 7))
                self.epoch += 1
        if event and self.on_transport is not None:
            self.on_transport(event)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._rt is not None:
            try:
                self._rt.close_port()
                self._rt.delete()
            except Exception as e:  # noqa: BLE001 - its server may be gone already
                log.debug("closing the clock port: %s", e)
            self._rt = None


class LinkSource:
    """An Ableton Link session through aalink (optional: `pip install aalink`). Link's own thread
    keeps the session; an asyncio loop on our thread holds the Link object (aalink needs one).
    `timeline()` reads the beat and tempo now, so it follows tempo changes from any peer.

    Link finds peers by multicast on every interface: run it on a network you mean to play on."""

    name = "Ableton Link"

    def __init__(self, bpm: float = 120.0, quantum: int = 4) -> None:
        self.bpm, self.quantum = check_bpm(bpm), quantum
        self.epoch = 0
        self.link: Any = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def available(self) -> tuple[bool, str]:
        try:
            import aalink  # noqa: F401
        except ImportError as e:
            return False, f"Ableton Link needs aalink ({e}); pip install 'textconductor[tempo]'"
        return True, ""

    def start(self) -> None:
        ok, reason = self.available()
        if not ok:
            raise UserError(reason)
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="link", daemon=True)
        self._thread.start()
        self._ready.wait(5)
        if self._error is not None:
            raise UserError(f"Ableton Link could not start: {self._error}")

    async def _main(self) -> None:
        try:
            import aalink
            self.link = aalink.Link(self.bpm)
            self.link.quantum = self.quantum
            self.link.enabled = True
        except Exception as e:  # noqa: BLE001 - reported by start() in words
            self._error = e
            self._ready.set()
            return
        self._ready.set()
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
        self.link.enabled = False

    def timeline(self) -> Timeline | None:
        link = self.link
        if link is None:
            return None
        t, beat, bpm = time.monotonic(), float(link.beat), float(link.tempo)
        if not BPM_RANGE[0] <= bpm <= BPM_RANGE[1]:
            return None
        return Timeline(t, beat, bpm)

    @property
    def peers(self) -> int:
        return int(self.link.num_peers) if self.link is not None else 0

    def describe(self) -> str:
        return f"Ableton Link ({self.peers} peer(s))"

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
