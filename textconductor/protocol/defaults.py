"""Runtime defaults that the engine, the window, the controllers and the CLI must agree on.

Each is defined here once, because a default restated in two processes drifts: the window and
the headless autopilot once waited 60 s and 30 s for the same thing. Everything that starts an
engine, draws a slider's starting position or documents an option's default reads these names.

This module imports nothing, so `textconductor.protocol` itself can take its `Params` defaults from
here without an import cycle. The engine's address is part of the wire and stays beside it:
`textconductor.protocol.DEFAULT_HOST` and `DEFAULT_PORT`.
"""

from __future__ import annotations

# -- generation (the engine's Params; the window's sliders start here) -------------------------

DEFAULT_RATE = 15.0  # characters per second: reads like a typewriter (DESIGN: 10-20)
DEFAULT_TEMPERATURE = 0.8  # sharp enough to stay in style, loose enough not to loop
DEFAULT_MIX = "linear"  # the classic mixture; "product" is the sharper alternative
DEFAULT_THRESHOLD = 0.05  # a style is active above 5% of the normalised weight (DESIGN, tick step 2)
DEFAULT_TOP_P = 1.0  # no nucleus cut unless a performer asks for one
DEFAULT_SEED = 0
# A newly active style starts from its home (the state its own opening leaves it in) and reads the
# last few characters of the history (DESIGN, tick step 3; engine/home.py says why): measured on the
# bundled bank, hard switches read as the new style sooner than after reading 80 characters of the
# old one from a blank state (the first design, still `--resync-from blank --resync-chars 80`).
RESYNC_FROM = ("home", "blank")  # the first is the default
RESYNC_CHARS = 10  # history a newly active style reads before it speaks, the last character included

# -- the loop guard (engine/guard.py; the figures behind these are in docs/performance.md) ------

GUARD_ESCAPES = ("shift", "block", "penalty", "heat")
# Measured against each other in docs/performance.md: the penalty leaves loops as well as blocking
# does (and better than the ensemble's shift or a temperature lift), writes the fewest non-words,
# and never makes a character impossible. At strength 0.5 every escape lets loops through.
DEFAULT_GUARD_ESCAPE = "penalty"
DEFAULT_GUARD_STRENGTH = 1.0

# -- subscriptions -----------------------------------------------------------------------------

# A /tc/subscribe holds for this long unless renewed; every client renews well within it (the
# window every 5 s while online, EngineConnection every 2 s). Three times the window's renewal, so
# two lost datagrams in a row never cost a subscription, and 40 vanished clients free their places
# within 15 s instead of never.
SUBSCRIPTION_LEASE_S = 15.0

# -- an external clock (/tc/advance; controllers/tempo) ----------------------------------------

# After a /tc/advance the engine's own rate stays silent this long, so a tempo controller owns the
# timing; it sends /tc/advance 0 between characters to keep holding. Should the controller vanish,
# the engine plays on at its own rate after this (a gallery never falls silent for good).
EXTERNAL_CLOCK_HOLD_S = 2.0

# -- discovery (OSCQuery over HTTP, mDNS; engine/oscquery.py, docs/osc.md) ---------------------

# The OSCQuery server's TCP port. None: the same number as the engine's OSC (UDP) port, so an
# operator opens one number for both, and an engine started on another port (a test, a second
# engine) never collides with the first one's HTTP server.
DEFAULT_OSCQUERY_PORT: int | None = None

# -- the idle autopilot (window and headless alike) --------------------------------------------

# 60 s, not 30: the autopilot is for an unattended room, and a visitor who stops to read the
# text must not have the piece taken out of their hands while they think about the next move.
AUTOPILOT_IDLE_S = 60.0
AUTOPILOT_LEG_S = 15.0  # seconds from one style's waypoint to the next: long enough to read each

# -- provenance (engine/provenance.py, `textconductor index`) ----------------------------------

# The shortest span the engine marks as copied verbatim from a corpus. Measured by `bench
# memorisation` (docs/models.md): of the verbatim spans the bank writes, 23% of those of 16-19
# characters and 7% of 24-27 are found in two or more books (phrases of the language, not copies);
# from 28 on, 3% and fewer. The benchmark prints this choice (at most 5% shared) with its table.
VERBATIM_MIN_CHARS = 28
