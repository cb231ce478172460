"""Where things are on the network: the engine's default address, HOST:PORT text, allow-lists.

One set of rules for every process: `parse_address` reads HOST:PORT text (the window's and the
controllers' `--engine`, the examples), and `resolve_allow_list` decides who may send to the
engine and to the osc-bridge. An address that works for one works for all, and a rule is fixed
in one place.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from textconductor.errors import UserError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 57130
LOOPBACK = "127.0.0.1"


def parse_address(text: str, default_port: int = DEFAULT_PORT, default_host: str = DEFAULT_HOST,
                  what: str = "address") -> tuple[str, int]:
    """'HOST:PORT', ':PORT', 'PORT' or 'HOST' -> (host, port); the missing part from the defaults.

    A bare number is a port (nobody names a host '9000'). Raises ValueError naming `what`
    ('engine address', ...) and the text, so a command line can print it as the one-line error.
    """
    text = text.strip()
    host, sep, port_s = text.rpartition(":")
    if not sep:
        host, port_s = (("", text) if text.isdigit() else (text, ""))
    host = host or default_host
    try:
        port = int(port_s) if port_s else default_port
    except ValueError:
        raise ValueError(f"bad {what} {text!r}: expected HOST:PORT") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"bad {what} {text!r}: port must be 1..65535")
    return host, port


def format_address(host: str, port: int) -> str:
    return f"{host}:{port}"


def is_loopback(host: str) -> bool:
    """True for 127.x.x.x, ::1 and 'localhost' (no name lookup: this is asked of every sender)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class AllowListError(UserError):
    """An unusable allow-list: a non-loopback listener without one, or a host that does not resolve."""


@dataclass(frozen=True)
class AllowList:
    """The sender addresses a socket accepts. `hosts` None: everyone (the socket is loopback-only)."""

    hosts: frozenset[str] | None = None

    def __contains__(self, sender_ip: object) -> bool:
        return self.hosts is None or sender_ip in self.hosts


def resolve_allow_list(listen_host: str, allow: Iterable[str] | None, who: str = "send") -> AllowList:
    """The rule for every listener: loopback alone needs no list; any other interface needs one.

    Listening on loopback with no `allow`, only this machine can reach the socket, so everyone is
    accepted. Otherwise the senders are the resolved `allow` hosts plus 127.0.0.1 (this machine's
    own tools keep working). Names are resolved once here, not per packet. `who` completes the
    error message: "the hosts that may {who}".
    """
    allow = list(allow or [])
    try:
        listen_ip = socket.gethostbyname(listen_host)
    except OSError as e:
        raise AllowListError(f"cannot resolve the address to listen on {listen_host!r} ({e})") from None
    if ipaddress.ip_address(listen_ip).is_loopback and not allow:
        return AllowList(None)
    if not allow:
        raise AllowListError(f"listening on {listen_host} needs --allow HOST... (the hosts that may {who})")
    resolved = set()
    for h in allow:
        try:
            resolved.add(socket.gethostbyname(h))
        except OSError as e:
            raise AllowListError(f"--allow: cannot resolve host {h!r} ({e})") from None
    return AllowList(frozenset(resolved | {LOOPBACK}))
