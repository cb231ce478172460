"""The OSCQuery namespace against the command table: every incoming address described, and what it
advertises (TYPE, RANGE) is exactly what the table's checkers accept."""

from __future__ import annotations

import json

import pytest

from textconductor.protocol.commands import INCOMING, STYLE_PREFIX, Command, parse_message, parse_packet
from textconductor.protocol.namespace import (
    INT32_MAX,
    METHODS,
    READ,
    READ_WRITE,
    STYLES,
    WRITE,
    answer,
    find,
    host_info,
    namespace,
)
from textconductor.protocol.wire import Rejected

NAMES = ["bible", "linux", "austen"]
VALUES = {"weights": [1.0, 0.0, 0.5], "temperature": [0.8], "rate": [15.0], "mix": ["linear"], "threshold": [0.05],
          "top_p": [1.0], "seed": [7], "guard": [True, 1.0]}
TAGS = set("ifsbTFNhdtcrm")


def test_every_incoming_address_is_described():
    missing = sorted(set(INCOMING) - set(METHODS))
    assert not missing, f"describe these in protocol/namespace.py METHODS: {missing}"
    stale = sorted(set(METHODS) - set(INCOMING))
    assert not stale, f"described but not in commands.INCOMING: {stale}"


@pytest.mark.parametrize("address", sorted(METHODS))
def test_a_method_is_well_formed(address):
    m = METHODS[address]
    assert m.types and set(m.types) <= TAGS
    assert len(m.description) > 10
    assert not m.ranges or len(m.ranges) == len(m.types)
    for tag, entry in zip(m.types, m.ranges, strict=False):
        if entry is None or entry is STYLES:
            continue
        if "VALS" in entry:
            assert entry["VALS"]
        else:
            assert tag in "if" and entry["MIN"] < entry["MAX"]
    assert m.access in (WRITE, READ_WRITE)


def _samples(tag: str, entry) -> list:
    """Values for one argument that the advertised TYPE and RANGE say are valid."""
    if tag == "N":
        return [None]
    if tag == "T":
        return [True, False]
    if tag == "b":
        return [b""]
    if entry is STYLES:
        return [NAMES[1]]
    if entry and "VALS" in entry:
        return list(entry["VALS"])
    if tag == "s":
        return ["abc"]
    lo, hi = (entry["MIN"], entry["MAX"]) if entry else (0, 1)
    return [int(lo), int(hi)] if tag == "i" else [float(lo), float(hi), (lo + hi) / 2]


def _messages(address: str) -> list[tuple]:
    """Argument tuples built from TYPE and RANGE alone: each sample in turn, the first sample elsewhere."""
    m = METHODS[address]
    n = len(NAMES) if m.per_style else 1
    tags, ranges = m.types * n, (m.ranges or (None,) * len(m.types)) * n
    firsts = [_samples(t, e)[0] for t, e in zip(tags, ranges, strict=True)]
    out = []
    for k, (t, e) in enumerate(zip(tags, ranges, strict=True)):
        for v in _samples(t, e):
            out.append(tuple(firsts[:k]) + (v,) + tuple(firsts[k + 1:]))
    return out


@pytest.mark.parametrize("address", sorted(METHODS))
def test_what_is_advertised_is_accepted(address):
    for args in _messages(address):
        got = parse_message(address, args)
        assert isinstance(got, Command), (address, args, got)


@pytest.mark.parametrize("address", sorted(METHODS))
def test_just_outside_an_advertised_range_is_rejected(address):
    m = METHODS[address]
    base = _messages(address)[0]
    n = len(NAMES) if m.per_style else 1
    checked = 0
    for k, (tag, entry) in enumerate(zip(m.types * n, (m.ranges or (None,) * len(m.types)) * n, strict=True)):
        if not entry or entry is STYLES or "MIN" not in entry:
            continue
        step = 1 if tag == "i" else 1e-6
        # INT32_MAX is the wire's own cap (an OSC `i` cannot go past it), not a check of the table's
        outside = [entry["MIN"] - step] + ([] if entry["MAX"] == INT32_MAX else [entry["MAX"] + step])
        for v in outside:
            args = base[:k] + (int(v) if tag == "i" else v,) + base[k + 1:]
            assert isinstance(parse_message(address, args), Rejected), (address, args)
            checked += 1
    assert checked or not any(e and e is not STYLES and "MIN" in e for e in m.ranges)


@pytest.mark.parametrize("address", [a for a, m in METHODS.items() if m.types == "N"])
def test_a_nil_momentary_button_presses(address):
    """An OSCQuery client sends TYPE "N" as `,N`: the engine must act on it."""
    data = address.encode() + b"\x00" * (4 - len(address) % 4) + b",N\x00\x00"
    [got] = parse_packet(data)
    assert isinstance(got, Command) and got.name == INCOMING[address][0]


