"""Sub-commands of the model and its training: `train`, `train-bank`, `eval`, `sample`,
`bank-report` and `fold-report`.

The defaults shown here are TrainConfig's own (its class attributes, not restated), so a changed
default reaches `--help` and a run alike. training.config imports no torch; the training
loop, evaluation and sampling load inside the handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from textconductor.cli.args import UsageError, add_device, fraction, positive_float, positive_int
from textconductor.protocol.defaults import DEFAULT_TEMPERATURE
from textconductor.training.bank_recipe import STAGES
from textconductor.training.config import SEGMENT, TrainConfig


def finetune_lr() -> float:
    """The bank recipe's fine-tuning rate: gentler than from scratch, so the base is not forgotten."""
    from textconductor.assets import load_recipe
    return float(load_recipe()["finetune"]["lr"])


def cmd_train(a: argparse.Namespace) -> int:
    from textconductor.training.train import train
    if a.minutes is None and a.chars is None:
        raise UsageError("give a training budget: --minutes M or --chars N")
    lr = a.lr or (finetune_lr() if a.base else TrainConfig.lr)
    cfg = TrainConfig(name=a.name, layers=a.layers, hidden=a.hidden, embed=a.embed, dropout=a.dropout,
                      batch=a.batch, seq_len=a.seq_len, lr=lr, seed=a.seed,
                      minutes=a.minutes, chars=a.chars, save_every_s=a.save_every * 60,
                      save_every_steps=a.save_every_steps, base=a.base, widen=a.widen,
                      display_name=a.display_name or "", line_starts=a.line_starts, reentry=a.reentry,
                      prefix_max=a.prefix_max,
                      **({"segment": a.segment} if a.segment else {}))
    out = Path(a.out) if a.out else Path("checkpoints") / f"{a.name}.safetensors"
    meta = train(a.corpus, out, cfg, resume=a.resume, device=a.device, threads=a.threads,
                 progress_bar=not a.no_progress, foreign_paths=a.foreign)
    print(f"{out}: {meta.train_chars:,} chars in {meta.train_seconds:.0f} s, held-out {meta.heldout_bpc:.3f} bits/char")
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from textconductor.training.report import eval_table
    print(eval_table(a.checkpoints, a.corpus, corpora_dir=a.corpora, device=a.device))
    return 0


def cmd_sample(a: argparse.Namespace) -> int:
    from textconductor.model.checkpoint import load_checkpoint
    from textconductor.model.sample import sample
    model, _ = load_checkpoint(a.checkpoint)
    sys.stdout.write(a.prime + sample(model, a.chars, a.temperature, a.prime, a.seed) + "\n")
    return 0


def cmd_fold_report(a: argparse.Namespace) -> int:
    from textconductor.training.report import fold_table
    print(fold_table(a.files))
    return 0


def cmd_train_bank(a: argparse.Namespace) -> int:
    from textconductor.assets import BANK_DIR
    from textconductor.training.bank_recipe import train_bank
    done = train_bank(Path(a.corpora), Path(a.out) if a.out else BANK_DIR, Path(a.work) if a.work else None,
                      a.only, a.jobs, a.device, a.retrain_base, a.threads,
                      from_bank=Path(a.from_bank) if a.from_bank else None, after=a.after)
    print(f"{len(done)} style(s) trained into {Path(a.out) if a.out else BANK_DIR}")
    return 0


