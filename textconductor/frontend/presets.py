"""Weight presets: a small JSON store under the user's config dir, and the morph between mixes.

A preset is stored by style *name* (not bank index) so it survives a bank with other styles or
another order. The morph is a pure function of time, so a recall is smooth regardless of how often
the UI timer manages to fire on a loaded machine.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SLOTS = range(1, 10)


def default_presets_path() -> Path:
    """$TEXTCONDUCTOR_PRESETS wins (tests, several performers on one machine), else the config dir."""
    env = os.environ.get("TEXTCONDUCTOR_PRESETS")
    if env:
        return Path(env)
    from platformdirs import user_config_dir
    return Path(user_config_dir("textconductor")) / "presets.json"


class PresetStore:
    """Slots 1..9 of {style name: raw weight}, written atomically on every save."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_presets_path()
        self.slots: dict[int, dict[str, float]] = {}
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text()
            if not text.strip():
                return
            raw = json.loads(text)
            for k, v in raw.get("slots", {}).items():
                slot = int(k)
                if slot in SLOTS and isinstance(v, dict):
                    self.slots[slot] = {str(n): min(max(float(w), 0.0), 1.0) for n, w in v.items()}
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, AttributeError) as e:
            # A corrupt file must not stop a performance: start empty and keep the bad file for inspection.
            log.warning("presets: ignoring unreadable %s (%s)", self.path, e)

    def save(self, slot: int, weights: dict[str, float]) -> None:
        if slot not in SLOTS:
            raise ValueError(f"preset slot must be 1..9, got {slot}")
        self.slots[slot] = {n: float(w) for n, w in weights.items()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps({"slots": {str(k): v for k, v in sorted(self.slots.items())}}, indent=1)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".presets-")
        with os.fdopen(fd, "w") as f:
            f.write(data)
        os.replace(tmp, self.path)

    def get(self, slot: int) -> dict[str, float] | None:
        return self.slots.get(slot)


def smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def morph(start: dict[str, float], end: dict[str, float], t: float) -> dict[str, float]:
    """Weights at fraction t (0..1) of a morph; a style missing on one side counts as 0 there."""
    s = smoothstep(t)
    names = list(dict.fromkeys([*start, *end]))
    return {n: (1 - s) * start.get(n, 0.0) + s * end.get(n, 0.0) for n in names}
