"""Hot-loading: a running engine takes a new or retrained style from its styles folder.

`/tc/load NAME [WEIGHT]` names a file, `NAME.safetensors` in the styles folder the operator
configured (`engine --styles-dir`); the network can never name a path (the command table only
lets `[a-z0-9_-]{1,64}` through). Loading and stacking a checkpoint takes tens of milliseconds,
several ticks' worth, so it happens on a loader thread (`HotLoader.request`): the checkpoint is
read safely (model/checkpoint.py: safetensors only, shapes and character set checked) and its
stepping arrays are built there (`Bank.prepare`). The tick thread only swaps the finished style in
between two ticks (`join`): a list append and a few array appends, so no tick waits on a disk.

A name the bank already has is a retrained style: it replaces the old one in place (same index,
so controllers' faders keep their meaning). With `--watch-styles`, the folder is polled and any
new or changed checkpoint is loaded the same way (so `learn` at night lands in the mix by itself).

The join is recorded as a `load` event (name, weight, file, sha256), so `replay` grows its bank at
the same tick (`replay_load`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from textconductor.engine.bank import Bank
from textconductor.engine.conductor import CommandError, Conductor
from textconductor.protocol.commands import MAX_STYLES, STYLE_FILE_NAME

log = logging.getLogger(__name__)

SUFFIX = ".safetensors"
WARM_TEXT = "\n" * 80  # one re-sync's worth of characters, read once on the loader thread
LOADER_NICE = 10  # the loader thread's niceness (measured with `bench hotload`)
MAX_PENDING = 4  # loads queued at once; more are refused (a flood of /tc/load cannot pile up threads)


@dataclass
class Prepared:
    """A style read and stacked on the loader thread, waiting to be swapped in between ticks."""

    name: str
    weight: float
    path: Path
    sha256: str
    model: object  # CharLSTM (kept untyped here: the conductor's bank holds it)
    arrays: dict
    requested: float  # time.monotonic() of the request
    prepared_s: float  # seconds the loader thread took
    thread: str = ""  # the thread that read and stacked it (never the tick thread)


def style_path(folder: Path, name: str) -> Path:
    """The checkpoint file of `name` in `folder`; CommandError for anything but a plain name."""
    if not isinstance(name, str) or not STYLE_FILE_NAME.fullmatch(name):
        raise CommandError("bad style file name", str(name)[:64])
    return Path(folder) / f"{name}{SUFFIX}"


def prepare(bank: Bank, folder: Path, name: str, weight: float = 0.0, requested: float | None = None) -> Prepared:
    """Read, check and stack one style (any thread). CommandError with a fixed reason on failure."""
    from textconductor.errors import UserError
    from textconductor.model.checkpoint import load_checkpoint
    t0 = time.monotonic()
    path = style_path(folder, name)
    if not path.is_file():
        raise CommandError("no such style in the styles folder", name)
    try:
        data = path.read_bytes()
        model, _meta = load_checkpoint(path)
        arrays = bank.prepare(model)
        model.prime(WARM_TEXT)  # first-call costs of its fused LSTM here, not in the tick that re-syncs it
    except (UserError, OSError) as e:
        raise CommandError("style cannot be loaded", f"{name}: {e}") from None
    return Prepared(name, float(weight), path, hashlib.sha256(data).hexdigest(), model, arrays,
                    t0 if requested is None else requested, time.monotonic() - t0, threading.current_thread().name)


def join(conductor: Conductor, p: Prepared) -> int:
    """Swap a prepared style into the bank and the conductor (the tick thread, between ticks).

    A new name grows the bank by one, inactive unless `p.weight` > 0; a known name is replaced in
    place and keeps its weight unless one was given. Returns the style's index.
    """
    c, bank = conductor, conductor.bank
    if p.name in c.index:
        k = c.index[p.name]
        bank.replace_style(k, p.model, p.arrays)
        if p.weight > 0:
            c.raw[k] = p.weight
    else:
        if bank.n >= MAX_STYLES:
            raise CommandError("bank is full", p.name)
        k = bank.add_style(p.model, p.arrays)
        c.names.append(p.name)
        c.index[p.name] = k
        c.raw = np.append(c.raw, p.weight)
        c.enabled = np.append(c.enabled, True)
        if c._weights is not None:  # keep the mixture in force while the raw weights are all zero
            c._weights = np.append(c._weights, 0.0)
    if len(bank.paths) == k:
        bank.paths.append(p.path)
    elif k < len(bank.paths):
        bank.paths[k] = p.path
    c._update_weights()
    return k


def replay_load(conductor: Conductor, args: list, folder: Path | None = None) -> int:
    """Apply a recorded `load` event: the recorded file (or NAME.safetensors in `folder`)."""
    name, weight, path, sha = args[0], float(args[1]), Path(args[2]), args[3]
    candidates = ([style_path(folder, name)] if folder else []) + [path]
    found = next((q for q in candidates if q.is_file()), None)
    if found is None:
        from textconductor.errors import UserError
        raise UserError(f"replay needs the hot-loaded style {name!r} ({path}); pass --bank DIR")
    p = _prepare_file(conductor.bank, found, name, weight)
    if p.sha256 != sha:
        log.warning("%s differs from the checkpoint recorded: the replay may diverge", found)
    return join(conductor, p)


def _prepare_file(bank: Bank, path: Path, name: str, weight: float) -> Prepared:
    from textconductor.model.checkpoint import load_checkpoint
    model, _ = load_checkpoint(path)
    return Prepared(name, weight, path, hashlib.sha256(path.read_bytes()).hexdigest(), model,
                    bank.prepare(model), time.monotonic(), 0.0)


class HotLoader:
    """Loads styles on a thread of its own; the tick thread collects finished ones with `ready`."""

    def __init__(self, bank: Bank, folder: Path | None) -> None:
        self.bank, self.folder = bank, Path(folder) if folder else None
        self._done: queue.Queue[Prepared | CommandError] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        # (name, s from request to join, the loader thread, s the join took on the tick thread)
        self.loaded: list[tuple[str, float, str, float]] = []

    def request(self, name: str, weight: float = 0.0) -> None:
        """Start loading `name`; CommandError (to be counted) when it cannot even start."""
        if self.folder is None:
            raise CommandError("no styles folder", name[:64])
        style_path(self.folder, name)  # the name check, again: a command may come from a file too
        with self._lock:
            if self._pending >= MAX_PENDING:
                raise CommandError("too many style loads pending", name)
            self._pending += 1
        requested = time.monotonic()
        threading.Thread(target=self._work, args=(name, weight, requested), name=f"hotload-{name}",
                         daemon=True).start()

    def _work(self, name: str, weight: float, requested: float) -> None:
        try:  # the tick thread comes first: this thread yields the core to it (Linux: per-thread nice)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOADER_NICE)
        except (AttributeError, OSError):
            pass
        try:
            result: Prepared | CommandError = prepare(self.bank, self.folder, name, weight, requested)
        except CommandError as e:
            result = e
        except Exception as e:  # noqa: BLE001 - a loader thread must report, never die silently
            log.exception("loading style %s failed", name)
            result = CommandError("style cannot be loaded", f"{name}: {e}")
        with self._lock:
            self._pending -= 1
        self._done.put(result)

    def ready(self) -> list[Prepared | CommandError]:
        """Finished loads (and failures), without waiting."""
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0 or not self._done.empty()


class StylesWatch:
    """The styles folder, polled: the names of checkpoints that appeared or changed since last time.

    The first call reports every checkpoint there, so an engine started with `--watch-styles`
    plays the folder's styles too. A name that is not a plain style name is skipped (logged once).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._seen: dict[str, tuple[int, int]] = {}
        self._skipped: set[str] = set()

    def changed(self) -> list[str]:
        try:
            files = sorted(self.folder.glob(f"*{SUFFIX}"))
        except OSError as e:
            log.debug("styles folder %s: %s", self.folder, e)
            return []
        out = []
        for f in files:
            name = f.name[:-len(SUFFIX)]
            if not STYLE_FILE_NAME.fullmatch(name):
                if name not in self._skipped:
                    log.warning("styles folder: %s is not a plain style name ([a-z0-9_-]); not loaded", f.name)
                    self._skipped.add(name)
                continue
            try:
                st = f.stat()
            except OSError:
                continue
            key = (st.st_mtime_ns, st.st_size)
            if self._seen.get(name) != key:
                self._seen[name] = key
                out.append(name)
        return out
