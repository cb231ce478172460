"""The room's address and door: its random code, the URL the QR code carries, and who may connect.
No aiohttp here, so `play` can choose them before it starts the server and the window (both must
show the same URL)."""

from __future__ import annotations

import ipaddress
import secrets
import socket

ROOM_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: a code read aloud or typed survives
ROOM_CHARS = 8  # 31^8 ~ 8.5e11 codes
DEFAULT_AUDIENCE_PORT = 8765


def new_room_code() -> str:
    return "".join(secrets.choice(ROOM_ALPHABET) for _ in range(ROOM_CHARS))


def valid_room_code(code: str) -> bool:
    return 4 <= len(code) <= 64 and all(c in ROOM_ALPHABET for c in code)


def lan_address() -> str | None:
    """This machine's address on its default route (what a phone on the same Wi-Fi reaches), found by
    asking the kernel which interface a UDP socket would use: connect() on UDP sends nothing."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("10.255.255.255", 9))
        ip = s.getsockname()[0]
        return None if ipaddress.ip_address(ip).is_loopback or ip == "0.0.0.0" else ip
    except OSError:
        return None
    finally:
        s.close()


def room_url(listen_host: str, port: int, room: str, url_host: str | None = None) -> str:
    """http://HOST:PORT/r/ROOM/: HOST is `url_host`, else the listen address, else (listening on every
    interface) this machine's LAN address."""
    host = url_host or listen_host
    if host in ("0.0.0.0", "::", ""):
        host = lan_address() or "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/r/{room}/"


class AllowNets:
    """Who may connect: None = everyone (loopback listener); else these networks plus loopback."""

    def __init__(self, host: str, allow: tuple[str, ...]) -> None:
        from textconductor.errors import UserError
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback and not allow:
            self.nets = None
            return
        if not allow:
            raise UserError(f"listening on {host} needs --allow NET... (the phones' network, e.g. 192.168.1.0/24, "
                            "or 0.0.0.0/0 for any: the room code still keeps strangers out)")
        nets = [ipaddress.ip_network("127.0.0.0/8")]
        for a in allow:
            try:
                nets.append(ipaddress.ip_network(a, strict=False))
            except ValueError:
                raise UserError(f"--allow: {a!r} is not an address or network (e.g. 192.168.1.0/24)") from None
        self.nets = nets

    def __contains__(self, ip: object) -> bool:
        if self.nets is None:
            return True
        try:
            addr = ipaddress.ip_address(str(ip))
        except ValueError:
            return False
        return any(addr in n for n in self.nets if n.version == addr.version)
