"""Scores: a TOML timeline that plays the engine (docs/controllers.md, "Scores").

`parse` reads and checks a score, `timeline` says what is due when (pure), `player` sends it to an
engine or a window. `textconductor perform SCORE` is the command; the window's Score menu plays one too.
"""

from textconductor.controllers.score.parse import Event, Score, ScoreError, check_styles, load_score, parse_score
from textconductor.controllers.score.player import ScoreConnection, ScorePlayer, ScoreSink
from textconductor.controllers.score.timeline import Action, Timeline

__all__ = ["Action", "Event", "Score", "ScoreConnection", "ScoreError", "ScorePlayer", "ScoreSink", "Timeline",
           "check_styles", "load_score", "parse_score"]
