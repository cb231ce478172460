"""The protocol layer's own promises: cheap to import, one public surface, one place for the wire."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import textconductor.protocol as protocol
from textconductor.tools.import_graph import all_imports

ROOT = Path(__file__).resolve().parents[2]

CHECK = r"""
import sys
from textconductor.protocol import DEFAULT_HOST, DEFAULT_PORT, parse_address, RateLimitedLog
print("numpy" in sys.modules)
import textconductor.protocol as p
for name in p.__all__:
    getattr(p, name)
import textconductor.protocol.charset, textconductor.protocol.puck_geometry, textconductor.protocol.defaults
print(sorted(m for m in ("torch", "PySide6", "pyqtgraph", "mido") if m in sys.modules))
"""


def test_addresses_load_without_numpy_and_nothing_loads_torch_or_qt():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "[]"]


def test_every_public_name_resolves_and_is_spelled_out_for_type_checkers():
    tree = ast.parse((ROOT / "textconductor/protocol/__init__.py").read_text())
    checked = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and node.module and node.module.startswith("textconductor.protocol.") for alias in node.names}
    assert checked == set(protocol.__all__)
    for name in protocol.__all__:
        getattr(protocol, name)  # raises if the lazy loader cannot find it


def test_the_old_call_sites_still_work():
    """`protocol.X` as engine, window and controllers wrote it before the split."""
    for name in ("DEFAULT_HOST", "DEFAULT_PORT", "MAX_PACKET", "MAX_BUNDLE_DEPTH", "MAX_PRIME_CHARS", "MAX_STYLES",
                 "MIX_MODES", "TEMPERATURE_RANGE", "RATE_RANGE", "THRESHOLD_RANGE", "TOP_P_RANGE", "OUT_HELLO",
                 "OUT_STYLES", "OUT_TICK", "OUT_STATUS", "OUT_PARAMS", "OUT_REJECTED", "OUT_PRIMED", "Command",
                 "Rejected", "INCOMING", "STYLE_PREFIX", "decode_message", "parse_message", "is_error",
                 "parse_packet", "message", "bundle", "f32_blob", "i32_blob", "blob_f32", "blob_i32", "Tick",
                 "STATUS_FIELDS", "Status", "PARAM_FIELDS", "Params", "Hello", "rejected_counts_message"):
        assert hasattr(protocol, name), name


# python-osc's receiving side. Sending with its client (tests/controllers/test_osc_sink.py plays a
# third-party controller) is fine; reading OSC any other way than `protocol.unpack` is not.
PYTHONOSC_DECODERS = {"osc_message", "osc_bundle", "osc_packet", "parsing", "dispatcher", "osc_server"}


def _pythonosc_modules(path: Path) -> set[str]:
    """The python-osc submodules a file imports, in any spelling (`from pythonosc import x` too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "pythonosc"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pythonosc":
            found |= {f"pythonosc.{a.name}" for a in node.names} if node.module == "pythonosc" else {node.module}
    return {m.split(".")[1] for m in found if "." in m}


def test_the_package_never_touches_python_osc():
    """One decoder, one walker, one encoder, all in protocol/wire.py: nothing parses or builds OSC
    any other way (python-osc stays a dependency for users' own scripts and the tests' third-party
    controller)."""
    users = {i.module for i in all_imports() if i.target.split(".")[0] == "pythonosc"}
    assert users == set()
    for example in (ROOT / "examples").glob("*.py"):
        assert "pythonosc" not in example.read_text(), example.name


def test_tests_decode_with_the_protocol_too():
    """A test that decodes with python-osc would accept what the real receivers reject."""
    offenders = {str(path.relative_to(ROOT)): used for path in sorted((ROOT / "tests").rglob("*.py"))
                 if (used := _pythonosc_modules(path) & PYTHONOSC_DECODERS)}
    assert offenders == {}
