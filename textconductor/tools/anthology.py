"""An anthology of kept passages: Markdown, or one self-contained HTML file a curator can print.

Pure: marks (`engine.marks.read_marks`) in, text out. Each passage carries its mixture in the
window's own style colours and names (`frontend.theme`, the one place they are defined, with its
stable fallback colour for a style the table does not know), its time (UTC, so the same record gives
the same anthology anywhere), and the command that regenerates it from its record:
`textconductor replay RECORD --passage START:END` prints exactly the passage's text.

The HTML has no external resource at all (inline CSS, no fonts, scripts or images to fetch), is
well-formed XML as well as HTML, and prints: colours are kept in print and a passage is never
split across pages.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Sequence
from html import escape
from pathlib import Path

from textconductor.engine.marks import Mark

FORMATS = ("md", "html")


def regenerate_command(m: Mark) -> str:
    """The command line that prints this passage's text again from its record."""
    record = shlex.quote(str(m.record)) if m.record is not None else "RECORD"
    return f"textconductor replay {record} --passage {m.start_tick}:{m.end_tick}"


def when(m: Mark) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(m.time))


def _looks(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """style -> (display name, colour), as the window shows them."""
    from textconductor.frontend.theme import load_theme
    theme = load_theme()
    return {n: (theme.style(n).display, theme.style(n).colour) for n in names}


def _settings(m: Mark) -> str:
    parts = [f"temperature {m.temperature:.2f}", f"{m.mix} mix" if m.mix else "", f"seed {m.seed}",
             f"ticks {m.start_tick}–{m.end_tick}"]
    return " · ".join(p for p in parts if p)


def _summary(marks: Sequence[Mark], records: Sequence[Path]) -> str:
    kept = sum(m.kind == "keep" for m in marks)
    rejected = len(marks) - kept
    what = f"{kept} kept passage{'s' if kept != 1 else ''}"
    if rejected:
        what += f" and {rejected} rejected"
    names = ", ".join(Path(r).name for r in records)
    return f"{what} from {len(records)} performance record{'s' if len(records) != 1 else ''} ({names})."


def _fence(text: str) -> str:
    """A Markdown code fence longer than any run of tildes in the text."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "~" else 0
        longest = max(longest, run)
    return "~" * max(3, longest + 1)


def markdown(marks: Sequence[Mark], records: Sequence[Path]) -> str:
    looks = _looks(sorted({n for m in marks for n in m.weights}))
    out = ["# Anthology", "", _summary(marks, records), ""]
    for k, m in enumerate(marks, 1):
        body = m.text.strip("\n")
        fence = _fence(body)
        mix = " · ".join(f"{looks[n][0]} {100 * w:.0f}%" for n, w in m.weights.items())
        title = f"## {k} · {when(m)}" + (" · rejected" if m.kind == "reject" else "")
        out += [title, "", f"*{mix}* — {_settings(m)}", "", f"{fence}text", body, fence, "",
                f"Regenerate: `{regenerate_command(m)}`", ""]
    return "\n".join(out)


CSS = """
@page { margin: 18mm 16mm; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 46rem; padding: 2rem 1.5rem; background: #fff; color: #1b1b1f;
       font: 11pt/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif;
       -webkit-print-color-adjust: exact; print-color-adjust: exact; }
header { border-bottom: 2px solid #1b1b1f; margin-bottom: 1.5rem; }
h1 { font: 600 2rem/1.2 "DejaVu Serif", Georgia, serif; margin: 0 0 .3rem; letter-spacing: .02em; }
header p { margin: 0 0 .8rem; color: #555; }
article { break-inside: avoid; page-break-inside: avoid; margin: 0 0 1.8rem; padding: .2rem 0 .2rem 1rem;
          border-left: 4px solid var(--lead); }
article.reject { opacity: .6; }
h2 { font-size: .85rem; font-weight: 600; color: #555; margin: 0 0 .4rem; text-transform: uppercase;
     letter-spacing: .06em; }
h2 .n { color: #1b1b1f; margin-right: .5rem; }
h2 .tag { color: #b3261e; margin-left: .5rem; }
.mix { display: flex; height: .5rem; border-radius: .25rem; overflow: hidden; margin: 0 0 .35rem; background: #eee; }
.mix span { display: block; height: 100%; }
ul.legend { list-style: none; padding: 0; margin: 0 0 .6rem; font-size: .85rem; color: #333; }
ul.legend li { display: inline-block; margin-right: 1rem; }
.chip { display: inline-block; width: .7rem; height: .7rem; border-radius: 50%; margin-right: .3rem;
        vertical-align: -.05rem; }
pre.text { font: 12pt/1.5 "DejaVu Serif", Georgia, serif; white-space: pre-wrap; overflow-wrap: anywhere;
           tab-size: 4; margin: 0 0 .6rem; }
p.meta, p.regen { font-size: .8rem; color: #555; margin: .1rem 0; }
code { font: .8rem "DejaVu Sans Mono", Menlo, monospace; background: #f3f3f5; padding: .05rem .3rem;
       border-radius: .2rem; overflow-wrap: anywhere; }
footer { margin-top: 2rem; font-size: .75rem; color: #777; border-top: 1px solid #ddd; padding-top: .5rem; }
"""


def html(marks: Sequence[Mark], records: Sequence[Path]) -> str:
    looks = _looks(sorted({n for m in marks for n in m.weights}))
    parts = ['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8"/>',
             '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
             "<title>Anthology</title>", f"<style>{CSS}</style>", "</head>", "<body>",
             f"<header><h1>Anthology</h1><p>{escape(_summary(marks, records))}</p></header>", "<main>"]
    for k, m in enumerate(marks, 1):
        lead = looks[next(iter(m.weights))][1] if m.weights else "#999999"
        bar = "".join(f'<span style="width:{100 * w:.2f}%;background:{looks[n][1]}" title="{escape(looks[n][0])}">'
                      f"</span>" for n, w in m.weights.items())
        legend = "".join(f'<li><span class="chip" style="background:{looks[n][1]}"></span>'
                         f"{escape(looks[n][0])} {100 * w:.0f}%</li>" for n, w in m.weights.items())
        tag = '<span class="tag">rejected</span>' if m.kind == "reject" else ""
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(m.time))
        parts += [f'<article class="passage {m.kind}" style="--lead:{lead}">',
                  f'<h2><span class="n">{k}</span><time datetime="{iso}">{escape(when(m))}</time>{tag}</h2>',
                  f'<div class="mix">{bar}</div>', f'<ul class="legend">{legend}</ul>',
                  f'<pre class="text">{escape(m.text.strip(chr(10)))}</pre>',
                  f'<p class="meta">{escape(_settings(m))}</p>',
                  f'<p class="regen">Regenerate: <code>{escape(regenerate_command(m))}</code></p>', "</article>"]
    parts += ["</main>", "<footer>Written by textconductor anthology. Every passage regenerates exactly from its "
              "performance record with the command under it.</footer>", "</body>", "</html>", ""]
    return "\n".join(parts)


def render(marks: Sequence[Mark], fmt: str, records: Sequence[Path]) -> str:
    if fmt == "md":
        return markdown(marks, records)
    if fmt == "html":
        return html(marks, records)
    from textconductor.errors import UserError
    raise UserError(f"unknown anthology format {fmt!r} ({' or '.join(FORMATS)})")
