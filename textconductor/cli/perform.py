"""`textconductor perform SCORE`: play a score file (a TOML timeline) on a running engine, headless.

A thin shell over `textconductor.controllers.score`: read and check the score, connect, check its
style names against the engine's, play until the score ends (a looping score: until Ctrl-C).
`--check` only validates it, offline, against the bundled style table. The score's `say` lines are
this command's output. The format: docs/controllers.md, "Scores"; examples: assets/scores/.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from textconductor.cli.args import DEFAULT_ENGINE, positive_float
from textconductor.errors import UserError

log = logging.getLogger("textconductor.perform")


def _summary(score) -> str:  # a Score
    timed = [e for e in score.events if e.at is not None]
    waits = len(score.events) - len(timed)
    span = score.length if score.length is not None else score.timed_end
    m, s = divmod(round(span), 60)
    parts = [f"{len(score.events)} event(s)", f"{m}:{s:02d}"]
    if waits:
        parts.append(f"{waits} on character counts")
    if score.loop:
        parts.append("loops")
    if score.styles:
        parts.append("styles " + ", ".join(sorted(score.styles)))
    return ", ".join(parts)


def cmd_perform(a: argparse.Namespace) -> int:
    from textconductor.cli.controllers import engine_address
    from textconductor.controllers.score import check_styles, load_score
    from textconductor.controllers.score.parse import bundled_styles
    score = load_score(a.score)
    if a.check:
        check_styles(score, bundled_styles(), "the bundled style table")
        print(f"{a.score}: ok ({_summary(score)})")
        return 0
    from textconductor.controllers.score import ScoreConnection
    host, port = engine_address(a.engine)
    io = ScoreConnection(host, port)
    player = None
    try:
        if not io.wait_for_engine(a.wait):
            raise UserError(f"no engine answers at {host}:{port} (start one with `textconductor play` or "
                            "`textconductor engine`, or name it with --engine HOST:PORT)")
        check_styles(score, io.styles, f"the engine at {host}:{port}")
        player = io.player(score, on_say=lambda text: print(text, flush=True))
        log.info("performing %s on %s:%d (%s)", a.score, host, port, _summary(score))
        player.start()
        while not player.wait(0.5):
            pass
        print(f"score ended after {player.elapsed:.1f} s")
        return 0
    finally:
        if player is not None:
            player.stop()
        io.close()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("perform", help="play a score (a TOML timeline of weights and settings) on an engine",
                       description="Play a score file on a running engine: weights by style name (with morphs), "
                       "temperature, rate, mix, guard, prime text, pause/resume, loop, at times or after "
                       "character counts. Format: docs/controllers.md (Scores); examples in "
                       "textconductor/assets/scores/.")
    p.add_argument("score", type=Path, help="the score file (.toml)")
    p.add_argument("--engine", default=DEFAULT_ENGINE, metavar="HOST:PORT",
                   help=f"engine address (default {DEFAULT_ENGINE})")
    p.add_argument("--check", action="store_true",
                   help="only validate the score (style names against the bundled style table) and exit")
    p.add_argument("--wait", type=positive_float, default=10.0, metavar="S",
                   help="seconds to wait for the engine to answer (default 10)")
    p.set_defaults(func=cmd_perform)
