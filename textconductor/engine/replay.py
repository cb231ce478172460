"""Replaying and exporting a performance record.

Replay re-runs the conductor against the same checkpoints and seed, applying each recorded event
before the tick it was recorded at (and each restart's snapshot where it happened), and checks
that every generated character equals the recorded one. Export needs no model at all.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textconductor.engine import mixer
from textconductor.engine.record import read_record
from textconductor.errors import UserError
from textconductor.protocol import Command
from textconductor.protocol.defaults import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)


@dataclass
class ReplayResult:
    ticks: int
    matched: int
    first_mismatch: int | None
    generated: str
    recorded: str
    chars: dict[int, str] = field(default_factory=dict)  # tick -> the character replay generated
    primes: dict[int, list[str]] = field(default_factory=dict)  # tick -> primed text as it entered, before it


def recorded_text(lines: list[dict]) -> dict[int, str]:
    out: dict[int, str] = {}
    for line in lines:
        if line["type"] == "text":
            for k, ch in enumerate(line["text"]):
                out[line["tick"] + k] = ch
    return out


def _checkpoints(start: dict, bank_dir: Path | None) -> list[Path]:
    paths = []
    for f in start["files"]:
        candidates = [Path(bank_dir) / f"{f['name']}.safetensors"] if bank_dir else []
        candidates.append(Path(f["path"]))
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            raise UserError(f"replay needs the checkpoint of style {f['name']!r} ({f['path']}); pass --bank DIR")
        if hashlib.sha256(path.read_bytes()).hexdigest() != f["sha256"]:
            log.warning("%s differs from the checkpoint recorded: the replay may diverge", path)
        paths.append(path)
    return paths


LEGACY_RESYNC_CHARS = 80  # the engine's re-sync before homes (records written before it say nothing)


def _restore(c, state: dict) -> None:
    """A snapshot from before the guards had no guard in it: the engine that wrote it had none; one
    from before homes has no resync: its engine started newcomers blank on 80 characters."""
    from textconductor.engine.snapshot import restore
    restore(c, state)
    if "guard" not in state:
        c.set_guard(False)
    if "resync" not in state:
        c.set_resync("blank", LEGACY_RESYNC_CHARS)


def replay(path: Path, bank_dir: Path | None = None, device: str = "cpu", until: int | None = None) -> ReplayResult:
    """Re-run the record; with `until`, only the ticks before it (a passage's regeneration stops there)."""
    from textconductor.engine.conductor import Conductor
    from textconductor.engine.loader import load_bank
    lines = read_record(path)
    start = lines[0]
    bank, names = load_bank(_checkpoints(start, bank_dir), device)
    c = Conductor(bank, names, seed=int(start["seed"]))
    _restore(c, start["state"])
    want = recorded_text(lines)
    if until is not None:
        want = {t: ch for t, ch in want.items() if t < until}
    got: dict[int, str] = {}
    primes: dict[int, list[str]] = {}

    def run_until(tick: int) -> None:
        if until is not None:
            tick = min(tick, until)
        while c.tick_index < tick:
            t = c.tick()
            got[t.tick] = t.char

    for line in lines[1:]:
        kind = line["type"]
        if until is not None and line.get("tick", 0) >= until and kind in ("event", "restore"):
            break
        if kind == "event" and line["cmd"] == "load":  # a style hot-loaded mid-performance
            from textconductor.engine.hotload import replay_load
            run_until(line["tick"])
            replay_load(c, line["args"], bank_dir)
        elif kind == "event":
            run_until(line["tick"])
            c.apply(Command(line["cmd"], tuple(line["args"])))
            if line["cmd"] == "prime" and c.last_primed:
                primes.setdefault(line["tick"], []).append(c.last_primed)
        elif kind == "restore":
            run_until(line["tick"])
            _restore(c, line["state"])
    run_until(max(want) + 1 if want else c.tick_index)
    ticks = sorted(want)
    mismatches = [t for t in ticks if got.get(t) != want[t]]
    return ReplayResult(len(ticks), len(ticks) - len(mismatches), mismatches[0] if mismatches else None,
                        "".join(got.get(t, "") for t in ticks), "".join(want[t] for t in ticks), got, primes)


def performance_text(lines: list[dict]) -> list[tuple[int, str, str]]:
    """(tick, text, who) pieces in order: generated text and performer-primed text."""
    pieces: list[tuple[int, str, str]] = []
    for line in lines:
        if line["type"] == "text":
            pieces.append((line["tick"], line["text"], "engine"))
        elif line["type"] == "event" and line["cmd"] == "prime":
            pieces.append((line["tick"], line["args"][0], "performer"))
        elif line["type"] == "event" and line["cmd"] == "reset":
            pieces.append((line["tick"], "\n\n", "reset"))
    return sorted(pieces, key=lambda p: (p[0], p[2] == "engine"))


def mixture_timeline(lines: list[dict]) -> list[tuple[int, np.ndarray | None]]:
    """(tick, normalised weights) after every weight-changing event."""
    start = lines[0]
    names = start["styles"]
    raw = np.array(start["state"]["raw"], dtype=float)
    enabled = np.array(start["state"]["enabled"], dtype=bool)
    out = [(int(start["state"]["tick"]), mixer.normalise(raw, enabled))]
    index = {n: i for i, n in enumerate(names)}
    for line in lines[1:]:
        state = line.get("state")
        if line["type"] == "restore" and state:
            raw, enabled = np.array(state["raw"], dtype=float), np.array(state["enabled"], dtype=bool)
        elif line["type"] == "event" and line["cmd"] in ("weights", "weight", "enable"):
            a = line["args"]
            if line["cmd"] == "weights":
                raw = np.array(a, dtype=float)
            else:
                i = a[0] if isinstance(a[0], int) else index.get(a[0])
                if i is None:
                    continue
                if line["cmd"] == "weight":
                    raw[i] = a[1]
                else:
                    enabled[i] = bool(a[1])
        else:
            continue
        w = mixer.normalise(raw, enabled)
        out.append((line.get("tick", out[-1][0]), w if w is not None else out[-1][1]))
    return out


def export(path: Path, fmt: str = "txt", display: dict[str, str] | None = None) -> str:
    lines = read_record(path)
    pieces = performance_text(lines)
    text = "".join(p[1] for p in pieces)
    if fmt == "txt":
        return text
    if fmt != "md":
        raise UserError(f"unknown export format {fmt!r} (txt or md)")
    names = lines[0]["styles"]
    display = display or {}
    timeline = mixture_timeline(lines)
    # Paragraph starts in tick terms: walk the pieces, note the tick at each paragraph's first char.
    paragraphs: list[tuple[int, str]] = []
    current, current_tick = [], None
    for tick, piece, who in pieces:
        for k, ch in enumerate(piece):
            t = tick + (k if who == "engine" else 0)
            if current_tick is None:
                current_tick = t
            current.append(ch)
            if "".join(current[-2:]) == "\n\n":
                body = "".join(current).strip("\n")
                if body:
                    paragraphs.append((current_tick, body))
                current, current_tick = [], None
    if "".join(current).strip("\n"):
        paragraphs.append((current_tick or 0, "".join(current).strip("\n")))
    out = [f"# Performance {Path(path).stem}", ""]
    for tick, body in paragraphs:
        w = None
        for t, weights in timeline:
            if t <= tick:
                w = weights
        if w is not None:
            shown = [i for i in np.argsort(-w) if w[i] >= DEFAULT_THRESHOLD]  # the styles that would be active
            mix = ", ".join(f"{display.get(names[i], names[i])} {100 * w[i]:.0f}%" for i in shown)
            out += [f"*{mix}* (from character {tick})", ""]
        out += ["```", body, "```", ""]
    return "\n".join(out)
