"""Reading a score file (TOML): a pure parser whose every error names the event and the key.

A score is a timeline of events. Each event fires at a time (`at`, seconds since the score — or its
current pass, when it loops — started) or once the engine has written a number of characters
(`chars`), and sets any of: the mix (`weights`, optionally reached over `morph` seconds),
`temperature`, `rate`, `mix`, `guard`/`guard_strength`, `prime` text, `pause`, and a line to `say`.
The format, with every key, is in docs/controllers.md ("Scores").

Why a parser of its own rather than the engine's command checks: a score is checked before anything
plays (`textconductor perform --check`), and a composer needs "event 7, temperature: 9 is outside
0.05..5", not a rejected datagram in the middle of a talk. The ranges are the command table's own
(`protocol.commands`), so a score can never ask for what the engine would refuse.

Style names are checked separately (`check_styles`), because what is known depends on where the
score plays: the engine's `/tc/hello` styles when performing, the bundled style table offline.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textconductor.errors import UserError
from textconductor.protocol.commands import (
    GUARD_STRENGTH_RANGE,
    MAX_PRIME_CHARS,
    MIX_MODES,
    RATE_RANGE,
    TEMPERATURE_RANGE,
)

MAX_EVENTS = 10_000
MAX_MORPH_S = 3600.0
MAX_SAY_CHARS = 500
WEIGHT_RANGE = (0.0, 1.0)  # a raw weight, as /tc/weight takes it

TOP_KEYS = ("title", "loop", "length", "event")
TRIGGER_KEYS = ("at", "chars")
EVENT_KEYS = (*TRIGGER_KEYS, "weights", "morph", "temperature", "rate", "mix", "guard", "guard_strength", "prime",
              "pause", "say")
# What a composer may write by habit, and what this format calls it.
HINTS = {"resume": "pause = false", "time": "at", "after": "chars", "weight": "weights", "duration": "morph",
         "events": "[[event]]", "print": "say", "note": "say"}


class ScoreError(UserError):
    """A score the player cannot play; the message names the file, the event number and the key."""


@dataclass(frozen=True)
class Event:
    """One line of the timeline. `number` counts from 1 in file order (as error messages do)."""

    number: int
    at: float | None = None  # seconds into the pass ...
    chars: int | None = None  # ... or characters written in the pass (exactly one of the two)
    weights: Mapping[str, float] | None = None  # the whole mix: every style not named goes to 0
    morph: float = 0.0  # seconds to glide from the current weights to `weights` (0: at once)
    temperature: float | None = None
    rate: float | None = None
    mix: str | None = None
    guard: bool | None = None
    guard_strength: float | None = None
    prime: str | None = None
    pause: bool | None = None  # True pauses the engine, False resumes it
    say: str | None = None  # a line for the performer (the log, the window's status line)

    def describe_trigger(self) -> str:
        return f"at {self.at:g} s" if self.at is not None else f"after {self.chars} chars"


@dataclass(frozen=True)
class Score:
    events: tuple[Event, ...]
    title: str = ""
    loop: bool = False  # when a pass ends, start again from the top
    length: float | None = None  # seconds one pass lasts (None: until the last event and its morph end)
    source: str = "score"
    styles: frozenset[str] = field(default=frozenset())  # every style any event names

    @property
    def timed_end(self) -> float:
        """The latest time any timed event (and its morph) reaches, in seconds into a pass."""
        return max([0.0, *((e.at + e.morph) for e in self.events if e.at is not None)])


def _fail(source: str, where: str, problem: str) -> ScoreError:
    return ScoreError(f"{source}: {where}: {problem}")


def _unknown_key(key: str, valid: Collection[str]) -> str:
    hint = HINTS.get(key) or next(iter(difflib.get_close_matches(key, valid, n=1)), None)
    return f"unknown key{f' (did you mean {hint}?)' if hint else ''}; valid keys: {', '.join(valid)}"


def _number(value: Any, lo: float, hi: float, what: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {_type(value)}")
    f = float(value)
    if not math.isfinite(f):
        raise ValueError("must be a finite number")
    if not lo <= f <= hi:
        raise ValueError(f"{what or 'value'} {f:g} is outside {lo:g}..{hi:g}")
    return f


def _type(value: Any) -> str:
    return {bool: "true/false", str: "text", int: "a whole number", float: "a number", dict: "a table",
            list: "a list"}.get(type(value), type(value).__name__)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_type(value)}")
    return value


def _text(value: Any, most: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_type(value)}")
    if not (0 if allow_empty else 1) <= len(value) <= most:
        raise ValueError(f"must be {0 if allow_empty else 1}..{most} characters long, got {len(value)}")
    return value


def _event(number: int, raw: Any, source: str) -> Event:
    where = f"event {number}"
    if not isinstance(raw, dict):
        raise _fail(source, where, f"expected a table ([[event]]), got {_type(raw)}")
    for key in raw:
        if key not in EVENT_KEYS:
            raise _fail(source, f"{where}, {key}", _unknown_key(key, EVENT_KEYS))
    triggers = [k for k in TRIGGER_KEYS if k in raw]
    if len(triggers) != 1:
        raise _fail(source, where, "needs exactly one of at = SECONDS or chars = COUNT"
                    + (f" (it has {' and '.join(triggers)})" if triggers else ""))
    values: dict[str, Any] = {}
    key = ""
    try:
        for key, value in raw.items():
            if key == "at":
                values[key] = _number(value, 0.0, math.inf, "time")
            elif key == "chars":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"expected a whole number >= 0, got {value!r}")
                values[key] = value
            elif key == "weights":
                values[key] = _weights(value, where, source)
            elif key == "morph":
                values[key] = _number(value, 0.0, MAX_MORPH_S, "morph")
            elif key == "temperature":
                values[key] = _number(value, *TEMPERATURE_RANGE, "temperature")
            elif key == "rate":
                values[key] = _number(value, *RATE_RANGE, "rate")
            elif key == "mix":
                if value not in MIX_MODES:
                    raise ValueError(f"must be one of {', '.join(repr(m) for m in MIX_MODES)}, got {value!r}")
                values[key] = value
            elif key in ("guard", "pause"):
                values[key] = _bool(value)
            elif key == "guard_strength":
                values[key] = _number(value, *GUARD_STRENGTH_RANGE, "guard strength")
            elif key == "prime":
                values[key] = _text(value, MAX_PRIME_CHARS)
            elif key == "say":
                values[key] = _text(value, MAX_SAY_CHARS)
    except ValueError as e:
        raise _fail(source, f"{where}, {key}", str(e)) from None
    if "morph" in values and "weights" not in values:
        raise _fail(source, f"{where}, morph", "a morph needs weights to move to")
    if set(values) <= set(TRIGGER_KEYS):
        raise _fail(source, where, "does nothing: give it weights, temperature, rate, mix, guard, prime, pause "
                    "or say")
    return Event(number, **values)


def _weights(value: Any, where: str, source: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of style = weight, e.g. {{ bible = 1.0 }}, got {_type(value)}")
    out = {}
    for name, w in value.items():
        try:
            out[name] = _number(w, *WEIGHT_RANGE, "weight")
        except ValueError as e:
            raise _fail(source, f"{where}, weights.{name}", str(e)) from None
    if not any(w > 0 for w in out.values()):
        raise ValueError("give at least one style a weight above 0 (the whole mix is these weights)")
    return out


def parse_score(text: str, source: str = "score") -> Score:
    """A `Score` from TOML text; `ScoreError` (a UserError) naming `source`, the event and the key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScoreError(f"{source}: not valid TOML ({e})") from None
    for key in raw:
        if key not in TOP_KEYS:
            raise _fail(source, key, _unknown_key(key, TOP_KEYS))
    try:
        title = _text(raw.get("title", ""), 200, allow_empty=True)
    except ValueError as e:
        raise _fail(source, "title", str(e)) from None
    try:
        loop = _bool(raw.get("loop", False))
    except ValueError as e:
        raise _fail(source, "loop", str(e)) from None
    length = None
    if "length" in raw:
        try:
            length = _number(raw["length"], 0.0, math.inf, "length")
            if length <= 0:
                raise ValueError("must be more than 0 seconds")
        except ValueError as e:
            raise _fail(source, "length", str(e)) from None
    table = raw.get("event", [])
    if not isinstance(table, list) or not table:
        raise _fail(source, "event", "a score needs at least one [[event]]")
    if len(table) > MAX_EVENTS:
        raise _fail(source, "event", f"{len(table)} events; at most {MAX_EVENTS}")
    events = tuple(_event(i + 1, e, source) for i, e in enumerate(table))
    _check_order(events, source)
    score = Score(events, title=title, loop=loop, length=length, source=source,
                  styles=frozenset(n for e in events for n in (e.weights or {})))
    if length is not None and score.timed_end > length:
        late = max((e for e in events if e.at is not None), key=lambda e: e.at + e.morph)  # type: ignore[operator]
        raise _fail(source, f"event {late.number}, at", f"ends at {late.at + late.morph:g} s, after the score's "  # type: ignore[operator]
                    f"length = {length:g}")
    if loop and length is None and not any((e.at or 0) > 0 or (e.chars or 0) > 0 or e.morph > 0 for e in events):
        raise _fail(source, "loop", "every event fires at once: a looping score needs length = SECONDS, or an "
                    "event later than at = 0")
    return score


