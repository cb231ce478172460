"""MIDI ports: which backend, which ports are there, opening one, and saying in words why MIDI
cannot work here.

Why all of mido/rtmidi lives here: a missing backend (no libasound2, no /dev/snd/seq, no JACK
server) shows up as ImportError or rtmidi's SystemError (an OSError) at the first call, not at
import; keeping every such call behind this module turns them into one `MidiUnavailable(reason)`
and gives the tests one seam (`_backend`) to replace the ports with a list they control.
mido and rtmidi are imported inside the functions, so importing this module costs nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from textconductor.errors import UserError

log = logging.getLogger(__name__)


class MidiUnavailable(UserError):
    """No usable MIDI backend here (reason in words)."""


def device_key(port_name: str) -> str:
    """A port name without what changes on re-plug: ALSA's ' 20:0' suffix, JACK/rtmidi client prefixes."""
    name = re.sub(r"\s+\d+:\d+$", "", port_name.strip())
    name = re.sub(r"^RtMidi(In|Out) Client:", "", name)
    return name or port_name


def _backend(api: str | None = None):
    """A mido backend object; `api` e.g. 'UNIX_JACK' or 'LINUX_ALSA' (None: mido's default / $MIDO_BACKEND)."""
    import mido
    if api is None:
        return mido.backend
    return mido.Backend(api if "/" in api or "." in api else f"mido.backends.rtmidi/{api}")


def _unavailable_reason(e: BaseException) -> str:
    if isinstance(e, ImportError):
        return (f"no MIDI backend ({e}); install python-rtmidi and the ALSA library "
                "(Debian: apt-get install libasound2)")
    text = str(e) or type(e).__name__
    if "ALSA" in text or "sequencer" in text:
        return (f"the ALSA sequencer is not available ({text}); /dev/snd/seq is missing "
                "(load snd-seq, or run with --midi-api UNIX_JACK and a JACK server)")
    if "JACK" in text:
        return f"no JACK server ({text}); start one (jackd) or use the ALSA backend"
    return text


def list_midi_inputs(api: str | None = None) -> list[str]:
    """Names of the MIDI input ports now present, for a menu; MidiUnavailable(reason) if MIDI cannot work here."""
    try:
        return list(_backend(api).get_input_names())
    except (ImportError, OSError, RuntimeError) as e:  # rtmidi's SystemError is an OSError
        raise MidiUnavailable(_unavailable_reason(e)) from e


def midi_available(api: str | None = None) -> tuple[bool, str]:
    """(True, "") when a MIDI backend works here, else (False, the reason): what every MIDI
    controller's `available()` answers (no ports is fine: one may be plugged in later)."""
    try:
        list_midi_inputs(api)
        return True, ""
    except MidiUnavailable as e:
        return False, str(e)


class PortWatch:
    """Lists input ports for the once-a-second hot-plug poll.

    With an explicit rtmidi API one client is kept open and asked each time: opening a client per
    poll costs ~170 ms on JACK (and flickers in JACK's graph). Otherwise mido's own listing, which
    probes the APIs afresh each call (cheap on ALSA).
    """

    def __init__(self, api: str | None) -> None:
        self.api = api
        self._midi_in: Any = None

    def names(self) -> list[str]:
        if self.api is None or "/" in self.api or "." in self.api:
            return list_midi_inputs(self.api)
        try:
            if self._midi_in is None:
                import rtmidi
                self._midi_in = rtmidi.MidiIn(getattr(rtmidi, f"API_{self.api}"), "textconductor port watch")
            return list(self._midi_in.get_ports())
        except (ImportError, OSError, RuntimeError, AttributeError) as e:
            self.close()
            raise MidiUnavailable(_unavailable_reason(e)) from e

    def close(self) -> None:
        if self._midi_in is not None:
            try:
                self._midi_in.delete()
            except Exception as e:  # noqa: BLE001 - already gone with its server, in any way
                log.debug("closing the port watch: %s", e)
            self._midi_in = None