def test_the_tree_holds_every_address_with_type_range_and_value():
    root = namespace(NAMES, VALUES)
    json.dumps(root, allow_nan=False)  # plain JSON, every number finite
    for address, m in METHODS.items():
        node = find(root, address)
        assert node is not None, address
        n = len(NAMES) if m.per_style else 1
        assert node["FULL_PATH"] == address and node["TYPE"] == m.types * n and node["ACCESS"] == m.access
        assert node["DESCRIPTION"] == m.description and "CONTENTS" not in node
        if m.ranges:
            assert len(node["RANGE"]) == len(node["TYPE"])
        assert ("VALUE" in node) == bool(m.value)
        if m.value:
            assert node["VALUE"] == VALUES[m.value] and node["ACCESS"] & READ
    assert find(root, "/tc/weight")["RANGE"][0] == {"VALS": NAMES}
    assert find(root, "/tc/temperature")["RANGE"] == [{"MIN": 0.05, "MAX": 5.0}]
    assert find(root, "/tc/mix")["RANGE"] == [{"VALS": ["linear", "product"]}]


def test_one_fader_per_style_with_its_weight():
    root = namespace(NAMES, VALUES)
    faders = find(root, STYLE_PREFIX.rstrip("/"))["CONTENTS"]
    assert sorted(faders) == sorted(NAMES)
    for k, name in enumerate(NAMES):
        node = faders[name]
        assert node["FULL_PATH"] == STYLE_PREFIX + name and node["TYPE"] == "f"
        assert node["VALUE"] == [VALUES["weights"][k]] and node["RANGE"] == [{"MIN": 0.0, "MAX": 1.0}]
        assert isinstance(parse_message(node["FULL_PATH"], (0.5,)), Command)


def test_containers_and_an_undescribed_address(monkeypatch):
    root = namespace(NAMES, VALUES)
    assert root["FULL_PATH"] == "/" and root["ACCESS"] == 0 and "TYPE" not in root
    assert find(root, "/tc")["FULL_PATH"] == "/tc" and "tc" in root["CONTENTS"]
    monkeypatch.setitem(INCOMING, "/tc/brand_new", ("brand_new", lambda a: a))
    node = find(namespace(NAMES, VALUES), "/tc/brand_new")
    assert node["FULL_PATH"] == "/tc/brand_new" and "TYPE" not in node  # served, never a crash
    assert sorted(set(INCOMING) - set(METHODS)) == ["/tc/brand_new"]  # ... and the test above would fail


def test_no_value_is_invented():
    node = find(namespace(NAMES, {}), "/tc/temperature")
    assert "VALUE" not in node and node["ACCESS"] == READ_WRITE


def test_answers():
    root, info = namespace(NAMES, VALUES), host_info("127.0.0.1", 57130)
    assert answer(root, info, "/", "") == (200, root)
    assert answer(root, info, "/tc/rate", "VALUE") == (200, {"VALUE": [15.0]})
    assert answer(root, info, "/tc/rate/", "value") == (200, {"VALUE": [15.0]})
    assert answer(root, info, "/tc/rate", "RANGE") == (200, {"RANGE": [{"MIN": 0.0, "MAX": 1000.0}]})
    assert answer(root, info, "/tc", "TYPE") == (200, {})  # a container has no type: the empty object
    assert answer(root, info, "/tc/prime", "VALUE") == (204, None)  # write-only
    assert answer(root, info, "/tc/rate", "UNIT") == (204, None)  # named by the proposal, not kept here
    assert answer(root, info, "/tc/rate", "BOGUS")[0] == 400
    assert answer(root, info, "/tc/rate", "VALUE&TYPE")[0] == 400
    assert answer(root, info, "/tc/nope", "")[0] == 404
    assert answer(root, info, "tc/rate", "")[0] == 404
    assert answer(root, info, "/nowhere", "HOST_INFO") == (200, info)


def test_host_info():
    info = host_info("127.0.0.1", 57130)
    assert info["OSC_IP"] == "127.0.0.1" and info["OSC_PORT"] == 57130 and info["OSC_TRANSPORT"] == "UDP"
    ext = info["EXTENSIONS"]
    assert ext["VALUE"] and ext["RANGE"] and ext["ACCESS"] and ext["DESCRIPTION"] and not ext["LISTEN"]
    assert "OSC_IP" not in host_info(None, 57130)  # every interface: the HTTP server's own address
