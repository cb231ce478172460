"""The engine's composition root: load the styles, build the conductor, bring the engine live.

It lives in the engine package, not in the CLI, so that everything that starts an engine (the
`engine` command, the benchmarks, the soak run, a test) assembles it the same way from plain
values, and no tool has to import a command-line module as a library. The three steps stay
separate because callers need the gaps between them: `engine --standby` loads and builds, then
waits for a signal before binding the port; a benchmark loads a bank and builds its own engine.

    bank, names = open_bank(StyleSource(bank=folder), device="cpu", threads=1)
    conductor = build_conductor(bank, names, Settings(rate=15.0, weights=(("bible", 1.0),)))
    engine = start_engine(conductor, Live(port=57130, record=path))
    engine.sock.start(); engine.run()

Settings are checked before anything slow happens (`Settings.check`), and every mistake a user
can make is a `UserError` (a `SettingError` names the setting), so a front end can turn it into
one line instead of a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textconductor.assets import BANK_DIR
from textconductor.engine.bank import Bank
from textconductor.engine.blocklist import Blocklist
from textconductor.engine.conductor import CommandError, Conductor, Tuning
from textconductor.engine.guard import DEFAULT_ESCAPE, DEFAULT_STRENGTH, ESCAPES
from textconductor.engine.runner import Engine
from textconductor.errors import UserError
from textconductor.protocol import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    GUARD_STRENGTH_RANGE,
    RATE_RANGE,
    TEMPERATURE_RANGE,
    THRESHOLD_RANGE,
    TOP_P_RANGE,
    Command,
    Params,
)
from textconductor.protocol.defaults import (
    DEFAULT_MIX,
    DEFAULT_OSCQUERY_PORT,
    DEFAULT_RATE,
    DEFAULT_SEED,
    DEFAULT_TEMPERATURE,
    DEFAULT_THRESHOLD,
    DEFAULT_TOP_P,
    RESYNC_CHARS,
    RESYNC_FROM,
)

log = logging.getLogger(__name__)


class SettingError(UserError):
    """A setting the engine cannot start with. `setting` is the field's name (`top_p`), so a front
    end can name it in its own terms (`--top-p`) and keep `problem` as the rest of the message."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting, self.problem = setting, problem


# -- 1. the styles ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StyleSource:
    """Which checkpoints to play: exactly `checkpoints`, else `styles` of the `bank` folder (all of
    them when empty), else the bundled bank."""

    bank: Path | None = None
    styles: Sequence[str] = ()
    checkpoints: Sequence[Path] = ()

    def paths(self) -> list[Path]:
        """The checkpoint files, in a stable order; a UserError names what is missing."""
        from textconductor.engine.loader import bank_files
        if self.checkpoints:
            return [Path(p) for p in self.checkpoints]
        return bank_files(Path(self.bank) if self.bank else BANK_DIR, list(self.styles) or None)


def open_bank(source: StyleSource | None = None, device: str = "cpu", threads: int = 1) -> tuple[Bank, list[str]]:
    """(Bank, style names) on `device` ("auto" picks CUDA when present).

    `threads` bounds torch's intra-op threads: one by default, because the window and the
    controllers need the other core more than a 24-style step needs a second one.
    """
    import torch

    from textconductor.engine.loader import load_bank
    torch.set_num_threads(max(1, threads))
    return load_bank((source or StyleSource()).paths(), device)


