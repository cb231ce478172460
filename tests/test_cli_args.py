"""The command line's shared argument types: what they accept, and the one-line error for the rest."""

from __future__ import annotations

import argparse

import pytest

from textconductor.cli.args import fraction, host_port, nonnegative_float, positive_float, positive_int, udp_port
from textconductor.protocol import DEFAULT_HOST


@pytest.mark.parametrize("check,text,value", [
    (positive_float, "2.5", 2.5), (nonnegative_float, "0", 0.0), (positive_int, "3", 3), (fraction, "1", 1.0),
    (udp_port, "0", 0), (udp_port, "65535", 65535),
])
def test_good_values_pass(check, text, value):
    assert check(text) == value


@pytest.mark.parametrize("check,text,message", [
    (positive_float, "x", "expected a number, got 'x'"), (positive_float, "0", "must be > 0, got 0"),
    (positive_float, "inf", "must be > 0, got inf"), (positive_float, "nan", "must be > 0, got nan"),
    (nonnegative_float, "-1", "must be >= 0, got -1"), (nonnegative_float, "inf", "must be >= 0, got inf"),
    (positive_int, "1.5", "expected a whole number, got '1.5'"), (positive_int, "0", "must be > 0, got 0"),
    (fraction, "a", "expected a number in 0..1, got 'a'"), (fraction, "1.5", "must be in 0..1, got 1.5"),
    (udp_port, "p", "expected a port number, got 'p'"), (udp_port, "65536", "must be in 0..65535, got 65536"),
])
def test_bad_values_say_what_was_expected(check, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as e:
        check(text)
    assert str(e.value) == message


@pytest.mark.parametrize("text,address", [
    ("10.0.0.2:9000", ("10.0.0.2", 9000)), (":9000", (DEFAULT_HOST, 9000)), ("9000", (DEFAULT_HOST, 9000)),
    (" localhost:1 ", ("localhost", 1)),
])
def test_host_port_reads_address_text_as_every_process_does(text, address):
    assert host_port(text) == address


@pytest.mark.parametrize("text", ["localhost", "host:", "host:port", "host:0", "host:65536", ""])
def test_host_port_needs_a_port_in_range(text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected HOST:PORT"):
        host_port(text)



def test_headless_autopilot_waits_as_long_as_the_window():
    """One idle time for the room, with or without a window (it was 30 s headless, 60 s in the window)."""
    from textconductor.cli import build_parser
    from textconductor.protocol.defaults import AUTOPILOT_IDLE_S, AUTOPILOT_LEG_S

    a = build_parser().parse_args(["autopilot"])
    assert (a.idle, a.leg) == (AUTOPILOT_IDLE_S, AUTOPILOT_LEG_S) == (60.0, 15.0)
