"""Notes out: every character the engine writes as a MIDI note and as an OSC message.

A subscriber to the engine's ticks (like any window), so synths and visuals follow the text
whatever drives its timing. The mapping is pure (`note_for`): a character's place in the shared
character set picks a degree of a scale (the major pentatonic by default, so any run of letters
sounds consonant), across `octaves` octaves above `base`; whitespace is a rest. The velocity is
the probability the mixture gave the character: a sure character is loud, a surprise is quiet.

OSC out (to `--osc HOST:PORT`), one message per character:
`/tc/char i tick, s char, f probability, i note (-1 for a rest), i velocity, s style` where style
is the style that contributed most of the character (its attribution), or "" if none is known.
A note is released at the next character or after `length_s`, whichever comes first.
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from typing import Any

from textconductor.protocol.charset import CHAR_TO_INDEX
from textconductor.protocol.client import EngineConnection
from textconductor.protocol.messages import Tick
from textconductor.protocol.wire import message

log = logging.getLogger(__name__)

OUT_CHAR = "/tc/char"
SCALES = {
    "pentatonic": (0, 2, 4, 7, 9),
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "chromatic": tuple(range(12)),
}
WHITESPACE = "\n\t "


def note_for(char: str, probability: float, base: int = 48, scale: tuple[int, ...] = SCALES["pentatonic"],
             octaves: int = 3) -> tuple[int, int] | None:
    """(MIDI note, velocity 1..127) for `char` written with `probability`; None for whitespace (a rest)."""
    if char in WHITESPACE or char not in CHAR_TO_INDEX:
        return None
    k = CHAR_TO_INDEX[char] - 3  # index 3 is '!', the first visible character
    degree, octave = k % len(scale), (k // len(scale)) % octaves
    note = min(base + 12 * octave + scale[degree], 127)
    p = probability if math.isfinite(probability) else 0.0
    velocity = 1 + round(126 * min(max(p, 0.0), 1.0) ** 0.5)  # sqrt: most characters are far from sure
    return note, velocity


class NotesOut:
    """Subscribes to `engine` and sends each character as a note on `midi_port` (a mido output, or
    None) and as `/tc/char` to `osc` (host, port) or not at all. `close()` releases every note."""

    def __init__(self, engine_host: str, engine_port: int, midi_port: Any = None,
                 osc: tuple[str, int] | None = None, channel: int = 0, base: int = 48,
                 scale: str = "pentatonic", octaves: int = 3, length_s: float = 0.25) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r} (one of {', '.join(SCALES)})")
        if not 0 <= channel <= 15:
            raise ValueError("MIDI channel must be 0..15")
        self.midi, self.osc = midi_port, osc
        self.channel, self.base, self.scale, self.octaves = channel, base, SCALES[scale], octaves
        self.length_s = length_s
        self.notes = self.chars = 0
        self._lock = threading.Lock()
        self._sounding: tuple[int, float] | None = None  # (note, release time)
        self._osc_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM) if osc else None
        self._stop = threading.Event()
        self._releaser = threading.Thread(target=self._release_loop, name="notes-off", daemon=True)
        self._releaser.start()
        self.engine = EngineConnection(engine_host, engine_port, ping=False, subscribe=True,
                                       on_message=self.on_message)

    def on_message(self, msg: Any) -> None:
        if not isinstance(msg, Tick):
            return
        p = float(msg.mixed[CHAR_TO_INDEX[msg.char]]) if msg.char in CHAR_TO_INDEX else 0.0
        nv = note_for(msg.char, p, self.base, self.scale, self.octaves)
        self.chars += 1
        if self.midi is not None:
            self._note(nv)
        if self._osc_sock is not None:
            names = self.engine.styles
            lead = int(msg.attribution.argmax()) if msg.attribution.size else -1
            style = names[lead] if 0 <= lead < len(names) and msg.attribution[lead] > 0 else ""
            note, velocity = nv if nv else (-1, 0)
            try:
                self._osc_sock.sendto(message(OUT_CHAR, int(msg.tick), msg.char, p, note, velocity, style), self.osc)
            except OSError as e:
                log.debug("/tc/char to %s: %s", self.osc, e)

    def _note(self, nv: tuple[int, int] | None) -> None:
        import mido
        with self._lock:
            if self._sounding is not None:
                self.midi.send(mido.Message("note_off", channel=self.channel, note=self._sounding[0]))
                self._sounding = None
            if nv is not None:
                note, velocity = nv
                self.midi.send(mido.Message("note_on", channel=self.channel, note=note, velocity=velocity))
                self._sounding = (note, time.monotonic() + self.length_s)
                self.notes += 1

    def _release_loop(self) -> None:
        while not self._stop.wait(0.01):
            with self._lock:
                if self._sounding is not None and time.monotonic() >= self._sounding[1] and self.midi is not None:
                    import mido
                    try:
                        self.midi.send(mido.Message("note_off", channel=self.channel, note=self._sounding[0]))
                    except Exception as e:  # noqa: BLE001 - a port that went away: the next note says so again
                        log.debug("note off: %s", e)
                    self._sounding = None

    def close(self) -> None:
        self.engine.close()
        self._stop.set()
        self._releaser.join(timeout=1)
        with self._lock:
            if self._sounding is not None and self.midi is not None:
                import mido
                self.midi.send(mido.Message("note_off", channel=self.channel, note=self._sounding[0]))
                self._sounding = None
        if self._osc_sock is not None:
            self._osc_sock.close()
