"""The incoming command table: every address, every check, every rejection reason (table-driven).

Accepted commands are written as OSC bytes by hand, as a controller would send them; the
rejections go through `parse_message` directly where the bytes would add nothing, and through
`parse_packet` where they are the point (wildcards, the style prefix, button releases).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from textconductor.protocol import commands
from textconductor.protocol.commands import (
    BUTTON_RELEASE,
    INCOMING,
    Command,
    is_error,
    parse_message,
    parse_packet,
)
from textconductor.protocol.wire import Rejected

SENDER = ("127.0.0.1", 9000)

# (datagram, the command it is)
ACCEPTED = [
    (b"/tc/weights\x00,fff\x00\x00\x00\x00?\x00\x00\x00\x00\x00\x00\x00?\x80\x00\x00",
     Command("weights", (0.5, 0.0, 1.0))),
    (b"/wek/outputs\x00\x00\x00\x00,ff\x00>\x80\x00\x00?@\x00\x00", Command("weights", (0.25, 0.75))),
    (b"/wek/outputs\x00\x00\x00\x00,ii\x00\x00\x00\x00\x00\x00\x00\x00\x01", Command("weights", (0.0, 1.0))),
    (b"/tc/weight\x00\x00,sf\x00bible\x00\x00\x00?L\xcc\xcd", Command("weight", ("bible", pytest.approx(0.8)))),
    (b"/tc/weight\x00\x00,if\x00\x00\x00\x00\x02?\x80\x00\x00", Command("weight", (2, 1.0))),  # by index
    (b"/style/linux\x00\x00\x00\x00,f\x00\x00?\x80\x00\x00", Command("weight", ("linux", 1.0))),
    (b"/tc/enable\x00\x00,si\x00apollo\x00\x00\x00\x00\x00\x00", Command("enable", ("apollo", False))),
    (b"/tc/enable\x00\x00,sT\x00apollo\x00\x00", Command("enable", ("apollo", True))),
    (b"/tc/temperature\x00,f\x00\x00?333", Command("temperature", (pytest.approx(0.7),))),
    (b"/tc/rate\x00\x00\x00\x00,f\x00\x00A\xa0\x00\x00", Command("rate", (20.0,))),
    (b"/tc/rate\x00\x00\x00\x00,i\x00\x00\x00\x00\x00\x00", Command("rate", (0.0,))),  # int accepted, as float
    (b"/tc/mix\x00,s\x00\x00product\x00", Command("mix", ("product",))),
    (b"/tc/mix\x00,i\x00\x00\x00\x00\x00\x00", Command("mix", ("linear",))),
    (b"/tc/threshold\x00\x00\x00,f\x00\x00=\xcc\xcc\xcd", Command("threshold", (pytest.approx(0.1),))),
    (b"/tc/top_p\x00\x00\x00,f\x00\x00?fff", Command("top_p", (pytest.approx(0.9),))),
    (b"/tc/pause\x00\x00\x00", Command("pause")),  # no type tags at all (oscsend does this)
    (b"/tc/pause\x00\x00\x00,\x00\x00\x00", Command("pause")),
    (b"/tc/resume\x00\x00,f\x00\x00?\x80\x00\x00", Command("resume")),  # a TouchOSC button's press
    (b"/tc/reset\x00\x00\x00,i\x00\x00\x00\x00\x00\x01", Command("reset")),
    (b"/tc/prime\x00\x00\x00,s\x00\x00And God said\x00\x00\x00\x00", Command("prime", ("And God said",))),
    (b"/tc/seed\x00\x00\x00\x00,i\x00\x00\x00\x00\x00\x07", Command("seed", (7,))),
    (b"/tc/subscribe\x00\x00\x00,i\x00\x00\x00\x00\xdf\x5b", Command("subscribe", (None, 57179))),
    (b"/tc/subscribe\x00\x00\x00,si\x0010.0.0.2\x00\x00\x00\x00\x00\x00\xdf\x5b",
     Command("subscribe", ("10.0.0.2", 57179))),
    (b"/tc/unsubscribe\x00,i\x00\x00\x00\x00\xdf\x5b", Command("unsubscribe", (None, 57179))),
    (b"/tc/ping\x00\x00\x00\x00", Command("ping")),
    (b"/tc/advance\x00,i\x00\x00\x00\x00\x00\x01", Command("advance", (1,))),
    (b"/tc/advance\x00,f\x00\x00@\x00\x00\x00", Command("advance", (2,))),  # a whole float (Max, TouchOSC)
    (b"/tc/advance\x00,\x00\x00\x00", Command("advance", (1,))),  # none: one character
    (b"/tc/crowd\x00\x00\x00,fff\x00\x00\x00\x00?\x00\x00\x00\x00\x00\x00\x00?\x80\x00\x00",
     Command("crowd", (0.5, 0.0, 1.0))),
    (b"/tc/crowd_mode\x00\x00,sf\x00blend\x00\x00\x00>\x80\x00\x00", Command("crowd_mode", ("blend", 0.25))),
    (b"/tc/crowd_mode\x00\x00,i\x00\x00\x00\x00\x00\x02", Command("crowd_mode", ("crowd", None))),  # by index
    (b"/tc/crowd_points\x00\x00\x00\x00,iib\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x08"
     b"\x00\x00\x80?\x00\x00\x00\x00", Command("crowd_points", (3, 4, b"\x00\x00\x80?\x00\x00\x00\x00"))),
    (b"/tc/crowd_points\x00\x00\x00\x00,ii\x00\x00\x00\x00\x00\x00\x00\x00\x01", Command("crowd_points", (0, 1, b""))),
    (b"/tc/keep\x00\x00\x00\x00,\x00\x00\x00", Command("keep")),  # the passage since the last mark
    (b"/tc/keep\x00\x00\x00\x00,ii\x00\x00\x00\x00x\x00\x00\x01\\", Command("keep", (120, 348))),  # a selection
    (b"/tc/reject\x00\x00,f\x00\x00?\x80\x00\x00", Command("reject")),  # a TouchOSC button's press
    (b"/tc/reject\x00\x00,ff\x00@\xe0\x00\x00A\x10\x00\x00", Command("reject", (7, 9))),  # whole floats as ticks
    (b"/tc/load\x00\x00\x00\x00,s\x00\x00house\x00\x00\x00", Command("load", ("house", 0.0))),
    (b"/tc/load\x00\x00\x00\x00,sf\x00house\x00\x00\x00?\x00\x00\x00", Command("load", ("house", 0.5))),
    (b"/tc/guard\x00\x00\x00,i\x00\x00\x00\x00\x00\x01", Command("guard", (True, None))),
    (b"/tc/guard\x00\x00\x00,T\x00\x00", Command("guard", (True, None))),
    (b"/tc/guard\x00\x00\x00,if\x00\x00\x00\x00\x00?@\x00\x00", Command("guard", (False, 0.75))),
    (b"/tc/guard\x00\x00\x00,ff\x00?\x80\x00\x00?\x00\x00\x00", Command("guard", (True, 0.5))),
]


@pytest.mark.parametrize(("dgram", "command"), ACCEPTED)
def test_accepted(dgram, command):
    assert parse_packet(dgram) == [command]
    (got,) = parse_packet(dgram, SENDER)
    assert got.sender == SENDER


def test_every_address_in_the_table_is_exercised():
    seen = {dgram.split(b"\x00", 1)[0].decode() for dgram, _ in ACCEPTED}
    assert set(INCOMING) <= seen


# (address, args, reason): each reason a checker can give, at least once.
REJECTED = [
    ("/tc/*", (1.0,), "OSC wildcards are not accepted"),
    ("/style/b?ble", (1.0,), "OSC wildcards are not accepted"),
    ("/tc/weight[s]", (1.0,), "OSC wildcards are not accepted"),
    ("/tc/{rate,mix}", (1.0,), "OSC wildcards are not accepted"),
    ("/tc/nope", (), "unknown address"),
    ("/tc/weights", (), "expected 1..256 weights, got 0"),
    ("/tc/weights", (0.1,) * 257, "expected 1..256 weights, got 257"),
    ("/tc/weights", (0.5, "x"), "expected a number, got str"),
    ("/tc/weights", (0.5, True), "expected a number, got bool"),
    ("/tc/weights", (0.5, None), "expected a number, got NoneType"),
    ("/tc/weights", (math.nan,), "value is NaN or infinite"),
    ("/tc/weights", (math.inf,), "value is NaN or infinite"),
    ("/tc/weights", (1.5,), "weight 1.5 outside [0, 1]"),
    ("/tc/weights", (-0.25,), "weight -0.25 outside [0, 1]"),
    ("/tc/weight", ("bible",), "expected 2 argument(s), got 1"),
    ("/tc/weight", (1.5, 0.5), "style must be a name or an index"),
    ("/tc/weight", (True, 0.5), "style must be a name or an index"),
    ("/tc/weight", ("", 0.5), "style must be a name or an index"),
    ("/tc/weight", ("x" * 65, 0.5), "style must be a name or an index"),
    ("/tc/weight", (256, 0.5), "style index 256 out of range"),
    ("/tc/weight", (-1, 0.5), "style index -1 out of range"),
    ("/style/bible", (), "expected 1 argument(s), got 0"),
    ("/style/bible", (2.0,), "weight 2 outside [0, 1]"),
    ("/style/", (1.0,), "style must be a name or an index"),
    ("/tc/enable", ("bible", 2), "enable flag must be 0 or 1"),
    ("/tc/enable", ("bible", "yes"), "enable flag must be 0 or 1"),
    ("/tc/temperature", ("hot",), "expected a number, got str"),
    ("/tc/temperature", (0.01,), "temperature 0.01 outside [0.05, 5]"),
    ("/tc/temperature", (0.5, 0.5), "expected 1 argument(s), got 2"),
    ("/tc/rate", (-5.0,), "rate -5 outside [0, 1000]"),
    ("/tc/threshold", (0.6,), "threshold 0.6 outside [0, 0.5]"),
    ("/tc/top_p", (0.0,), "top_p 0 outside [0.01, 1]"),
    ("/tc/mix", ("average",), "mix must be one of ('linear', 'product') or 0/1"),
    ("/tc/mix", (2,), "mix must be one of ('linear', 'product') or 0/1"),
    ("/tc/mix", (True,), "mix must be one of ('linear', 'product') or 0/1"),
    ("/tc/pause", (math.nan,), "value is NaN or infinite"),
    ("/tc/pause", ("now",), "expected 0 argument(s), got 1"),
    ("/tc/pause", (1.0, 1.0), "expected 0 argument(s), got 2"),
    ("/tc/prime", (42,), "prime text must be a string"),
    ("/tc/prime", ("",), "prime text must be 1..2000 characters"),
    ("/tc/prime", ("x" * 2001,), "prime text must be 1..2000 characters"),
    ("/tc/seed", (-1,), "seed must be a non-negative integer"),
    ("/tc/seed", (1.0,), "seed must be a non-negative integer"),
    ("/tc/seed", (False,), "seed must be a non-negative integer"),
    ("/tc/subscribe", (), "expected (port) or (host, port)"),
    ("/tc/subscribe", (1, 2), "expected (port) or (host, port)"),
    ("/tc/subscribe", (70000,), "port must be an integer 1..65535"),
    ("/tc/subscribe", (0,), "port must be an integer 1..65535"),
    ("/tc/subscribe", ("57131",), "port must be an integer 1..65535"),
    ("/tc/subscribe", ("", 57131), "bad host"),
    ("/tc/unsubscribe", ("h" * 254, 57131), "bad host"),
    ("/tc/advance", (65,), "advance must be a whole number 0..64"),
    ("/tc/advance", (-1,), "advance must be a whole number 0..64"),
    ("/tc/advance", (1.5,), "advance must be a whole number 0..64"),
    ("/tc/advance", (1, 2), "expected 1 argument(s), got 2"),
    ("/tc/advance", (float("nan"),), "value is NaN or infinite"),
    ("/tc/load", (), "expected (name) or (name, weight)"),
    ("/tc/load", ("../house",), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("/tmp/house",), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("house.safetensors",), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("..",), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("House",), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("h" * 65,), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("",), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", (3,), "style file name must match [a-z0-9_-]{1,64} (a name, not a path)"),
    ("/tc/load", ("house", 1.5), "weight 1.5 outside [0, 1]"),
    ("/tc/guard", (), "expected (on) or (on, strength)"),
    ("/tc/guard", (1, 0.5, 0.5), "expected (on) or (on, strength)"),
    ("/tc/guard", (2,), "guard on/off must be 0 or 1"),
    ("/tc/guard", ("on",), "guard on/off must be 0 or 1"),
    ("/tc/guard", (1, 1.5), "guard strength 1.5 outside [0, 1]"),
    ("/tc/guard", (1, math.nan), "value is NaN or infinite"),
    ("/tc/crowd", (0.5, math.nan), "value is NaN or infinite"),
    ("/tc/crowd", (1.5,), "weight 1.5 outside [0, 1]"),
    ("/tc/crowd_mode", (), "expected (mode) or (mode, blend)"),
    ("/tc/crowd_mode", ("everyone",), "crowd mode must be one of ('off', 'blend', 'crowd') or 0..2"),
    ("/tc/crowd_mode", (3,), "crowd mode must be one of ('off', 'blend', 'crowd') or 0..2"),
    ("/tc/crowd_mode", ("blend", 1.5), "crowd blend 1.5 outside [0, 1]"),
    ("/tc/crowd_points", (1,), "expected (phones, connected) or (phones, connected, points)"),
    ("/tc/crowd_points", (-1, 0), "phone counts must be integers 0..1000000"),
    ("/tc/crowd_points", (1, 1, b"\x00" * 12), "points must be a blob of up to 200 float32 pairs"),
    ("/tc/crowd_points", (1, 1, b"\x00" * 1608), "points must be a blob of up to 200 float32 pairs"),
    ("/tc/keep", (1, 2, 3), "expected none, a button's value, or (start, end)"),
    ("/tc/keep", (1.5, 3), "mark span ticks must be whole numbers >= 0"),
    ("/tc/reject", (-1, 3), "mark span ticks must be whole numbers >= 0"),
    ("/tc/reject", (9, 9), "mark span must have start < end"),
    ("/tc/keep", ("a", 3), "expected a number, got str"),
]


@pytest.mark.parametrize(("address", "args", "reason"), REJECTED)
def test_rejected(address, args, reason):
    got = parse_message(address, args, SENDER)
    assert got == Rejected(reason, address[:64])
    assert is_error(got)


def test_rejected_address_is_cut_to_64_characters():
    long = "/" + "x" * 100
    assert parse_message(long, ()) == Rejected("unknown address", long[:64])


@pytest.mark.parametrize("address", ["/tc/pause", "/tc/resume", "/tc/reset", "/tc/ping", "/tc/keep", "/tc/reject"])
def test_button_release_is_rejected_but_no_error(address):
    """TouchOSC sends 0 on release: ignored, not counted as a fault of the sender."""
    (got,) = parse_packet(address.encode() + b"\x00" * (4 - len(address) % 4) + b",f\x00\x00\x00\x00\x00\x00")
    assert got == Rejected(BUTTON_RELEASE, address)
    assert not is_error(got)


def test_wire_rejections_reach_the_command_level_unchanged():
    assert parse_packet(b"") == [Rejected("empty packet")]
    assert parse_packet(b"/tc/rate\x00\x00\x00\x00,f\x00\x00", SENDER) == [
        Rejected("malformed message (argument data runs past the end)")]


def test_bundle_of_commands_keeps_order_and_sender():
    dgram = (b"#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"
             b"\x00\x00\x00\x14/tc/rate\x00\x00\x00\x00,f\x00\x00A\xa0\x00\x00"
             b"\x00\x00\x00\x10/nope\x00\x00\x00,f\x00\x00?\x80\x00\x00"
             b"\x00\x00\x00\x0c/tc/reset\x00\x00\x00")
    assert parse_packet(dgram, SENDER) == [Command("rate", (20.0,), SENDER), Rejected("unknown address", "/nope"),
                                           Command("reset", (), SENDER)]


def test_address_of_each_command_is_its_first_table_entry():
    assert commands.ADDRESS["weights"] == "/tc/weights"  # not /wek/outputs
    assert {commands.ADDRESS[name] for name, _ in INCOMING.values()} <= set(INCOMING)
    assert all(INCOMING[address][0] == name for name, address in commands.ADDRESS.items())


def test_docs_table_matches_the_code():
    """docs/osc.md lists exactly the addresses the engine accepts, and the ranges the code checks."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "osc.md").read_text()
    into = doc.split("## Into the engine", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(/[^`]+)`", into, flags=re.MULTILINE))
    assert documented == set(INCOMING) | {commands.STYLE_PREFIX + "<name>"}
    rows = {m[0]: m[1] for m in re.findall(r"^\| `(/[^`]+)` \|[^|]*\| ([^|]*) \|", into, flags=re.MULTILINE)}
    for address, (lo, hi) in [("/tc/temperature", commands.TEMPERATURE_RANGE), ("/tc/rate", commands.RATE_RANGE),
                              ("/tc/threshold", commands.THRESHOLD_RANGE), ("/tc/top_p", commands.TOP_P_RANGE)]:
        assert f"{lo:g}..{hi:g}" in rows[address], address
    assert f"1..{commands.MAX_PRIME_CHARS}" in rows["/tc/prime"]
