"""OSCQuery and mDNS of a real engine: HTTP on 127.0.0.1, values that follow OSC sent over UDP, bad
requests refused and counted, the allow-list, and an independent zeroconf browser on loopback alone."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.fakes import EngineProbe, wait_for
from textconductor.engine.oscquery import REJECT_PREFIX, OscQueryServer, ValueBoard
from textconductor.engine.root import Live, Settings, StyleSource, build_conductor, open_bank, start_engine
from textconductor.protocol.address import resolve_allow_list
from textconductor.protocol.commands import INCOMING
from textconductor.protocol.namespace import OSC_SERVICE, OSCJSON_SERVICE, find

STYLES = ("bible", "linux", "austen")  # of the bundled bank


@pytest.fixture(scope="module")
def live():
    """An engine on the bundled bank, in-process, with OSCQuery (any free TCP port) and mDNS on loopback."""
    bank, names = open_bank(StyleSource(styles=STYLES))
    engine = start_engine(build_conductor(bank, names, Settings(rate=30.0)),
                          Live(port=0, oscquery=True, oscquery_port=0, mdns=True))
    engine.sock.start()
    runner = threading.Thread(target=engine.run, daemon=True)
    runner.start()
    discovery = engine.services[0]
    yield engine, discovery
    engine.stop()
    runner.join(10)
    engine.close()


def get(port: int, path: str) -> tuple[int, object]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        body = r.read()
        return r.status, (json.loads(body) if body else None)


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
            if b"\r\n\r\n" in out:
                break
        return out


def test_the_namespace_over_http(live):
    engine, d = live
    status, root = get(d.http.port, "/")
    assert status == 200
    for address in INCOMING:
        node = find(root, address)
        assert node and node["FULL_PATH"] == address and "TYPE" in node, address
    assert sorted(root["CONTENTS"]["style"]["CONTENTS"]) == sorted(STYLES)
    assert find(root, "/tc/weights")["TYPE"] == "fff"
    assert find(root, "/tc/weight")["RANGE"][0] == {"VALS": list(engine.conductor.names)}
    _, info = get(d.http.port, "/?HOST_INFO")
    assert info["OSC_PORT"] == engine.sock.address[1] and info["OSC_IP"] == "127.0.0.1"
    assert info["OSC_TRANSPORT"] == "UDP" and info["EXTENSIONS"]["VALUE"]


def test_values_follow_osc_sent_over_udp(live):
    engine, d = live
    probe = EngineProbe(engine.sock.address[1])
    try:
        probe.send("/tc/temperature", 1.75)
        probe.send("/style/linux", 0.25)
        probe.send("/tc/mix", "product")

        def current() -> tuple:
            return (get(d.http.port, "/tc/temperature?VALUE")[1]["VALUE"],
                    get(d.http.port, "/style/linux?VALUE")[1]["VALUE"], get(d.http.port, "/tc/mix?VALUE")[1]["VALUE"])
        assert wait_for(lambda: current() == ([1.75], [0.25], ["product"]), timeout=10), current()
        _, root = get(d.http.port, "/")
        k = engine.conductor.names.index("linux")
        assert find(root, "/tc/weights")["VALUE"][k] == 0.25
    finally:
        probe.close()


def test_bad_requests_get_an_error_status_and_are_counted(live):
    engine, d = live
    port = d.http.port

    def counted(code: int) -> int:
        return engine.sock.rejected.counts[f"{REJECT_PREFIX}HTTP {code}"]

    before = {c: counted(c) for c in (400, 404, 431, 501)}
    with pytest.raises(urllib.error.HTTPError) as e:
        get(port, "/tc/nowhere")
    assert e.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as e:
        get(port, "/tc/rate?NONSENSE")
    assert e.value.code == 400
    assert get(port, "/tc/prime?VALUE") == (204, None)  # write-only: no content, not an error
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("POST", "/tc/rate", body=b"1")
    assert conn.getresponse().status == 501
    conn.close()
    reply = raw_request(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"a" * 70_000 + b"\r\n\r\n")
    assert reply.startswith(b"HTTP/1.0 431") or reply.startswith(b"HTTP/1.1 431"), reply[:60]
    reply = raw_request(port, b"\x16\x03\x01garbage that is no request\r\n\r\n")
    assert b" 400 " in reply.split(b"\r\n")[0]
    assert [counted(c) - before[c] for c in (400, 404, 431, 501)] == [2, 1, 1, 1]
    assert get(port, "/tc/rate?VALUE")[0] == 200  # and it still answers


def test_a_host_outside_the_allow_list_is_refused_and_counted(live):
    engine, _ = live
    allow = resolve_allow_list("127.0.0.1", ["127.0.0.3"])  # the rule the OSC port uses
    board = ValueBoard()
    server = OscQueryServer("127.0.0.1", 0, board, ("127.0.0.1", 57130), allow)
    server.start()
    try:
        stranger = socket.socket()
        stranger.bind(("127.0.0.2", 0))
        stranger.settimeout(5)
        stranger.connect(("127.0.0.1", server.port))
        stranger.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            assert stranger.recv(100) == b""  # closed unanswered
        except ConnectionResetError:
            pass
        stranger.close()
        assert server.rejected.counts[REJECT_PREFIX + "host not allowed"] == 1
        assert get(server.port, "/?HOST_INFO")[1]["OSC_PORT"] == 57130  # 127.0.0.1 itself is always allowed
    finally:
        server.close()


def test_a_flood_of_connections_is_capped_and_a_silent_client_dropped(monkeypatch):
    from textconductor.engine import oscquery
    monkeypatch.setattr(oscquery._Handler, "timeout", 3.0)  # REQUEST_TIMEOUT_S, shortened for the test
    server = OscQueryServer("127.0.0.1", 0, ValueBoard(), ("127.0.0.1", 57130), resolve_allow_list("127.0.0.1", None))
    server.start()
    idle = []
    try:
        for _ in range(oscquery.MAX_CONNECTIONS):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))  # and say nothing
        one_more = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        assert wait_for(lambda: server.rejected.counts[REJECT_PREFIX + "too many connections"] == 1, timeout=5), \
            (server.rejected.counts, server._slots._value)
        one_more.close()
        for s in idle:
            assert s.recv(100) == b""  # each silent client is dropped after the timeout ...
        assert get(server.port, "/tc/rate?RANGE")[1] == {"RANGE": [{"MIN": 0.0, "MAX": 1000.0}]}  # ... its slot freed
    finally:
        for s in idle:
            s.close()
        server.close()


def test_both_services_are_found_by_a_browser_on_loopback(live):
    from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

    engine, d = live
    assert d.mdns.ips == ["127.0.0.1"]  # announced on the engine's interface alone
    expected = {OSC_SERVICE: engine.sock.address[1], OSCJSON_SERVICE: d.http.port}
    seen: dict[str, ServiceStateChange] = {}

    def on_change(zeroconf, service_type, name, state_change) -> None:
        seen[name] = state_change

    zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)  # an independent client, loopback only
    try:
        browser = ServiceBrowser(zc, list(expected), handlers=[on_change])
        assert d.mdns.ready.wait(15) and len(d.mdns.registered) == 2
        assert wait_for(lambda: all(n in seen for n in d.mdns.registered), timeout=15), seen
        for name in d.mdns.registered:
            service_type = name[name.index("._") + 1:]
            info = zc.get_service_info(service_type, name, timeout=5000)
            assert info is not None and info.port == expected[service_type], name
            assert info.parsed_addresses() == ["127.0.0.1"]
        d.mdns.close()  # goodbye: the browser drops them at once
        assert wait_for(lambda: all(seen[n] == ServiceStateChange.Removed for n in d.mdns.registered), timeout=10)
        browser.cancel()
    finally:
        zc.close()


def test_the_engine_command_serves_oscquery_on_its_own_port_number(engine):
    """`textconductor engine --port P` (the conftest's real process) serves OSCQuery on TCP P by default."""
    _, port = engine
    deadline = time.monotonic() + 10
    while True:
        try:
            _, info = get(port, "/?HOST_INFO")
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    assert info["OSC_PORT"] == port
    _, root = get(port, "/")
    assert sorted(root["CONTENTS"]["style"]["CONTENTS"]) == ["alpha", "beta", "gamma"]
