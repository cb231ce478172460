"""`OscSink`: a ControlSink that talks straight to the engine over OSC (docs/osc.md).

Why: a MIDI controller, the osc-bridge or the autopilot can then run headless beside an engine,
with no frontend (a gallery box, a rehearsal without a screen). All of it is the protocol's
engine client (`textconductor.protocol.client.EngineConnection`): the sink learns the engine's
styles by pinging it (`/tc/ping` -> `/tc/hello` answered to the sender) and keeps pinging, so an
engine that starts late or restarts is picked up without restarting the controller.

Sending never blocks and never raises: UDP to a dead engine is simply lost (and logged once).
Presets are the sink's own (in memory): `preset_save n` remembers the weights and settings this
sink knows, `preset_recall n` sends them back.
"""

from __future__ import annotations

from textconductor.protocol.address import DEFAULT_HOST, DEFAULT_PORT, parse_address
from textconductor.protocol.client import PING_EVERY_S, EngineConnection

__all__ = ["PING_EVERY_S", "OscSink", "parse_engine_address"]


def parse_engine_address(text: str) -> tuple[str, int]:
    """'HOST:PORT', ':PORT', 'PORT' or 'HOST' -> (host, port), defaults from the protocol."""
    return parse_address(text, what="engine address")


class OscSink(EngineConnection):
    """ControlSink over UDP to one engine. Thread-safe; call `close()` when done."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, styles: list[str] | None = None,
                 ping: bool = True) -> None:
        super().__init__(host, port, styles, ping)