def cmd_bank_report(a: argparse.Namespace) -> int:
    from textconductor.assets import BANK_DIR
    from textconductor.tools.bank_report import report, write_into
    tables = report(Path(a.corpora), Path(a.bank) if a.bank else BANK_DIR, Path(a.before) if a.before else None)
    if a.write:
        write_into(Path(a.write), tables)
        print(f"wrote the tables into {a.write}")
    else:
        print(tables)
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train one style (or a shared base model on several corpora)",
                       description="Train a CharLSTM. Several corpora train one model with each corpus sampled "
                                   "equally (a shared base for fine-tuning). Interrupted runs continue with --resume.")
    t.add_argument("corpus", nargs="+", help="plain-text corpus file(s)")
    t.add_argument("--name", required=True, help="style name stored in the checkpoint")
    t.add_argument("--display-name", help="human-readable name (default: --name)")
    t.add_argument("--out", help="checkpoint path (default checkpoints/NAME.safetensors)")
    t.add_argument("--base", help="fine-tune from this checkpoint (its shape wins, unless --widen)")
    t.add_argument("--widen", action="store_true",
                   help="grow the --base model to --hidden units per layer first; it predicts exactly as before "
                        "until training uses the new units")
    t.add_argument("--layers", type=positive_int, default=TrainConfig.layers)
    t.add_argument("--hidden", type=positive_int, default=TrainConfig.hidden)
    t.add_argument("--embed", type=positive_int, default=TrainConfig.embed)
    t.add_argument("--dropout", type=float, default=TrainConfig.dropout)
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--minutes", type=positive_float, help="training time budget (excludes evaluation)")
    budget.add_argument("--chars", type=positive_int, help="training budget in characters")
    t.add_argument("--resume", action="store_true", help="continue an interrupted run from its state file")
    t.add_argument("--threads", type=positive_int, help="CPU threads for torch (default: all cores)")
    add_device(t, default="auto")
    t.add_argument("--batch", type=positive_int, default=TrainConfig.batch)
    t.add_argument("--seq-len", type=positive_int, default=TrainConfig.seq_len)
    t.add_argument("--lr", type=positive_float,
                   help=f"peak Adam learning rate (default {TrainConfig.lr:g}; with --base, the bank recipe's "
                        "fine-tune rate, [finetune] lr of bank.toml)")
    t.add_argument("--seed", type=int, default=TrainConfig.seed)
    t.add_argument("--segment", type=positive_int,
                   help=f"characters a batch row reads with carried state before jumping elsewhere (default {SEGMENT})")
    t.add_argument("--line-starts", action="store_true",
                   help="start every segment at a newline from a zeroed state, as a performance starts")
    t.add_argument("--reentry", type=fraction, default=TrainConfig.reentry, metavar="SHARE",
                   help="share of segments (0..1) that open with another style's text, loss masked on it, so "
                        "the style learns to take over from any context (needs --foreign)")
    t.add_argument("--foreign", nargs="+", metavar="FILE", help="other styles' corpora for --reentry prefixes")
    t.add_argument("--prefix-max", type=positive_int, default=TrainConfig.prefix_max,
                   help="longest foreign prefix in characters (at most --seq-len minus 8 is used)")
    t.add_argument("--save-every", type=positive_float, default=TrainConfig.save_every_s / 60,
                   help="minutes between training-state saves")
    t.add_argument("--save-every-steps", type=positive_int, help=argparse.SUPPRESS)
    t.add_argument("--no-progress", action="store_true", help="no progress bar (logs only)")
    t.set_defaults(func=cmd_train)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this part's sub-commands; import heavy modules only inside their handlers."""
    _add_train(sub)

    e = sub.add_parser("eval", help="held-out bits/char of checkpoints beside an order-5 n-gram baseline")
    e.add_argument("checkpoints", nargs="+")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--corpus", help="evaluate every checkpoint on this corpus's held-out split")
    src.add_argument("--corpora", help="folder with NAME.txt per style (default ../shared/corpora)")
    add_device(e, default="cpu")
    e.set_defaults(func=cmd_eval)

    s = sub.add_parser("sample", help="generate text from one style")
    s.add_argument("checkpoint")
    s.add_argument("--chars", type=positive_int, default=500)
    s.add_argument("--temperature", type=positive_float, default=DEFAULT_TEMPERATURE)
    s.add_argument("--prime", default="\n", help="text to start from")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(func=cmd_sample)

    b = sub.add_parser("train-bank", help="train the default bank: a shared base, then per style a fine-tune, "
                                          "a settling run and a re-entry run",
                       description="Follows textconductor/assets/bank.toml. Resumable: run it again after any "
                                   "interruption; styles already in the output folder, and stages already "
                                   "finished in the work folder, are skipped.")
    b.add_argument("--corpora", required=True, help="folder with NAME.txt for every style (../shared/corpora)")
    b.add_argument("--out", help="where finished styles go (default: the bundled bank, textconductor/assets/bank)")
    b.add_argument("--work", help="folder for the base model and training states (default: user data dir)")
    b.add_argument("--only", nargs="+", metavar="STYLE", help="train only these styles")
    b.add_argument("--jobs", type=positive_int, help="styles trained side by side (default from the recipe)")
    b.add_argument("--threads", type=positive_int, help="torch threads per job (default: cores / jobs)")
    b.add_argument("--retrain-base", action="store_true",
                   help="train a new shared base model instead of fine-tuning from the shipped one")
    add_device(b, default="auto")
    b.add_argument("--from-bank", metavar="DIR",
                   help="take each style's checkpoint from this bank (e.g. the bundled one) and run only the "
                        "stages after --after")
    b.add_argument("--after", default="settle", choices=STAGES,
                   help="with --from-bank: the last stage its checkpoints have finished (default settle; "
                        "reentry: add the extension to a bank without one)")
    b.set_defaults(func=cmd_train_bank)

    r = sub.add_parser("bank-report", help="measure the bank: bits/char vs n-gram, identifiability, mixing, "
                                           "switch latency",
                       description="Regenerates the measured tables of docs/models.md in one run.")
    r.add_argument("--corpora", required=True, help="folder with NAME.txt per style (../shared/corpora)")
    r.add_argument("--bank", help="folder of checkpoints (default: the bundled bank)")
    r.add_argument("--before", metavar="DIR",
                   help="an earlier bank to measure switch latency beside, with the same judge and experiments")
    r.add_argument("--write", metavar="DOC", help="replace the generated part of this markdown file (docs/models.md)")
    r.set_defaults(func=cmd_bank_report)

    f = sub.add_parser("fold-report", help="how much of each corpus folding into the character set changes")
    f.add_argument("files", nargs="+")
    f.set_defaults(func=cmd_fold_report)
