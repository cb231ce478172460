"""Everything a restarted engine needs to carry on where the last one stopped, as JSON.

The LSTM states are not saved: a restored engine starts with every style inactive, and the
active ones re-synchronise on the restored history at the first tick, exactly as a style does
when it comes in during a performance. The sampler's generator state is saved, so the random
stream continues rather than repeating.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from textconductor.engine.blocklist import Blocklist
from textconductor.engine.conductor import Conductor
from textconductor.protocol import MIX_MODES
from textconductor.protocol.charset import fold
from textconductor.protocol.defaults import RESYNC_FROM

log = logging.getLogger(__name__)

HISTORY_SAVED = 2600  # at least LoopRules().history_needed: the loop guard is rebuilt from it


def snapshot(c: Conductor) -> dict[str, Any]:
    return {
        "version": 1,
        "names": list(c.names),
        "tick": c.tick_index,
        "raw": [float(x) for x in c.raw],
        "enabled": [bool(x) for x in c.enabled],
        "last_weights": None if c._weights is None else [float(x) for x in c._weights],
        "params": dict(c.params.__dict__),
        "sampler": c.sampler.rng.bit_generator.state,
        "history": c.text_tail(HISTORY_SAVED),
        "paused": c.paused,
        "guard": c.guard.state(),
        "guard_counts": c.counts.as_dict(),
        "blocklist": sorted(c.blocklist.blocklist.entries),
        "crowd": c.crowd.state(),
        "resync": {"from": c.tuning.resync_from, "chars": c.tuning.resync_chars},
    }


def restore(c: Conductor, snap: dict[str, Any]) -> None:
    """Apply a snapshot; styles are matched by name, so a changed bank restores what it can."""
    idx = {n: i for i, n in enumerate(snap["names"])}
    for j, name in enumerate(c.names):
        if name in idx:
            c.raw[j] = float(snap["raw"][idx[name]])
            c.enabled[j] = bool(snap["enabled"][idx[name]])
    last = snap.get("last_weights")
    if last is not None and snap["names"] == c.names:
        c._weights = np.asarray(last, dtype=np.float64)
    else:
        c._update_weights()
    p = snap.get("params", {})
    for key in ("temperature", "rate", "threshold", "top_p"):
        if key in p:
            setattr(c.params, key, float(p[key]))
    if p.get("mix") in MIX_MODES:
        c.params.mix = p["mix"]
    c.params.seed = int(p.get("seed", c.params.seed))
    c.sampler.reseed(c.params.seed)
    if "sampler" in snap:
        c.sampler.rng.bit_generator.state = snap["sampler"]
    c.tick_index = int(snap["tick"])
    c.paused = bool(snap.get("paused", False))
    c.history.clear()
    c.history.extend(fold(snap.get("history", "")) or "\n")
    c.bank.set_active([])
    resync = snap.get("resync")
    if isinstance(resync, dict) and resync.get("from") in RESYNC_FROM:  # how newcomers joined, so replay is exact
        c.set_resync(resync["from"], int(resync.get("chars", c.tuning.resync_chars)))
    if "blocklist" in snap:
        c.blocklist.blocklist = Blocklist.of(snap["blocklist"])
    c.blocklist.rebuild("".join(c.history))
    c.guard.restore(snap.get("guard", {}), "".join(c.history))
    c._fit = {}
    if "crowd" in snap:
        c.crowd.restore(snap["crowd"], len(c.names))
        if last is None or snap["names"] != c.names:
            c._update_weights()
    for key, value in snap.get("guard_counts", {}).items():
        if hasattr(c.counts, key):
            setattr(c.counts, key, int(value))


def write(path: Path, snap: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(snap))
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any] | None:
    """The snapshot, or None (logged) when it is missing or unreadable: start fresh, never crash."""
    try:
        snap = json.loads(Path(path).read_text())
        if not isinstance(snap, dict) or snap.get("version") != 1 or not isinstance(snap.get("names"), list):
            raise ValueError("not a textconductor engine snapshot")
        return snap
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        log.warning("cannot restore from %s (%s): starting fresh", path, e)
        return None
