"""mDNS (DNS-SD) announcements of the engine: `_osc._udp` for its OSC port and `_oscjson._tcp` for its
OSCQuery server, so TouchOSC, TouchDesigner, Max and ossia score list it without an address typed in.

Only on the interfaces the engine listens on: by default that is loopback alone
(`Zeroconf(interfaces=["127.0.0.1"])`), so nothing is announced on a network nobody asked for;
`--listen 192.168.1.20` announces on that interface, `--listen 0.0.0.0` on every IPv4 interface.
zeroconf is imported here, lazily, on the announcer's own thread: registering probes the network
for name conflicts for about 1.5 s, and the engine must not wait for that before it plays.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Sequence

from textconductor.protocol.namespace import HOST_NAME

log = logging.getLogger(__name__)

WILDCARD = "0.0.0.0"


def interfaces_for(listen_ip: str) -> list[str]:
    """The IPv4 addresses to announce on (and to announce): the engine's listen address, or for the
    wildcard every IPv4 address of this machine (loopback included)."""
    if listen_ip != WILDCARD:
        return [listen_ip]
    import ifaddr  # zeroconf's own dependency for the same question

    found = {ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips if isinstance(ip.ip, str)}
    return sorted(found, key=lambda a: (not ipaddress.ip_address(a).is_loopback, a))


def instance_name(osc_port: int) -> str:
    """The service instance a browser lists: the program, the machine and the port (two engines on one
    machine differ by their port)."""
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"{HOST_NAME} on {host} ({osc_port})"[:63]


class Announcer:
    """Registers `services` ((DNS-SD type, port) pairs) on a daemon thread; `close` says goodbye."""

    def __init__(self, listen_ip: str, services: Sequence[tuple[str, int]], name: str | None = None) -> None:
        self.ips = interfaces_for(listen_ip)
        self.services = list(services)
        self.name = name or instance_name(self.services[0][1])
        self.registered: list[str] = []  # full service names, once announced
        self.ready = threading.Event()  # set when every service is registered (or registering failed)
        self._zc = None
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="mdns", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            from zeroconf import IPVersion, ServiceInfo, Zeroconf

            with self._lock:
                if self._closed:
                    return
                self._zc = zc = Zeroconf(interfaces=self.ips, ip_version=IPVersion.V4Only)
            server = f"{HOST_NAME}-{self.services[0][1]}.local."
            for service_type, port in self.services:
                info = ServiceInfo(service_type, f"{self.name}.{service_type}", port=port, server=server,
                                   addresses=[socket.inet_aton(ip) for ip in self.ips], properties={"txtvers": "1"})
                zc.register_service(info, allow_name_change=True)
                self.registered.append(info.name)
                log.info("mDNS: announced %s on %s port %d", info.name, ", ".join(self.ips), port)
        except Exception as e:  # noqa: BLE001 - discovery is a convenience: never take the engine down for it
            if not self._closed:
                log.error("mDNS: cannot announce the engine on %s (%s); it still plays, connect by address",
                          ", ".join(self.ips), e)
        finally:
            self.ready.set()

    def close(self) -> None:
        """Unregister (goodbye packets, so browsers drop the entry at once) and stop."""
        with self._lock:
            self._closed = True
            zc, self._zc = self._zc, None
        if zc is not None:
            try:
                zc.close()
            except Exception as e:  # noqa: BLE001 - shutting down: a failed goodbye only leaves a stale entry
                log.debug("mDNS close: %s", e)
