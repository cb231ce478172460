"""The bank: every style's weights stacked, the active ones stepped in one batched computation.

Why this shape. Stepping 24 small LSTMs one by one costs ~30 ms a character (Python and kernel
overhead dominate); stacking the weights and using one `baddbmm` per layer over all active styles
costs ~3 ms, at the memory-bandwidth limit of reading the weights once. Gathering the active
styles' weights anew each step would cost more than it saves, so active styles live in *slots*:
contiguous buffers whose first A rows are the active styles. Activating a style copies its
weights into the next free slot; deactivating moves the last slot into the hole. Only the styles
that change pay, and the per-step kernels read exactly the A active styles' weights.

Layer 0's input projection is folded into a table (embedding @ W_ih + biases: one row per
character), so the first layer costs one table lookup plus its recurrent product.

A style can join a running bank (engine/hotload.py): `prepare` builds its arrays on a loader
thread, and `add_style` (or `replace_style`, for a retrained one) swaps them in between ticks.
Each style keeps its own arrays and the slot buffers have spare rows, so joining moves nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from textconductor.errors import UserError
from textconductor.model.charlstm import CharLSTM
from textconductor.protocol.charset import CHAR_TO_INDEX

SPARE_SLOTS = 8  # slot rows beyond the bank's size: room for hot-loaded styles (engine/hotload.py)


class BankError(UserError):
    """Checkpoints that cannot be stepped together (different shapes)."""


class Bank:
    def __init__(self, models: Sequence[CharLSTM], device: str | torch.device = "cpu",
                 spare_slots: int = SPARE_SLOTS) -> None:
        if not models:
            raise BankError("a bank needs at least one style")
        shapes = {(m.config.layers, m.config.hidden, m.config.embed, m.config.vocab) for m in models}
        if len(shapes) != 1:
            raise BankError(f"all styles of a bank must share one shape (layers, hidden, embed); got {sorted(shapes)}")
        self.layers, self.hidden, _, self.vocab = shapes.pop()
        self.device = torch.device(device)
        self.models = [m.to(self.device).eval() for m in models]  # kept for re-sync (fused nn.LSTM)
        self.n = len(models)
        self.paths: list = []  # checkpoint files, when loaded from disk (for the performance record)
        with torch.no_grad():
            full = self._stack(models)
        # Each style's arrays (views into one stacked block; a hot-loaded style brings its own).
        self._styles = [{k: v[i] for k, v in full.items()} for i in range(self.n)]
        # Slot buffers: rows [0, A) hold the active styles' weights and states. They have room
        # for a few more styles than the bank holds, so a hot-loaded style costs no reallocation.
        self._alloc_slots(self.n + spare_slots, full)
        self.slots: list[int] = []

    def _alloc_slots(self, capacity: int, like: dict[str, torch.Tensor]) -> None:
        self.capacity = capacity
        self._slot_w = {k: torch.empty((capacity, *v.shape[1:]), dtype=v.dtype, device=self.device)
                        for k, v in like.items()}
        zeros = torch.zeros(self.layers, capacity, self.hidden, device=self.device)
        self.h, self.c = zeros, zeros.clone()

    def check_shape(self, model: CharLSTM) -> None:
        """Refuse a style that cannot be stepped with this bank (BankError names both shapes)."""
        c = model.config
        if (c.layers, c.hidden, c.vocab) != (self.layers, self.hidden, self.vocab):
            raise BankError(f"a style of shape {c.layers}x{c.hidden} cannot join a bank of "
                            f"{self.layers}x{self.hidden} styles")

    @torch.no_grad()
    def prepare(self, model: CharLSTM) -> dict[str, torch.Tensor]:
        """One style's stepping arrays and its home (engine/home.py), built apart from the bank (safe
        on another thread: it only reads the bank's shape), for `add_style` or `replace_style`."""
        self.check_shape(model)
        model = model.to(self.device).eval()
        alone = Bank([model], self.device, spare_slots=0)  # one style's slot: enough to find its home
        alone.find_homes()
        return alone._styles[0]

    def add_style(self, model: CharLSTM, arrays: dict[str, torch.Tensor]) -> int:
        """Grow the bank by one prepared style (inactive); return its index. Cheap: no weights of
        the other styles move unless the slot buffers are full (then only the active rows do)."""
        if self.n >= self.capacity:
            old_w, old_h, old_c, a = self._slot_w, self.h, self.c, len(self.slots)
            self._alloc_slots(self.n + SPARE_SLOTS, old_w)
            with torch.no_grad():
                for k, w in old_w.items():
                    self._slot_w[k][:a].copy_(w[:a])
                self.h[:, :a].copy_(old_h[:, :a])
                self.c[:, :a].copy_(old_c[:, :a])
        self.models.append(model.to(self.device).eval())
        self._styles.append(arrays)
        self.n += 1
        return self.n - 1

    def replace_style(self, style: int, model: CharLSTM, arrays: dict[str, torch.Tensor]) -> None:
        """A retrained style takes its old place; if it was active it is deactivated, so the next
        `set_active` brings it back in with a fresh state (re-synchronised like any newcomer)."""
        if style in self.slots:
            self._remove(style)
        self.models[style] = model.to(self.device).eval()
        self._styles[style] = arrays

    def _stack(self, models: Sequence[CharLSTM]) -> dict[str, torch.Tensor]:
        L = self.layers
        out: dict[str, list[torch.Tensor]] = {"t0": [], "whh0": [], "head_w": [], "head_b": []}
        for layer in range(1, L):
            out[f"wcat{layer}"], out[f"b{layer}"] = [], []
        for m in models:
            lstm = m.lstm
            b0 = lstm.bias_ih_l0 + lstm.bias_hh_l0
            out["t0"].append(m.embed.weight @ lstm.weight_ih_l0.T + b0)  # [V, 4H]
            out["whh0"].append(lstm.weight_hh_l0.T)  # [H, 4H]
            for layer in range(1, L):
                w_ih, w_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
                out[f"wcat{layer}"].append(torch.cat([w_ih.T, w_hh.T], dim=0))  # [2H, 4H]
                out[f"b{layer}"].append(getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}"))
            out["head_w"].append(m.head.weight.T)  # [H, V]
            out["head_b"].append(m.head.bias)
        return {k: torch.stack(v).contiguous().to(self.device) for k, v in out.items()}

    # -- active set ------------------------------------------------------------------------

    @property
    def active(self) -> list[int]:
        """Style indices in slot order (the row order of `step`'s output)."""
        return list(self.slots)

    def set_active(self, styles: Sequence[int]) -> list[int]:
        """Make exactly `styles` active; return the newly activated ones (their state is reset)."""
        want = set(styles)
        for s in [s for s in self.slots if s not in want]:
            self._remove(s)
        added = [s for s in styles if s not in self.slots]
        for s in added:
            self._add(s)
        return added

    def _add(self, style: int) -> None:
        k = len(self.slots)
        with torch.no_grad():
            for name, buf in self._slot_w.items():
                buf[k].copy_(self._styles[style][name])
            self.h[:, k].zero_()
            self.c[:, k].zero_()
        self.slots.append(style)

    def _remove(self, style: int) -> None:
        k, last = self.slots.index(style), len(self.slots) - 1
        if k != last:
            with torch.no_grad():
                for w in self._slot_w.values():
                    w[k].copy_(w[last])
                self.h[:, k].copy_(self.h[:, last])
                self.c[:, k].copy_(self.c[:, last])
            self.slots[k] = self.slots[last]
        self.slots.pop()

    # -- state -----------------------------------------------------------------------------

    def reset_states(self) -> None:
        self.h.zero_()
        self.c.zero_()

    # -- home (engine/home.py) ---------------------------------------------------------------

    @property
    def has_homes(self) -> bool:
        return all("home_h" in a for a in self._styles)

    def find_homes(self) -> None:
        """Give every style without one its home state (engine/home.py); needs no active style."""
        from textconductor.engine.home import home_states
        if self.has_homes:
            return
        for arrays, (h, c, _text) in zip(self._styles, home_states(self), strict=True):
            arrays.setdefault("home_h", h.to(self.device))
            arrays.setdefault("home_c", c.to(self.device))

    @torch.no_grad()
    def go_home(self, style: int) -> bool:
        """Put an active style in its home state (False, and nothing changes, if it has none)."""
        arrays = self._styles[style]
        if "home_h" not in arrays:
            return False
        k = self.slots.index(style)
        self.h[:, k].copy_(arrays["home_h"])
        self.c[:, k].copy_(arrays["home_c"])
        return True

    @torch.no_grad()
    def feed(self, style: int, text: str) -> None:
        """Advance one active style's state through `text` in one fused pass (nn.LSTM).

        Used to re-synchronise a newly active style on recent history and to feed primed text:
        one fused call per style is ~4x faster than stepping the batch through time.
        """
        if not text:
            return
        k = self.slots.index(style)
        state = (self.h[:, k:k + 1].contiguous(), self.c[:, k:k + 1].contiguous())
        h, c = self.models[style].prime(text, state)
        self.h[:, k:k + 1] = h
        self.c[:, k:k + 1] = c

    # -- the hot path ----------------------------------------------------------------------

    @torch.inference_mode()
    def step(self, char: int | str) -> torch.Tensor:
        """Feed `char` to every active style at once; return their log-probabilities [A, vocab]."""
        a = len(self.slots)
        if a == 0:
            return torch.empty(0, self.vocab, device=self.device)
        idx = CHAR_TO_INDEX[char] if isinstance(char, str) else int(char)
        return self._advance(self._slot_w["t0"][:a, idx])

    @torch.inference_mode()
    def step_each(self, chars: torch.Tensor) -> torch.Tensor:
        """Feed each active style its own character (`chars` [A], in slot order): for styles that
        write apart, as when they find their homes; the performance steps them all on one."""
        a = len(self.slots)
        return self._advance(self._slot_w["t0"][torch.arange(a, device=self.device), chars])

    def _advance(self, x0: torch.Tensor) -> torch.Tensor:
        """One step of the active styles given layer 0's input rows [A, 4H] (the folded table's)."""
        a = len(self.slots)
        w = self._slot_w
        h_prev = None
        for layer in range(self.layers):
            h, c = self.h[layer, :a], self.c[layer, :a]
            if layer == 0:
                gates = torch.baddbmm(x0.unsqueeze(1), h.unsqueeze(1), w["whh0"][:a]).squeeze(1)
            else:
                x = torch.cat([h_prev, h], dim=1).unsqueeze(1)
                gates = torch.baddbmm(w[f"b{layer}"][:a].unsqueeze(1), x, w[f"wcat{layer}"][:a]).squeeze(1)
            i, f, g, o = gates.chunk(4, dim=1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h_new = torch.sigmoid(o) * torch.tanh(c_new)
            self.c[layer, :a] = c_new
            self.h[layer, :a] = h_new
            h_prev = h_new
        logits = torch.baddbmm(w["head_b"][:a].unsqueeze(1), h_prev.unsqueeze(1), w["head_w"][:a]).squeeze(1)
        return torch.log_softmax(logits, dim=-1)

    def weight_bytes(self, active: int) -> int:
        """Bytes of weights one step reads for `active` styles (one t0 row per style)."""
        arrays = self._styles[0]
        per = sum(v.numel() * v.element_size() for k, v in arrays.items() if k in self._slot_w and k != "t0")
        per += arrays["t0"][0].numel() * arrays["t0"].element_size()
        return per * active
