"""HOST:PORT text and allow-lists: one set of rules for the engine, the window and the controllers."""

from __future__ import annotations

import pytest

from textconductor.errors import UserError
from textconductor.protocol.address import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    AllowList,
    AllowListError,
    is_loopback,
    parse_address,
    resolve_allow_list,
)


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:57130", ("127.0.0.1", 57130)),
    ("10.0.0.2:1234", ("10.0.0.2", 1234)),
    (":9000", (DEFAULT_HOST, 9000)),
    ("9000", (DEFAULT_HOST, 9000)),  # a bare number is a port
    ("studio.local", ("studio.local", DEFAULT_PORT)),
    ("localhost", ("localhost", DEFAULT_PORT)),
    ("  studio.local:7000 \n", ("studio.local", 7000)),
    ("", (DEFAULT_HOST, DEFAULT_PORT)),
    ("65535", (DEFAULT_HOST, 65535)),
])
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_parse_address_defaults():
    assert parse_address("studio.local", default_port=7001) == ("studio.local", 7001)
    assert parse_address(":7001", default_host="10.0.0.9") == ("10.0.0.9", 7001)


@pytest.mark.parametrize(("text", "reason"), [
    ("host:port", "expected HOST:PORT"),
    ("localhost:notaport", "expected HOST:PORT"),
    ("host:0", "port must be 1..65535"),
    ("host:70000", "port must be 1..65535"),
    ("0", "port must be 1..65535"),
    ("host:-5", "port must be 1..65535"),
])
def test_parse_address_errors_name_what_and_text(text, reason):
    with pytest.raises(ValueError, match=f"^bad engine address {text!r}: {reason}$"):
        parse_address(text, what="engine address")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.3", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("10.0.0.2", False), ("studio.local", False),
])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_loopback_listener_without_a_list_accepts_everyone():
    allow = resolve_allow_list("127.0.0.1", None)
    assert allow == AllowList(None) and "127.0.0.2" in allow and "10.0.0.2" in allow
    assert resolve_allow_list("localhost", []).hosts is None


def test_listed_hosts_and_this_machine_only():
    allow = resolve_allow_list("0.0.0.0", ["127.0.0.3", "localhost"])
    assert allow.hosts == {"127.0.0.1", "127.0.0.3"}
    assert "127.0.0.3" in allow and "127.0.0.1" in allow
    assert "127.0.0.2" not in allow and "10.0.0.2" not in allow


def test_a_list_on_a_loopback_listener_still_applies():
    assert "127.0.0.2" not in resolve_allow_list("127.0.0.1", ["127.0.0.3"])


def test_open_listener_needs_a_list():
    with pytest.raises(AllowListError, match=r"^listening on 0\.0\.0\.0 needs --allow HOST\.\.\. "
                                             r"\(the hosts that may control the engine\)$"):
        resolve_allow_list("0.0.0.0", [], who="control the engine")


def test_unresolvable_names_are_user_errors():
    with pytest.raises(AllowListError, match="--allow: cannot resolve host 'no.such.host.invalid'"):
        resolve_allow_list("0.0.0.0", ["no.such.host.invalid"])
    with pytest.raises(UserError, match="cannot resolve the address to listen on"):
        resolve_allow_list("no.such.host.invalid", None)
