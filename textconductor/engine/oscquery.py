"""The engine's OSCQuery server: its OSC namespace as JSON over HTTP, with current values, and
(engine/mdns.py) its announcement over mDNS. The I/O shell around protocol/namespace.py.

Threads: the HTTP server runs on its own daemon threads and never touches the conductor. The
engine's thread copies what a client may read (style names, weights, parameters) into a
`ValueBoard` after every command that changed state and once a second (`Engine.watchers`), so a
request reads a consistent snapshot under a lock and cannot slow or corrupt a tick.

It honours the engine's `--listen/--allow` like the OSC port: it listens on the same interface,
and a client outside the allow-list is refused (its connection closed unanswered) and counted.
Every bad request (unknown path, bad query, wrong method, oversized line or headers, a client that
stalls) gets an error status or a timeout, is counted in the engine's rejection counts
(`/tc/rejected`, prefixed "oscquery:") and is never fatal. Connections are capped, so a flood
cannot spawn threads without bound.
"""

from __future__ import annotations

import json
import logging
import socketserver
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from textconductor.engine.conductor import Conductor
from textconductor.engine.mdns import WILDCARD, Announcer
from textconductor.engine.server import RejectLog
from textconductor.protocol.address import AllowList
from textconductor.protocol.namespace import OSC_SERVICE, OSCJSON_SERVICE, answer, host_info, namespace

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 16  # at once; a controller keeps one, a browser a few
REQUEST_TIMEOUT_S = 5.0  # a client that sends nothing for this long is dropped (no slowloris)
REJECT_PREFIX = "oscquery: "


def current_values(conductor: Conductor) -> dict[str, list]:
    """What OSCQuery clients may read, keyed as `Method.value` in protocol/namespace.py (engine thread)."""
    p, g = conductor.params, conductor.guard
    return {"weights": [float(w) for w in conductor.raw], "temperature": [float(p.temperature)],
            "rate": [float(p.rate)], "mix": [str(p.mix)], "threshold": [float(p.threshold)],
            "top_p": [float(p.top_p)], "seed": [int(p.seed)], "guard": [bool(g.on), float(g.strength)]}


class ValueBoard:
    """The engine's names and current values, written by the engine's thread, read by HTTP threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: tuple[str, ...] = ()
        self._values: dict[str, list] = {}

    def update(self, conductor: Conductor) -> None:
        names, values = tuple(conductor.names), current_values(conductor)
        with self._lock:
            self._names, self._values = names, values

    def read(self) -> tuple[tuple[str, ...], dict[str, list]]:
        with self._lock:
            return self._names, self._values


class _Handler(BaseHTTPRequestHandler):
    server: OscQueryServer
    protocol_version = "HTTP/1.1"  # keep-alive: a controller polling values reuses its connection
    server_version = "textconductor-oscquery"
    timeout = REQUEST_TIMEOUT_S

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(with_body=False)

    def _answer(self, with_body: bool) -> None:
        if self.headers.get("Content-Length", "0") != "0" or "Transfer-Encoding" in self.headers:
            self.close_connection = True  # a GET with a body: never read it, so never reuse the connection
        url = urlsplit(self.path)
        status, obj = self.server.respond(unquote(url.path), url.query)
        if status >= 400:
            self.server.count(f"HTTP {status}")
        body = b"" if obj is None else json.dumps(obj, allow_nan=False).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json" if obj is not None else "text/plain")
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")  # browser-based OSCQuery explorers
        self.end_headers()
        if with_body and status != 204:
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (unknown method 501, line or headers too long 414/431, bad
        request line 400) are counted like ours."""
        self.server.count(f"HTTP {code}")
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        log.debug("oscquery %s: " + format, self.client_address[0], *args)


class OscQueryServer(ThreadingHTTPServer):
    """HTTP on `host:port` answering OSCQuery from `board`; `osc` is the engine's (ip, UDP port)."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True  # an engine restarted after a crash binds at once (TIME_WAIT)
    request_queue_size = 64  # listen backlog: a burst of connections waits to be counted, not for SYN retries

    def __init__(self, host: str, port: int, board: ValueBoard, osc: tuple[str, int], allow: AllowList,
                 rejected: RejectLog | None = None) -> None:
        self.board, self.allow = board, allow
        self.rejected = rejected or RejectLog()
        self.info = host_info(None if osc[0] == WILDCARD else osc[0], osc[1])
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for this host's full name (seconds on a LAN without DNS): skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def port(self) -> int:
        return self.server_address[1]

    def count(self, reason: str) -> None:
        self.rejected.add(REJECT_PREFIX + reason)

    def respond(self, path: str, query: str) -> tuple[int, dict | None]:
        names, values = self.board.read()
        return answer(namespace(names, values), self.info, path, query)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if client_address[0] not in self.allow:
            self.count("host not allowed")
            return False
        if not self._slots.acquire(blocking=False):
            self.count("too many connections")
            return False
        return True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request that failed in flight (a client gone mid-reply): counted, logged quietly, never fatal
        (socketserver would print a traceback to stderr)."""
        self.count("request failed")
        log.debug("oscquery: request from %s failed", client_address[0], exc_info=True)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="oscquery-http", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
        self.server_close()


@dataclass
class Discovery:
    """One engine's OSCQuery server and mDNS announcer (either may be absent); closed with the engine."""

    http: OscQueryServer | None = None
    mdns: Announcer | None = None

    def close(self) -> None:
        if self.mdns:
            self.mdns.close()
        if self.http:
            self.http.close()


def start_discovery(engine: Any, port: int | None = None, serve: bool = True, announce: bool = True) -> Discovery:
    """Serve OSCQuery for `engine` (a runner.Engine, socket bound) and announce it; both on the
    engine's own interface. `port`: the TCP port (None: the OSC port's number, 0: any free one).

    A port that is taken is logged and skipped: discovery is a convenience, the engine plays on.
    """
    host, osc_port = engine.sock.address[:2]
    found = Discovery()
    if serve:
        board = ValueBoard()
        board.update(engine.conductor)
        engine.watchers.append(lambda: board.update(engine.conductor))
        tcp = osc_port if port is None else port
        try:
            found.http = OscQueryServer(host, tcp, board, (host, osc_port), engine.sock.allow, engine.sock.rejected)
        except OSError as e:
            log.error("OSCQuery: cannot listen on TCP %s:%d (%s); not served (choose a port with --oscquery-port)",
                      host, tcp, e.strerror or e)
        else:
            found.http.start()
            log.info("OSCQuery on http://%s:%d/ (the OSC namespace as JSON; docs/osc.md)", host, found.http.port)
    if announce:
        services = [(OSC_SERVICE, osc_port)] + ([(OSCJSON_SERVICE, found.http.port)] if found.http else [])
        found.mdns = Announcer(host, services)
        found.mdns.start()
    engine.services.append(found)
    return found