def is_through(name: str) -> bool:
    """ALSA's always-present 'Midi Through' port: never a controller someone plugged in."""
    return name.lower().startswith("midi through")


def resolve_port(want: str | int | None, names: Sequence[str]) -> str | None:
    """The port to open among `names`: by index, exact name, name without numbers, or substring.

    With no wish, the first port that is not ALSA's always-present 'Midi Through'.
    """
    if want is None:
        return next((n for n in names if not is_through(n)), None)
    if isinstance(want, int):
        return names[want] if 0 <= want < len(names) else None
    if want in names:
        return want
    key = device_key(want).lower()
    for n in names:
        if device_key(n).lower() == key:
            return n
    return next((n for n in names if want.lower() in n.lower()), None)


class _RtInput:
    """An rtmidi input read by our own thread, so rtmidi's MIDI thread never runs Python.

    Why not mido's callback port: its callback runs Python on rtmidi's thread, which then needs
    the GIL. Closing the port holds the GIL and waits for that thread; JACK gives up waiting and
    cancels the thread, which can die holding the interpreter's GIL mutex, and the whole app
    freezes (reproduced under load with the JACK test: a fader moving while the port closes).
    Here rtmidi only queues in C++; a Python thread drains the queue (~2 ms latency at worst).
    """

    POLL_S = 0.002

    def __init__(self, api: str | None, name: str, callback: Callable[[Any], None]) -> None:
        import mido
        import rtmidi
        rtapi = getattr(rtmidi, f"API_{api}") if api else rtmidi.API_UNSPECIFIED
        self._rt = rtmidi.MidiIn(rtapi, "textconductor")
        ports = self._rt.get_ports()
        if name not in ports:
            self._rt.delete()
            raise OSError(f"unknown port {name!r}")
        self._rt.open_port(ports.index(name), "textconductor in")
        self._rt.ignore_types(sysex=True, timing=True, active_sense=True)  # clock alone is 24 messages a beat
        self._parse = mido.Message.from_bytes
        self._callback = callback
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="midi-in", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            got = self._rt.get_message()
            if got is None:
                time.sleep(self.POLL_S)
                continue
            try:
                msg = self._parse(got[0])
            except ValueError:
                continue  # not a complete MIDI message
            self._callback(msg)  # guarded by the controller: never raises

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._rt.close_port()
        self._rt.delete()


def list_midi_outputs(api: str | None = None) -> list[str]:
    """Names of the MIDI output ports now present (for feedback); MidiUnavailable(reason) if MIDI cannot work."""
    try:
        return list(_backend(api).get_output_names())
    except (ImportError, OSError, RuntimeError) as e:
        raise MidiUnavailable(_unavailable_reason(e)) from e


def resolve_output(want: bool | str, input_name: str, names: Sequence[str]) -> str | None:
    """The output port for feedback to the device on `input_name`: with `want` True the output of the
    same device (same `device_key`: a controller's in and out ports share its name), else the port
    `want` names, as `resolve_port` finds one."""
    if isinstance(want, str):
        return resolve_port(want, names)
    if not want:
        return None
    key = device_key(input_name).lower()
    return next((n for n in names if device_key(n).lower() == key), None)


def open_output(api: str | None, name: str, virtual: bool = False) -> Any:
    """An output port on `name` (`.send(mido message)`, `.close()`); `virtual`: a new port of that
    name that other programs connect to (ALSA/JACK), rather than an existing one.

    Sending is a plain call that returns at once (rtmidi writes to ALSA/JACK without a thread of its
    own), so unlike input nothing here runs Python on a foreign thread."""
    if virtual:
        return _backend(api).open_output(name, virtual=True)
    return _backend(api).open_output(name)


def open_input(api: str | None, name: str, callback: Callable[[Any], None]) -> Any:
    """An input port on `name` delivering mido messages to `callback`; `.close()` to release."""
    backend = _backend(api)
    if getattr(backend, "name", "").startswith("mido.backends.rtmidi"):
        return _RtInput(backend.api or None, name, callback)
    return backend.open_input(name, callback=callback)  # another mido backend: its own threading
