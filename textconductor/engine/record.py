"""The performance record: every control event (with its tick) and the text, as JSON lines.

One file per performance. Lines are buffered and written at least once a second (and before a
snapshot is written, so the record and the snapshot always agree on the tick): a crash loses at
most a second, and a restarted engine appends a `restore` line and carries on in the same file.

Line types:
  {"type": "start", "time": ..., "seed": S, "styles": [...], "files": [{"name", "sha256"}], "state": snapshot}
  {"type": "event", "tick": T, "cmd": NAME, "args": [...]}     applied before tick T
  {"type": "text", "tick": T, "text": "..."}                   characters generated from tick T on
  {"type": "restore", "tick": T, "state": snapshot}            an engine restart resumed here
  {"type": "mark", "kind": "keep"|"reject", "start": T0, "end": T1, ...}   a marked passage
                                                               (engine/marks.py; not an event: replay skips it)
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from textconductor.paths import records_dir
from textconductor.protocol import Command, Tick

log = logging.getLogger(__name__)


def default_dir() -> Path:
    return records_dir()


def new_path(folder: Path | None = None) -> Path:
    folder = folder or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / time.strftime("performance-%Y%m%d-%H%M%S.jsonl")


def unused_path(path: Path) -> Path:
    """`path` if it holds nothing yet, else the first free `STEM-2.jsonl`, `STEM-3.jsonl`, ...

    One file holds one performance (replay, anthology and learn read a file from its start line), so
    a new performance never appends to a record that has one; only a restart continues a record."""
    path = Path(path)
    k = 2
    candidate = path
    while candidate.exists() and candidate.stat().st_size > 0:
        candidate = path.with_name(f"{path.stem}-{k}{path.suffix}")
        k += 1
    return candidate


def file_hashes(paths: list[Path]) -> list[dict[str, str]]:
    return [{"name": Path(p).stem, "path": str(p), "sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()}
            for p in paths]


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a", encoding="utf-8")
        self._lines: list[str] = []
        self._text: list[str] = []
        self._text_tick: int | None = None
        self.failed = False

    def _put(self, obj: dict[str, Any]) -> None:
        self._flush_text()
        self._lines.append(json.dumps(obj, separators=(",", ":")))

    def start(self, seed: int, styles: list[str], files: list[dict], state: dict) -> None:
        self._put({"type": "start", "time": time.time(), "seed": seed, "styles": styles, "files": files,
                   "state": state})
        self.flush()

    def restored(self, state: dict) -> None:
        self._put({"type": "restore", "time": time.time(), "tick": state["tick"], "state": state})
        self.flush()

    def event(self, tick: int, cmd: Command) -> None:
        self._put({"type": "event", "tick": tick, "cmd": cmd.name, "args": list(cmd.args)})

    def mark(self, line: dict[str, Any]) -> None:
        """A kept or rejected passage (`marks.Mark.line()`), after the text it covers."""
        self._put(line)

    def tick(self, t: Tick) -> None:
        if self._text_tick is None:
            self._text_tick = t.tick
        self._text.append(t.char)

    def _flush_text(self) -> None:
        if self._text:
            self._lines.append(json.dumps({"type": "text", "tick": self._text_tick, "text": "".join(self._text)}))
            self._text.clear()
            self._text_tick = None

    def flush(self) -> None:
        """Write what is buffered; a full disk is logged once and the performance goes on."""
        self._flush_text()
        if not self._lines:
            return
        try:
            self._f.write("\n".join(self._lines) + "\n")
            self._f.flush()
            self._lines.clear()
        except OSError as e:
            if not self.failed:
                log.error("cannot write the performance record %s: %s", self.path, e)
            self.failed = True
            self._lines = self._lines[-10_000:]  # keep trying later without growing forever

    def close(self) -> None:
        self.flush()
        self._f.close()


def read_record(path: Path) -> list[dict[str, Any]]:
    """All complete lines; a torn last line (crash mid-write) is skipped, anything else is an error."""
    from textconductor.errors import UserError
    out = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        why = getattr(e, "strerror", None) or e
        raise UserError(f"{path}: cannot read the record ({e.__class__.__name__}: {why})") from None
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                log.warning("%s: last line is incomplete (the engine stopped mid-write); ignoring it", path)
                continue
            raise UserError(f"{path}:{i + 1}: not a JSON line") from None
    if not out or out[0].get("type") != "start":
        raise UserError(f"{path}: not a textconductor performance record (no start line)")
    return out
