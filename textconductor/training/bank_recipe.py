"""The default bank's recipe (assets/bank.toml) and style table (assets/styles.toml), and
`train-bank`: base model first, then per style a fine-tune, a settling run, a re-entry run and,
where the held-out text said a style was undertrained, an extension; each a resumable `train` run.

Each step is a separate `textconductor train --resume` process, so killing this command at any
moment loses at most a couple of minutes, and running it again continues where it stopped.
Finished styles are copied into the output folder one at a time, ready to commit.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from textconductor.assets import BANK_DIR, SHIPPED_BASE, load_recipe, load_styles
from textconductor.errors import UserError
from textconductor.paths import bank_work_dir

log = logging.getLogger(__name__)


def default_work_dir() -> Path:
    return bank_work_dir()


STAGES = ("finetune", "settle", "reentry", "extend")  # per style, in order; each continues from the one before
SETTLED = "settle"  # the last stage a --from-bank checkpoint is taken to have finished, unless told


def stage_settings(recipe: dict, stage: str, style: str) -> dict | None:
    """A stage's settings for one style (its overrides applied), or None when the style skips it:
    the stage is not in the recipe, or gives this style a budget of 0 characters."""
    if stage not in recipe:
        return None
    settings = {**recipe[stage], **recipe[stage].get("overrides", {}).get(style, {})}
    settings.pop("overrides", None)
    return None if settings.get("chars", 1) == 0 else settings


def _train_cmd(corpora: list[Path], name: str, out: Path, settings: dict, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "textconductor", "train", *map(str, corpora), "--name", name, "--out", str(out),
           "--resume", "--no-progress"]
    for key in ("layers", "hidden", "embed", "dropout", "batch", "seq_len", "lr", "seed", "chars", "segment",
                "reentry", "prefix_max"):
        if key in settings:
            cmd += [f"--{key.replace('_', '-')}", str(settings[key])]
    if settings.get("line_starts"):
        cmd.append("--line-starts")
    return cmd + extra


def _finished(out: Path) -> bool:
    """A stage whose checkpoint exists and has no training state left behind is done."""
    from textconductor.training.train_state import state_path
    return out.exists() and not state_path(out).exists()


def _what(cmd: list[str]) -> str:
    """A training command in a log line: the checkpoint it writes."""
    return Path(cmd[cmd.index("--out") + 1]).name


def _run(chains: list[list[list[str]]], jobs: int, on_done: Callable[[int], None] | None = None) -> None:
    """Run chains of commands (each chain in order), at most `jobs` chains at once.

    `on_done(i)` is called as soon as chain i has finished, so its result can be kept at once.
    Raises if any chain failed (the others finish first).
    """
    pending, running, failed = list(enumerate(chains)), [], []
    while pending or running:
        while pending and len(running) < jobs:
            i, chain = pending.pop(0)
            if not chain:  # every stage already finished in an earlier run
                if on_done:
                    on_done(i)
                continue
            log.info("start: %s", _what(chain[0]))
            running.append([i, chain, subprocess.Popen(chain[0])])
        time.sleep(0.2)
        for item in list(running):
            i, chain, proc = item
            if proc.poll() is None:
                continue
            log.info("%s: %s", "FAILED" if proc.returncode else "done", _what(chain[0]))
            if proc.returncode:
                running.remove(item)
                failed.append(i)
            elif len(chain) > 1:
                item[1] = chain = chain[1:]
                log.info("start: %s", _what(chain[0]))
                item[2] = subprocess.Popen(chain[0])
            else:
                running.remove(item)
                if on_done:
                    on_done(i)
    if failed:
        raise UserError(f"{len(failed)} training run(s) failed; run train-bank again to resume them")


def train_bank(corpora_dir: Path, out_dir: Path = BANK_DIR, work_dir: Path | None = None, only: list[str] | None = None,
               jobs: int | None = None, device: str = "auto", retrain_base: bool = False, threads: int | None = None,
               recipe: dict | None = None, shipped_base: Path = SHIPPED_BASE,
               from_bank: Path | None = None, after: str = SETTLED) -> list[Path]:
    """Base (unless shipped), then per style: fine-tune from the base, settle from the fine-tune,
    re-entry from the settled model, and an extension where the recipe gives the style one.

    Styles already in `out_dir` are skipped; a stage already finished in the work folder is not
    run again, so an interrupted run continues where it stopped. With `from_bank`, each style's
    checkpoint there stands for its finished stages up to `after` (settle by default;
    `after="reentry"` runs only the extension, as it was added to the bundled bank).
    """
    if after not in STAGES:
        raise UserError(f"unknown stage {after!r}: one of {', '.join(STAGES)}")
    recipe, styles = recipe or load_recipe(), load_styles()
    work = work_dir or default_work_dir()
    work.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = recipe["finetune"]["styles"]
    files = {n: corpora_dir / f"{n}.txt" for n in names}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise UserError(f"corpora folder {corpora_dir} lacks {', '.join(missing)}")
    dev = ["--device", device]
    if from_bank is not None:
        absent = [n for n in (only or names) if not (from_bank / f"{n}.safetensors").exists()]
        if absent:
            raise UserError(f"--from-bank {from_bank} lacks {', '.join(absent)}")

    base = work / "base.safetensors"
    if not base.exists() and shipped_base.exists() and not retrain_base and from_bank is None:
        log.info("fine-tuning from the shipped base model %s (--retrain-base to train a new one)", shipped_base)
        base = shipped_base
    if not _finished(base) and from_bank is None:
        _run([[_train_cmd(list(files.values()), recipe["base"]["name"], base, recipe["base"], dev)]], jobs=1)

    todo = [n for n in (only or names) if not (out_dir / f"{n}.safetensors").exists()]
    jobs = jobs or int(recipe["finetune"].get("jobs", 1))
    threads_arg = ["--threads", str(threads or max(1, (os.cpu_count() or 1) // jobs))]
    chains, finals = [], []
    for n in todo:
        chain, prev = [], base
        stages = STAGES[STAGES.index(after) + 1:] if from_bank is not None else STAGES
        if from_bank is not None:
            prev = from_bank / f"{n}.safetensors"
        for stage in stages:
            settings = stage_settings(recipe, stage, n)
            if settings is None:
                continue
            out = work / (f"{n}.safetensors" if stage == "finetune" else f"{n}.{stage}.safetensors")
            extra = ["--base", str(prev), "--display-name", styles[n].display if n in styles else n, *dev, *threads_arg]
            if settings.get("reentry"):
                extra += ["--foreign", *(str(files[m]) for m in names if m != n)]
            if not _finished(out):
                chain.append(_train_cmd([files[n]], n, out, settings, extra))
            prev = out
        chains.append(chain)
        finals.append(prev)

    done: list[Path] = []

    def keep(i: int) -> None:
        dst = out_dir / f"{todo[i]}.safetensors"
        shutil.copyfile(finals[i], dst)
        log.info("bank: %s ready", dst)
        done.append(dst)

    _run(chains, jobs, keep)
    return done
