"""The engine's OSC namespace as OSCQuery describes it: every incoming address with its type, range,
description, access and current value, as JSON (https://github.com/Vidvox/OSCQueryProposal).

Why here, in the protocol layer: what an address means is protocol knowledge, and it is derived
from the one command table (`commands.INCOMING`), with its ranges taken from the very constants the
checkers use (`TEMPERATURE_RANGE`, `MIX_MODES`, ...), so the two cannot drift. `METHODS` adds what
the table cannot say: the type tags a client should send, a description, and which current value
(if any) a client may read. An address added to the table without an entry here is still served
(with a placeholder description), and tests/protocol/test_namespace.py fails until it is described.
The engine's HTTP server (engine/oscquery.py) and mDNS announcer (engine/mdns.py) are the I/O
around this pure core: `namespace` builds the tree, `answer` turns a request into (status, JSON).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from textconductor.protocol.commands import (
    CROWD_MODES,
    GUARD_STRENGTH_RANGE,
    INCOMING,
    MAX_ADVANCE,
    MAX_CROWD_POINTS,
    MAX_PRIME_CHARS,
    MIX_MODES,
    RATE_RANGE,
    STYLE_PREFIX,
    TEMPERATURE_RANGE,
    THRESHOLD_RANGE,
    TOP_P_RANGE,
)
from textconductor.protocol.defaults import SUBSCRIPTION_LEASE_S

# mDNS service types (DNS-SD): the OSCQuery HTTP server, and the engine's OSC port itself.
OSCJSON_SERVICE = "_oscjson._tcp.local."
OSC_SERVICE = "_osc._udp.local."
HOST_NAME = "textconductor"

# ACCESS: a bit mask (0: no value, 1: readable, 2: writable, 3: both).
READ, WRITE = 1, 2
READ_WRITE = READ | WRITE
INT32_MAX = 2 ** 31 - 1  # the largest value an OSC `i` can carry: the wire's limit, not the checker's

# The attributes this server answers (`?VALUE`), and those the proposal names that it does not keep.
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION")
UNSUPPORTED = ("TAGS", "EXTENDED_TYPE", "UNIT", "CRITICAL", "CLIPMODE", "OVERLOADS", "LISTEN", "IGNORE",
               "PATH_CHANGED", "PATH_RENAMED", "PATH_REMOVED", "PATH_ADDED", "HTML")
EXTENSIONS = {**dict.fromkeys(ATTRIBUTES[2:], True), **dict.fromkeys(UNSUPPORTED, False)}

STYLES = "<styles>"  # in a method's ranges: the names of the loaded styles (RANGE VALS)


def span(lo: float, hi: float) -> dict[str, float]:
    """A RANGE entry: the value must lie in [lo, hi]."""
    return {"MIN": lo, "MAX": hi}


def choice(*values: object) -> dict[str, list]:
    """A RANGE entry: the value must be one of these."""
    return {"VALS": list(values)}


UNIT = span(0.0, 1.0)


@dataclass(frozen=True)
class Method:
    """What OSCQuery says about one incoming address.

    `types`: the OSC type tags a client should send ("N": a momentary button, no value); `ranges`:
    one entry per tag (a `span`, a `choice`, STYLES, or None for none); `value`: the key of the
    engine's current values a client may read (None: write-only); `per_style`: the tag and its
    range stand once for each loaded style (/tc/weights with 24 styles is TYPE "f" x 24).
    """

    types: str
    description: str
    ranges: tuple[Any, ...] = ()
    value: str | None = None
    per_style: bool = False

    @property
    def access(self) -> int:
        return READ_WRITE if self.value else WRITE


_BUTTON = "(a momentary button: no argument, nil, or a button's 1; its release 0 is ignored)"

# Every address of commands.INCOMING, described. tests/protocol/test_namespace.py checks that each
# one is here and that a message built from TYPE and RANGE passes the table's checker.
METHODS: dict[str, Method] = {
    "/tc/weights": Method("f", "every style's raw weight 0..1 at once, in bank order (the engine normalises "
                          "them over the enabled styles)", (UNIT,), "weights", per_style=True),
    "/wek/outputs": Method("f", "Wekinator's output message: the same as /tc/weights", (UNIT,), "weights",
                           per_style=True),
    "/tc/weight": Method("sf", "one style's raw weight: the style's name, then 0..1", (STYLES, UNIT)),
    "/tc/enable": Method("sT", "make a style available (true) or not (false: it weighs 0)", (STYLES, None)),
    "/tc/temperature": Method("f", "sampling temperature of the mixed distribution", (span(*TEMPERATURE_RANGE),),
                              "temperature"),
    "/tc/rate": Method("f", "characters per second (0: as fast as possible)", (span(*RATE_RANGE),), "rate"),
    "/tc/mix": Method("s", "mixing rule: linear (the classic mixture) or product (only what the styles agree on)",
                      (choice(*MIX_MODES),), "mix"),
    "/tc/threshold": Method("f", "a style is active (stepped and mixed) above this share of the normalised weight",
                            (span(*THRESHOLD_RANGE),), "threshold"),
    "/tc/top_p": Method("f", "nucleus sampling: keep the most likely characters up to this probability (1: off)",
                        (span(*TOP_P_RANGE),), "top_p"),
    "/tc/pause": Method("N", f"stop generating {_BUTTON}"),
    "/tc/resume": Method("N", f"generate again {_BUTTON}"),
    "/tc/reset": Method("N", f"clear the text and every style's state {_BUTTON}"),
    "/tc/prime": Method("s", f"append performer-typed text (1..{MAX_PRIME_CHARS} characters) to the history; "
                        "every active style reads it", (None,)),
    "/tc/seed": Method("i", "reseed the sampler", (span(0, INT32_MAX),), "seed"),
    "/tc/guard": Method("Tf", "the loop guard on or off, and how hard it steers out of a loop (0..1)",
                        (None, span(*GUARD_STRENGTH_RANGE)), "guard"),
    "/tc/subscribe": Method("si", f"start or renew a {SUBSCRIPTION_LEASE_S:g} s lease on the engine's output "
                            "messages to HOST PORT (docs/osc.md); renew it every few seconds",
                            (None, span(1, 65535))),
    "/tc/unsubscribe": Method("si", "stop sending the output messages to HOST PORT", (None, span(1, 65535))),
    "/tc/ping": Method("N", "answer with /tc/hello to the sender"),
    "/tc/crowd": Method("f", "the audience's mixture, one raw weight 0..1 per style in bank order (from the "
                        "audience server)", (UNIT,), per_style=True),
    "/tc/crowd_mode": Method("sf", "how much the audience counts: off, blend (with this share 0..1) or crowd",
                             (choice(*CROWD_MODES), UNIT)),
    "/tc/crowd_points": Method("iib", "from the audience server: phones, connected phones, and up to "
                               f"{MAX_CROWD_POINTS} puck positions (float32 x, y pairs) relayed to the windows",
                               (span(0, 1_000_000), span(0, 1_000_000), None)),
    "/tc/advance": Method("i", "an external clock: generate this many characters now and hold the engine's own "
                          "rate for a moment (0 only holds)", (span(0, MAX_ADVANCE),)),
    "/tc/load": Method("sf", "load (or reload) NAME.safetensors from the engine's styles folder with this raw "
                       "weight 0..1; NAME is [a-z0-9_-], never a path", (None, UNIT)),
    "/tc/keep": Method("N", f"keep the passage since the last mark or paragraph break {_BUTTON}"),
    "/tc/reject": Method("N", f"reject the passage since the last mark or paragraph break {_BUTTON}"),
}

CONTAINERS = {
    "/": "textconductor: char-LSTM styles mixed live (docs/osc.md)",
    "/tc": "the engine's controls",
    "/wek": "Wekinator's messages",
    "/style": "one fader per loaded style: its raw weight 0..1",
}


def _range_entry(entry: Any, names: Sequence[str]) -> dict | None:
    return choice(*names) if entry is STYLES else entry


def method_node(address: str, method: Method, names: Sequence[str], values: Mapping[str, Sequence]) -> dict:
    """The JSON object of one method: FULL_PATH, TYPE, ACCESS, DESCRIPTION, RANGE and (if readable) VALUE."""
    n = len(names) if method.per_style else 1
    node: dict[str, Any] = {"FULL_PATH": address, "TYPE": method.types * n, "ACCESS": method.access,
                            "DESCRIPTION": method.description}
    if method.ranges:
        node["RANGE"] = [_range_entry(e, names) for e in method.ranges] * n
    if method.value and method.value in values:
        node["VALUE"] = list(values[method.value])
    return node


def _style_node(name: str, k: int, values: Mapping[str, Sequence]) -> dict:
    node: dict[str, Any] = {"FULL_PATH": STYLE_PREFIX + name, "TYPE": "f", "ACCESS": READ_WRITE,
                            "DESCRIPTION": f"{name}: raw weight 0..1", "RANGE": [UNIT]}
    weights = values.get("weights", ())
    if k < len(weights):
        node["VALUE"] = [weights[k]]
    return node


def _insert(root: dict, address: str, leaf: dict) -> None:
    node = root
    parts = address.strip("/").split("/")
    for depth, part in enumerate(parts[:-1]):
        path = "/" + "/".join(parts[:depth + 1])
        node = node.setdefault("CONTENTS", {}).setdefault(
            part, {"FULL_PATH": path, "ACCESS": 0, "DESCRIPTION": CONTAINERS.get(path, path[1:])})
    node.setdefault("CONTENTS", {})[parts[-1]] = leaf


def namespace(names: Sequence[str], values: Mapping[str, Sequence]) -> dict:
    """The whole tree (the answer to `GET /`) for an engine with these styles and current values.

    `values` maps a Method's `value` key to its current value list ("temperature": [0.8]);
    a key that is missing leaves VALUE out rather than guessing.
    """
    root: dict[str, Any] = {"FULL_PATH": "/", "ACCESS": 0, "DESCRIPTION": CONTAINERS["/"], "CONTENTS": {}}
    for address, (command, _) in INCOMING.items():
        method = METHODS.get(address)
        leaf = (method_node(address, method, names, values) if method else
                {"FULL_PATH": address, "DESCRIPTION": f"{command} (see docs/osc.md)"})
        _insert(root, address, leaf)
    for k, name in enumerate(names):
        if name and "/" not in name:  # a name that is not one path segment gets no fader of its own
            _insert(root, STYLE_PREFIX + name, _style_node(name, k, values))
    return root


def find(root: dict, path: str) -> dict | None:
    """The node at an OSC address ("/tc/rate", "/tc/", "/"), or None."""
    if not path.startswith("/"):
        return None
    node = root
    for part in path.strip("/").split("/") if path.strip("/") else ():
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


def host_info(osc_ip: str | None, osc_port: int, name: str = HOST_NAME) -> dict:
    """The HOST_INFO object: who we are, what we answer, and where the OSC (UDP) port is.
    `osc_ip` None: the same address as the HTTP server (the engine listens on every interface)."""
    info: dict[str, Any] = {"NAME": name, "EXTENSIONS": dict(EXTENSIONS), "OSC_PORT": osc_port,
                            "OSC_TRANSPORT": "UDP"}
    if osc_ip:
        info["OSC_IP"] = osc_ip
    return info


def answer(root: dict, info: dict, path: str, query: str) -> tuple[int, dict | None]:
    """An HTTP GET as OSCQuery answers it: (status, JSON object or None for no body).

    `path` is the URL's path (percent-decoded), `query` its query ("VALUE", "HOST_INFO" or "").
    404: no such node. 400: a query that is not one attribute name. 204: an attribute the
    proposal names but this server does not keep, or VALUE of a node that cannot be read. An
    attribute a node does not have (TYPE of a container) is the empty object, as the proposal shows.
    """
    attr = query.strip().upper()
    if attr == "HOST_INFO":  # the path is irrelevant here (the proposal)
        return 200, info
    if any(c in attr for c in "&=;,/ "):
        return 400, None
    node = find(root, path)
    if node is None:
        return 404, None
    if not attr:
        return 200, node
    if attr in UNSUPPORTED:
        return 204, None
    if attr not in ATTRIBUTES:
        return 400, None
    if attr == "VALUE" and not node.get("ACCESS", 0) & READ:
        return 204, None
    return 200, ({attr: node[attr]} if attr in node else {})