# -- 2. the conductor ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    """What a performance starts with; every field can be changed live over OSC afterwards."""

    rate: float = DEFAULT_RATE
    temperature: float = DEFAULT_TEMPERATURE
    mix: str = DEFAULT_MIX
    threshold: float = DEFAULT_THRESHOLD
    top_p: float = DEFAULT_TOP_P
    seed: int = DEFAULT_SEED
    resync_chars: int = RESYNC_CHARS
    resync_from: str = RESYNC_FROM[0]
    guard: bool = True  # the loop guard (docs/performance.md); on unless asked otherwise
    guard_strength: float = DEFAULT_STRENGTH
    guard_escape: str = DEFAULT_ESCAPE
    weights: Sequence[tuple[str, float]] = ()  # (style, raw weight); empty: the first style alone
    prime: str | None = None  # text the performance starts from

    def check(self) -> None:
        """Refuse out-of-range values before the bank is loaded (seconds), not after."""
        for name, (lo, hi) in (("rate", RATE_RANGE), ("temperature", TEMPERATURE_RANGE),
                               ("threshold", THRESHOLD_RANGE), ("top_p", TOP_P_RANGE),
                               ("guard_strength", GUARD_STRENGTH_RANGE)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise SettingError(name, f"{value:g} is outside {lo:g}..{hi:g}")
        if self.resync_from not in RESYNC_FROM:
            raise SettingError("resync_from", f"{self.resync_from!r} is not one of {', '.join(RESYNC_FROM)}")
        if self.guard_escape not in ESCAPES:
            raise SettingError("guard_escape", f"{self.guard_escape!r} is not one of {', '.join(ESCAPES)}")


def build_conductor(bank: Bank, names: list[str], settings: Settings | None = None) -> Conductor:
    """The conductor with its bank and settings: everything up to going live (see start_engine)."""
    s = settings or Settings()
    s.check()
    params = Params(temperature=s.temperature, rate=s.rate, mix=s.mix, threshold=s.threshold, top_p=s.top_p)
    tuning = Tuning(resync_chars=max(0, s.resync_chars), resync_from=s.resync_from, guard=s.guard,
                    guard_strength=s.guard_strength, guard_escape=s.guard_escape)
    conductor = Conductor(bank, names, seed=s.seed, params=params, tuning=tuning)
    if s.weights:
        conductor.raw[:] = 0
        try:
            for name, w in s.weights:
                conductor.apply(Command("weight", (conductor.style(name) if name in names else name, w)))
        except CommandError as e:
            raise SettingError("weights", str(e)) from None
    if s.prime:
        conductor.prime(s.prime)
    return conductor


# -- 3. live: socket, subscribers, record, snapshot ---------------------------------------------

@dataclass(frozen=True)
class Live:
    """Where and how the engine goes live.

    `allow`: hosts that may control it (required by the socket for a non-loopback `host`).
    `record`: append the performance record here. `state`: write restart snapshots here.
    `restore`: start from this snapshot when the file exists. `echo`: called with every character.
    `blocklist`: the operator's blocklist file, read now and whenever it changes (None: no list).
    `styles_dir`: the folder `/tc/load NAME` reads from; `watch_styles`: poll it and load by itself.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allow: Sequence[str] = ()
    subscribers: Sequence[tuple[str, int]] = ()
    record: Path | None = None
    state: Path | None = None
    restore: Path | None = None
    echo: Callable[[str], None] | None = None
    blocklist: Path | None = None
    styles_dir: Path | None = None  # where `/tc/load NAME` finds NAME.safetensors (engine/hotload.py)
    watch_styles: bool = False  # load new or changed checkpoints of styles_dir by themselves
    index: Path | None = None  # a corpus index (`textconductor index`): mark verbatim spans (engine/provenance.py)
    index_required: bool = False  # the index was named by the user: its absence is an error, not a shrug
    verbatim_min: int = 0  # shortest span marked (0: provenance.DEFAULT_MIN_SPAN)
    oscquery: bool = False  # serve the OSC namespace over HTTP (engine/oscquery.py; the CLI turns it on)
    oscquery_port: int | None = DEFAULT_OSCQUERY_PORT  # TCP; None: the OSC port's number, 0: any free port
    mdns: bool = False  # announce _osc._udp (and _oscjson._tcp) on the engine's interface (engine/mdns.py)


def start_engine(conductor: Conductor, live: Live | None = None) -> Engine:
    """Restore (if asked), open the record, bind the socket: the moment the engine goes live.

    The socket is bound but its receive thread is not started, so the caller decides when
    commands begin to arrive (`engine.sock.start()`), e.g. after installing signal handlers.
    """
    from textconductor.engine import snapshot
    from textconductor.engine.record import Recorder, file_hashes, unused_path
    from textconductor.engine.server import EngineSocket
    live = live or Live()
    from textconductor.engine.runner import BlocklistFile
    restored = snapshot.read(Path(live.restore)) if live.restore else None
    if restored:
        snapshot.restore(conductor, restored)
        log.info("restored engine state at tick %d from %s", conductor.tick_index, live.restore)
    if live.blocklist:  # before the record starts, so its start state holds the list
        entries = BlocklistFile(Path(live.blocklist)).changed() or []
        conductor.set_blocklist(Blocklist.of(entries))
        log.info("blocklist %s: %s", live.blocklist, f"{len(entries)} entries" if entries else
                 "none (create the file to add words; docs/operations.md)")
    from textconductor.engine.provenance import DEFAULT_MIN_SPAN, open_live
    provenance = open_live(Path(live.index) if live.index else None, lambda: conductor.names,
                           live.verbatim_min or DEFAULT_MIN_SPAN, live.index_required)
    recorder = None
    if live.record:
        path = Path(live.record)
        state = snapshot.snapshot(conductor)
        if restored and path.exists() and path.stat().st_size > 0:
            recorder = Recorder(path)
            recorder.restored(state)
        else:
            if (free := unused_path(path)) != path:
                log.warning("%s holds a performance already: recording this one to %s", path, free)
                path = free
            recorder = Recorder(path)
            recorder.start(conductor.params.seed, conductor.names, file_hashes(conductor.bank.paths), state)
        log.info("recording the performance to %s", path)
    sock = EngineSocket(live.host, live.port, list(live.allow) or None)
    subscribers = [(str(h), int(p)) for h, p in live.subscribers]
    permanent = {(str(h), int(p)) for h, p in (restored or {}).get("permanent_subscribers", [])}
    leased = []
    for host, port in (restored or {}).get("subscribers", []):  # listeners carry on through a restart
        addr = (str(host), int(port))
        if addr in subscribers:
            continue
        (subscribers if addr in permanent else leased).append(addr)
    engine = Engine(conductor, sock, subscribers, echo=live.echo, recorder=recorder,
                    state_path=Path(live.state) if live.state else None, leased=leased,
                    blocklist=Path(live.blocklist) if live.blocklist else None,
                    styles_dir=Path(live.styles_dir) if live.styles_dir else None, watch_styles=live.watch_styles)
    engine.marks.restore((restored or {}).get("marks"))  # kept/rejected counts and the passage so far
    engine.provenance = provenance
    if live.oscquery or live.mdns:  # after the socket is bound: both describe it
        from textconductor.engine.oscquery import start_discovery
        start_discovery(engine, live.oscquery_port, serve=live.oscquery, announce=live.mdns)
    return engine
