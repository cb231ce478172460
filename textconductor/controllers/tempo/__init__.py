"""Tempo: characters on a beat grid from MIDI clock, Ableton Link or a timer, and notes out.

`schedule` is the pure core (pulses -> tempo and phase -> character slots, bar lines);
`sources` are the clock shells; `driver` sends `/tc/advance` on the grid; `notes` turns every
character into a MIDI note and a `/tc/char` OSC message. Imports here stay light: rtmidi and
aalink load only when a source starts.
"""

from textconductor.controllers.tempo.schedule import PPQN, BarLines, CharGrid, ClockFollower, Timeline

__all__ = ["PPQN", "BarLines", "CharGrid", "ClockFollower", "Timeline"]
