"""The layering of the package, stated once, and checked on every import statement in the source.

Read statically (ast), so a lazy import inside a function counts like a top-level one: the window
must never reach torch, however late it would import it.

| layer       | may import (besides itself)                    | never these third-party packages |
|-------------|------------------------------------------------|----------------------------------|
| foundation  | -                                              | torch, Qt                        |
| protocol    | foundation                                     | anything but numpy               |
| model       | foundation, protocol                           | Qt                               |
| training    | foundation, protocol, model                    | Qt                               |
| engine      | foundation, protocol, model                    | Qt                               |
| frontend    | foundation, protocol                           | torch, safetensors               |
| controllers | foundation, protocol                           | torch, Qt                        |
| top         | anything (cli, tools, supervisor)              | -                                |
"""

from __future__ import annotations

from pathlib import Path

import pytest

from textconductor.tools.import_graph import (
    ROOT,
    Import,
    all_imports,
    all_modules,
    cycles,
    layer,
    module_name,
    third_party,
)

MAY_IMPORT = {
    "foundation": {"foundation"},
    "protocol": {"foundation", "protocol"},
    "model": {"foundation", "protocol", "model"},
    "training": {"foundation", "protocol", "model", "training"},
    "engine": {"foundation", "protocol", "model", "engine"},
    "frontend": {"foundation", "protocol", "frontend"},
    "controllers": {"foundation", "protocol", "controllers"},
    "top": {"foundation", "protocol", "model", "training", "engine", "frontend", "controllers", "top"},
}
QT = {"PySide6", "pyqtgraph", "shiboken6"}
TORCH = {"torch", "safetensors"}
THIRD_PARTY_ALLOWED = {"protocol": {"numpy"}}
THIRD_PARTY_BANNED = {"foundation": TORCH | QT, "model": QT, "training": QT, "engine": QT, "frontend": TORCH,
                      "controllers": TORCH | QT}


def violations(imports: list[Import]) -> list[str]:
    out = []
    for i in imports:
        src = layer(i.module)
        where = f"{i.module}:{i.line}"
        if i.target.startswith("textconductor"):
            dst = layer(i.target)
            if dst not in MAY_IMPORT[src]:
                out.append(f"{where}: {src} imports {dst} ({i.target})")
            continue
        pkg = third_party(i.target)
        if pkg is None:
            continue
        if src in THIRD_PARTY_ALLOWED and pkg not in THIRD_PARTY_ALLOWED[src]:
            out.append(f"{where}: {src} imports {pkg}")
        if pkg in THIRD_PARTY_BANNED.get(src, set()):
            out.append(f"{where}: {src} imports {pkg}")
    return out


def test_every_import_obeys_the_layering():
    imports = all_imports()
    assert len(imports) > 300  # it really read the package
    assert violations(imports) == []


def test_no_import_cycles():
    assert cycles(all_imports(), all_modules()) == []


def test_a_cycle_is_caught():
    loop = [Import("textconductor.engine.a", "textconductor.engine.b", 1, False),
            Import("textconductor.engine.b", "textconductor.engine.c.f", 1, True),
            Import("textconductor.engine.c", "textconductor.engine.a", 1, True),
            Import("textconductor.engine.a", "textconductor.engine.d", 1, False, typing_only=True),
            Import("textconductor.engine.d", "textconductor.engine.a", 1, False)]
    mods = {f"textconductor.engine.{m}" for m in "abcd"}
    assert cycles(loop, mods) == [["textconductor.engine.a", "textconductor.engine.b", "textconductor.engine.c"]]


def test_every_module_has_a_layer():
    """A new top-level package must be placed in the table, not fall into 'top' by accident."""
    tops = {".".join(module_name(p, ROOT).split(".")[:2]) for p in ROOT.rglob("*.py")}
    unplaced = {m for m in tops if layer(m) == "top"}
    assert unplaced <= {"textconductor", "textconductor.cli", "textconductor.tools", "textconductor.supervisor",
                        "textconductor.__main__"}


@pytest.mark.parametrize(("module", "target", "reason"), [
    ("textconductor.engine.runner", "textconductor.frontend.theme", "engine imports frontend"),
    ("textconductor.frontend.bars", "torch", "frontend imports torch"),
    ("textconductor.controllers.midi.ports", "textconductor.engine.loader", "controllers imports engine"),
    ("textconductor.protocol.wire", "torch", "protocol imports torch"),
    ("textconductor.protocol.wire", "PySide6.QtCore", "protocol imports PySide6"),
    ("textconductor.model.charlstm", "textconductor.training.train", "model imports training"),
    ("textconductor.training.train", "textconductor.engine.bank", "training imports engine"),
    ("textconductor.errors", "textconductor.protocol", "foundation imports protocol"),
])
def test_a_broken_layering_is_caught(module, target, reason):
    assert [v.split(": ", 1)[1].split(" (")[0] for v in violations([Import(module, target, 1, True)])] == [reason]


def test_the_graph_reads_lazy_and_relative_imports(tmp_path: Path):
    from textconductor.tools.import_graph import imports_of
    pkg = tmp_path / "textconductor" / "frontend"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "w.py").write_text("from . import theme\n\ndef f():\n    import torch\n    from ..engine import bank\n")
    got = {(i.target, i.nested) for i in imports_of(pkg / "w.py", tmp_path / "textconductor")}
    assert got == {("textconductor.frontend.theme", False), ("torch", True), ("textconductor.engine.bank", True)}