def _check_order(events: tuple[Event, ...], source: str) -> None:
    """Times (and character counts) may not go back: a score reads top to bottom, as it plays."""
    last: dict[str, Event] = {}
    for e in events:
        key = "at" if e.at is not None else "chars"
        value = e.at if e.at is not None else e.chars
        prev = last.get(key)
        if prev is not None:
            before = prev.at if key == "at" else prev.chars
            if value < before:  # type: ignore[operator]
                raise _fail(source, f"event {e.number}, {key}", f"{value:g} comes before event {prev.number}'s "
                            f"{before:g}: events must be in {'time' if key == 'at' else 'character'} order")
        last[key] = e


def load_score(path: Path | str) -> Score:
    """Read and parse a score file; a missing or unreadable file is a ScoreError too."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScoreError(f"{path}: cannot read the score ({e})") from None
    return parse_score(text, str(path))


def check_styles(score: Score, known: Collection[str], against: str) -> None:
    """Refuse a score that names a style not in `known` (`against` says whose list: "the engine")."""
    known = list(known)
    for e in score.events:
        for name in e.weights or {}:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                raise _fail(score.source, f"event {e.number}, weights.{name}",
                            f"unknown style {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                            + f"; {against} has: {', '.join(known) or 'no styles'}")


def bundled_styles() -> list[str]:
    """The style table that ships with the instrument (assets/styles.toml), for offline checks."""
    from textconductor.assets import load_styles
    return list(load_styles())
