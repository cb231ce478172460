"""The default bank's recipe (assets/bank.toml) and style table (assets/styles.toml), and
`train-bank`: base model first, then one fine-tune per style, each a resumable `train` run.

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
import tomllib
from dataclasses import dataclass
from pathlib import Path

from textconductor.errors import UserError

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
RECIPE = ASSETS / "bank.toml"
STYLES = ASSETS / "styles.toml"
BANK_DIR = ASSETS / "bank"
SHIPPED_BASE = ASSETS / "base" / "base.safetensors"


@dataclass(frozen=True)
class StyleInfo:
    name: str
    display: str
    colour: str
    about: str = ""
    source: str = ""
    licence: str = ""


def load_styles(path: Path = STYLES) -> dict[str, StyleInfo]:
    with open(path, "rb") as f:
        table = tomllib.load(f)
    return {k: StyleInfo(name=k, **v) for k, v in table.items()}


def load_recipe(path: Path = RECIPE) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def default_work_dir() -> Path:
    from platformdirs import user_data_dir
    return Path(user_data_dir("textconductor")) / "bank-work"


def _train_cmd(corpora: list[Path], name: str, out: Path, settings: dict, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "textconductor", "train", *map(str, corpora), "--name", name, "--out", str(out),
           "--resume", "--no-progress"]
    for key in ("layers", "hidden", "embed", "batch", "seq_len", "lr", "seed", "chars"):
        if key in settings:
            cmd += [f"--{key.replace('_', '-')}", str(settings[key])]
    return cmd + extra


def _run(cmds: list[list[str]], jobs: int) -> None:
    """Run commands, at most `jobs` at once; raise if any fails (the others finish first)."""
    pending, running, failed = list(cmds), [], []
    while pending or running:
        while pending and len(running) < jobs:
            cmd = pending.pop(0)
            log.info("start: %s", " ".join(cmd[3:6]))
            running.append((cmd, subprocess.Popen(cmd)))
        time.sleep(1.0)
        for item in list(running):
            cmd, proc = item
            if proc.poll() is not None:
                running.remove(item)
                (failed.append(cmd) if proc.returncode else None)
                log.info("%s: %s", "FAILED" if proc.returncode else "done", " ".join(cmd[3:6]))
    if failed:
        raise UserError(f"{len(failed)} training run(s) failed; run train-bank again to resume them")


def train_bank(corpora_dir: Path, out_dir: Path = BANK_DIR, work_dir: Path | None = None, only: list[str] | None = None,
               jobs: int | None = None, device: str = "auto", retrain_base: bool = False) -> list[Path]:
    recipe, styles = load_recipe(), load_styles()
    work = work_dir or default_work_dir()
    work.mkdir(parents=True, exist_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = recipe["finetune"]["styles"]
    files = {n: corpora_dir / f"{n}.txt" for n in names}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise UserError(f"corpora folder {corpora_dir} lacks {', '.join(missing)}")
    dev = ["--device", device]

    base = work / "base.safetensors"
    if not base.exists() and SHIPPED_BASE.exists() and not retrain_base:
        log.info("fine-tuning from the shipped base model %s (--retrain-base to train a new one)", SHIPPED_BASE)
        base = SHIPPED_BASE
    if not base.exists():
        _run([_train_cmd(list(files.values()), recipe["base"]["name"], base, recipe["base"], dev)], jobs=1)

    todo = [n for n in (only or names) if not (out_dir / f"{n}.safetensors").exists()]
    jobs = jobs or int(recipe["finetune"].get("jobs", 1))
    threads = ["--threads", str(max(1, (os.cpu_count() or 1) // jobs))]
    cmds = []
    for n in todo:
        extra = ["--base", str(base), "--display-name", styles[n].display if n in styles else n, *dev, *threads]
        settings = {**recipe["finetune"], **recipe["finetune"].get("overrides", {}).get(n, {})}
        cmds.append(_train_cmd([files[n]], n, work / f"{n}.safetensors", settings, extra))
    # One job at a time per style, copying each as soon as it is done.
    done: list[Path] = []
    for i in range(0, len(cmds), jobs):
        batch = cmds[i:i + jobs]
        _run(batch, jobs)
        for cmd in batch:
            name = cmd[cmd.index("--name") + 1]
            dst = out_dir / f"{name}.safetensors"
            shutil.copyfile(work / f"{name}.safetensors", dst)
            log.info("bank: %s ready", dst)
            done.append(dst)
    return done
