"""Who imports whom, by layer: `python -m textconductor.tools.import_graph [--modules] [ROOT]`.

Reads the source with `ast` (nothing is imported, so it also sees imports inside functions, which
is where the heavy ones live) and prints, per layer, the layers it imports and how often. The
layering test (tests/test_layering.py) states the rules this graph must obey; this command shows
the graph itself, before and after a change.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "textconductor"
ROOT = Path(__file__).resolve().parents[1]

# The first matching prefix names a module's layer; what no prefix matches is "top" (cli, tools, ...).
LAYER_OF = (
    ("textconductor.protocol", "protocol"),
    ("textconductor.model", "model"),
    ("textconductor.models", "models"),  # model and training before they were split (940ccaa), for comparison
    ("textconductor.training", "training"),
    ("textconductor.engine", "engine"),
    ("textconductor.frontend", "frontend"),
    ("textconductor.controllers", "controllers"),
    ("textconductor.errors", "foundation"),
    ("textconductor.paths", "foundation"),
    ("textconductor.display", "foundation"),
    ("textconductor.memory", "foundation"),
    ("textconductor.assets", "foundation"),
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (absolute)
    line: int
    nested: bool  # inside a function or class (a lazy import)
    typing_only: bool = False  # under `if TYPE_CHECKING:`: never executed, so never part of a cycle


def layer(module: str) -> str:
    for prefix, name in LAYER_OF:
        if module == prefix or module.startswith(prefix + "."):
            return name
    if module == PACKAGE:
        return "foundation"
    return "top" if module.startswith(PACKAGE + ".") else "external"


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    """Every import statement in one file, top-level or nested, with absolute targets."""
    module = module_name(path, root)
    tree = ast.parse(path.read_text(), str(path))
    out: list[Import] = []

    def visit(node: ast.AST, nested: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            typing = typing_only or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test))
            if isinstance(child, ast.Import):
                out.extend(Import(module, a.name, child.lineno, nested, typing_only) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, module, path.name == "__init__.py")
                for a in child.names:
                    # `from pkg import name`: name may be a submodule or an attribute; the layer is
                    # the same either way, and `cycles` resolves it to the deepest existing module.
                    out.append(Import(module, f"{base}.{a.name}" if base.startswith(PACKAGE) else base,
                                      child.lineno, nested, typing_only))
            visit(child, inner, typing)

    visit(tree, False, False)
    return out


def all_imports(root: Path = ROOT) -> list[Import]:
    return [i for p in sorted(root.rglob("*.py")) for i in imports_of(p, root)]


def third_party(target: str) -> str | None:
    """The top-level distribution name of a non-stdlib, non-project import, else None."""
    top = target.split(".")[0]
    if top in ("", PACKAGE, "__future__") or top in sys.stdlib_module_names:
        return None
    return top


def cycles(imports: list[Import], modules: set[str]) -> list[list[str]]:
    """Groups of modules that import one another, directly or round a loop (Tarjan's algorithm).

    Every executed import counts, lazy ones too: a cycle hidden in a function still ties the
    modules together. Imports only for type checkers do not run and are left out.
    """
    def resolve(target: str) -> str:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for i in imports:
        t = resolve(i.target) if i.target.startswith(PACKAGE) and not i.typing_only else ""
        if t and t != i.module and not (i.module + ".").startswith(t + "."):  # a module needs its package
            graph[i.module].add(t)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(modules):
        if v not in index:
            connect(v)
    return out


def all_modules(root: Path = ROOT) -> set[str]:
    return {module_name(p, root) for p in root.rglob("*.py")}


def layer_graph(imports: list[Import]) -> Counter[tuple[str, str]]:
    return Counter((layer(i.module), layer(i.target)) for i in imports
                   if i.target.startswith(PACKAGE) and layer(i.module) != layer(i.target))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m textconductor.tools.import_graph", description=__doc__.split("\n")[0])
    p.add_argument("root", nargs="?", default=str(ROOT), help="the textconductor package folder")
    p.add_argument("--modules", action="store_true", help="list every cross-layer import, not only counts")
    a = p.parse_args(argv)
    imports = all_imports(Path(a.root).resolve())
    for (src, dst), n in sorted(layer_graph(imports).items()):
        sys.stdout.write(f"{src:>12} -> {dst:<12} {n:4d}\n")
    for group in cycles(imports, all_modules(Path(a.root).resolve())):
        sys.stdout.write("cycle: " + " <-> ".join(group) + "\n")
    if a.modules:
        for i in imports:
            if i.target.startswith(PACKAGE) and layer(i.module) != layer(i.target):
                sys.stdout.write(f"{i.module}:{i.line} -> {i.target}{' (lazy)' if i.nested else ''}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
