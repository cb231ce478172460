"""Where each style is at home: the state its own writing leaves it in, for re-sync from home.

Why. A newly active style must pick up the text where it is (mid-line, mid-word), and the first
design (DESIGN, tick step 3) reset its state and fed it the last 80 characters. Those are the
previous style's characters, and a style that has read 80 characters of C goes on writing C: hard
switches to a new style took a median of 8 characters and 3-4% never arrived within 200
(docs/models.md, switch latency). A state that has read only a newline is no better: mid-text it
drifts into what the shared base learnt from blank states. So each style keeps a *home*: the state
after it has written a short opening of its own (from a newline, at a low temperature, cut at the
end of a line or sentence), and a newcomer starts from home and reads only the last few characters
of the history (the word in progress, the punctuation): it knows who it is and where the text is.

The openings are sampled once, all styles together in the bank's own batched step (about 1 s for 24
styles of 2x256 on one core), with a fixed seed, so a seeded performance stays reproducible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from textconductor.protocol.charset import CHAR_TO_INDEX, CHARS

if TYPE_CHECKING:  # bank.py imports this module when it finds its homes
    from textconductor.engine.bank import Bank

HOME_CHARS = 160  # characters of its own a style writes to find its home
HOME_TEMPERATURE = 0.5  # low: its most typical writing, not its wildest
HOME_SEED = 0
START = "\n"
_ENDS = {CHAR_TO_INDEX["\n"]}  # a home is cut where a line ends ...
_SPACE, _STOP = CHAR_TO_INDEX[" "], {CHAR_TO_INDEX[c] for c in ".;:!?"}  # ... or a sentence does


@torch.no_grad()
def home_states(bank: Bank, chars: int = HOME_CHARS, temperature: float = HOME_TEMPERATURE,
                seed: int = HOME_SEED) -> list[tuple[torch.Tensor, torch.Tensor, str]]:
    """Each style's home (h, c, text): h and c [layers, hidden] are its state after the last line or
    sentence end of its own `chars`-character opening (after all of it, if it wrote none), and
    `text` is that opening up to there: the state is what the style reads from START + text.

    Uses `bank`'s slots; the bank must have no active style (it is left with none, states zeroed)."""
    if bank.active:
        raise RuntimeError("home states are found on a bank with no active style")
    styles = list(range(bank.n))
    bank.set_active(styles)
    bank.reset_states()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    rows = torch.arange(bank.n)
    h_home, c_home = bank.h[:, :bank.n].cpu().clone(), bank.c[:, :bank.n].cpu().clone()
    found = torch.zeros(bank.n, dtype=torch.bool)
    written: list[list[int]] = [[] for _ in styles]
    cut = [0] * bank.n
    logp = bank.step(START)
    prev = [CHAR_TO_INDEX[START]] * bank.n
    for _ in range(chars):
        probs = torch.softmax(logp.float().cpu() / max(temperature, 1e-3), dim=-1)
        x = torch.multinomial(probs, 1, generator=gen)[:, 0]
        logp = bank.step_each(x.to(bank.device))
        now = x.tolist()
        end = torch.tensor([c in _ENDS or (c == _SPACE and p in _STOP) for c, p in zip(now, prev, strict=True)])
        for s, c in enumerate(now):
            written[s].append(c)
            if end[s]:
                cut[s] = len(written[s])
        if end.any():
            at = rows[end]
            h_home[:, at] = bank.h[:, at].cpu()
            c_home[:, at] = bank.c[:, at].cpu()
            found |= end
        prev = now
    if not found.all():  # no line or sentence ended in its opening: home is where the opening stopped
        h_home[:, ~found] = bank.h[:, :bank.n][:, ~found].cpu()
        c_home[:, ~found] = bank.c[:, :bank.n][:, ~found].cpu()
    bank.set_active([])
    bank.reset_states()
    texts = ["".join(CHARS[c] for c in (w[:cut[s]] if found[s] else w)) for s, w in enumerate(written)]
    return [(h_home[:, s].clone(), c_home[:, s].clone(), texts[s]) for s in styles]
