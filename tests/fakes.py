"""The one shared set of test fakes, all built on `textconductor.protocol`.

* `free_port()`: a UDP port on loopback that was free a moment ago;
* `FakeEngine`: the engine's side of the wire in-process: a real UDP socket that validates every
  datagram with the engine's own `parse_packet`, records commands and rejections, and answers
  `/tc/ping` and `/tc/subscribe` with real `/tc/hello` and `/tc/params` messages;
* `EngineProbe`: a second client of a real engine process (sends commands, reads what it publishes);
* `subscriber_socket()` and `next_tick()`: a bare subscriber for an in-process engine, which must
  know the subscriber's address before it has a port for a probe to send to;
* `RecordingSink`: a ControlSink that remembers every call;
* `FakeClock`: a clock moved by hand, for timing logic tested without sleeping;
* `fake_qt_plugin()`: a copy of one of PySide6's platform plugins that needs a library no machine has,
  for the Qt library check and for a window that dies at start (no root, no compiler needed).

Why one set: each test folder once grew its own copies, which drifted (one fake answered pings,
another subscriptions, one walked nested bundles, another did not). Decoding goes through the
protocol's one walker, so a fake can never accept what the real receivers would reject.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from textconductor import protocol
from textconductor.protocol.charset import CHARS
from textconductor.protocol.udp import serve
from textconductor.tools.harness import free_udp_port

NAMES = ["bible", "linux", "austen"]


free_port = free_udp_port  # the tests' name for it: a UDP port on 127.0.0.1 free when asked


def subscriber_socket(timeout: float = 5.0) -> socket.socket:
    """A UDP socket on loopback to name as an engine's subscriber; `recv` gives up after `timeout` s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(timeout)
    return sock


def next_tick(sock: socket.socket) -> protocol.Tick:
    """The next tick to arrive on `sock`, skipping every other message.

    Walked with the protocol's `unpack`, like every receiver, so a tick inside a bundle counts too
    and damage fails the test instead of being read half-way. The socket's timeout bounds the wait.
    """
    while True:
        for m in protocol.unpack(sock.recv(protocol.MAX_PACKET)):
            assert isinstance(m, protocol.Message), f"the engine sent something undecodable: {m}"
            if m.address == protocol.OUT_TICK:
                return protocol.Tick.decode(m.args)


class FakeEngine:
    """The engine's side of the wire: validates, records, answers ping and subscribe.

    `threaded`: a thread serves the socket (for sinks with their own threads); otherwise call
    `poll()` (for tests on the Qt event loop, which must not race a second thread). The ping
    answer is one bundle of hello and params, without `/tc/status`: a status already in flight
    would overwrite the pause state a test has just set. A subscriber gets hello, params and
    status, each its own datagram, and then whatever `publish` sends.
    """

    def __init__(self, names: Sequence[str] = NAMES, enabled: Sequence[int] | None = None,
                 weights: Sequence[float] | None = None, port: int = 0, threaded: bool = True,
                 history: str = "") -> None:
        self.names = list(names)
        self.enabled = np.array(enabled if enabled is not None else [1] * len(self.names), dtype=bool)
        self.start_weights = list(weights) if weights is not None else [0.0] * len(self.names)
        self.history = history
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.port: int = self.sock.getsockname()[1]
        self.commands: list[protocol.Command] = []
        self.rejected: list[protocol.Rejected] = []
        self.packets = 0
        self.subscriber: tuple[str, int] | None = None
        self.tick = 0
        self.marks: dict[tuple[int, int], str] = {}  # (start, end) -> kind, as `mark` published them
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if threaded:
            self.sock.settimeout(0.1)
            self._thread = threading.Thread(target=self._serve, name="fake-engine", daemon=True)
            self._thread.start()
        else:
            self.sock.setblocking(False)

    # -- receiving -------------------------------------------------------------------------------
    def _serve(self) -> None:
        serve(self.sock, self._stop, self._handle)

    def poll(self) -> list[protocol.Command]:
        """Handle every datagram waiting (unthreaded use); the commands among them."""
        before = len(self.commands)
        while True:
            try:
                data, sender = self.sock.recvfrom(protocol.MAX_PACKET)
            except (BlockingIOError, TimeoutError):
                break
            self._handle(data, sender)
        return self.commands[before:]

    def _handle(self, data: bytes, sender: tuple[str, int]) -> None:
        with self._cond:
            self.packets += 1
            for item in protocol.parse_packet(data, sender):
                if isinstance(item, protocol.Rejected):
                    if protocol.is_error(item):
                        self.rejected.append(item)
                elif item.name == "ping":
                    self.sock.sendto(protocol.bundle(self.hello(), protocol.Params().encode()), sender)
                elif item.name == "subscribe":
                    self.commands.append(item)
                    self.subscriber = (item.args[0] or sender[0], item.args[1])
                    for data_out in (self.hello(), protocol.Params().encode(), protocol.Status().encode()):
                        self.sock.sendto(data_out, self.subscriber)
                else:
                    self.commands.append(item)
            self._cond.notify_all()

    def wait_commands(self, n: int, timeout: float = 10.0) -> list[protocol.Command]:
        """The commands so far, once there are at least `n` (or the timeout passed)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.commands) >= n, timeout)
            return list(self.commands)

    def take(self, n: int, timeout: float = 10.0) -> list[protocol.Command]:
        """Wait for `n` commands, return them all and forget them."""
        got = self.wait_commands(n, timeout)
        with self._cond:
            self.commands.clear()
        return got

    # -- publishing ------------------------------------------------------------------------------
    def hello(self, weights: Sequence[float] | None = None) -> bytes:
        w = np.asarray(weights if weights is not None else self.start_weights, np.float32)
        assert len(w) == len(self.names)
        return protocol.Hello(self.names, self.enabled, w, self.history).encode()

    def publish(self, data: bytes) -> None:
        """Send to the subscriber, as the engine publishes."""
        assert self.subscriber is not None, "nobody has subscribed"
        self.sock.sendto(data, self.subscriber)

    def mark(self, kind: str, start: int, end: int) -> None:
        """Publish `/tc/marked` as the engine does after `/tc/keep` or `/tc/reject` (a range marked
        again changes its kind and counts once)."""
        from textconductor.protocol.messages import Marked
        self.marks[(start, end)] = kind
        kinds = list(self.marks.values())
        self.publish(Marked(kind, start, end, kinds.count("keep"), kinds.count("reject")).encode())

    def make_tick(self, char: str, winner: int, rng: np.random.Generator) -> protocol.Tick:
        """A plausible tick: every style active, `winner` with most of the attribution."""
        n, v = len(self.names), len(CHARS)
        dists = rng.dirichlet(np.full(v, 0.1), size=n).astype(np.float32)
        attr = np.full(n, 0.1 / max(n - 1, 1), np.float32)
        attr[winner] = 0.9
        self.tick += 1
        return protocol.Tick(self.tick, char, attr, dists.mean(0).astype(np.float32), np.arange(n, dtype=np.int32),
                             dists, np.full(n, 1 / n, np.float32))

    def make_guarded(self, kind: str = "loop") -> protocol.Guarded:
        """A guard acting on the character of the next `make_tick` (the engine sends it before that tick)."""
        return protocol.Guarded(self.tick + 1, kind)

    def make_verbatim(self, start: int, end: int, style: str, offset: int = 0, line: int = 1):
        """/tc/verbatim as the engine sends it: ticks start..end (inclusive, as `make_tick` numbers them)
        occur word for word in `style`'s corpus at `offset`, on `line`."""
        from textconductor.protocol.messages import Verbatim
        return Verbatim(start, end, style, offset, line)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self.sock.close()


class EngineProbe:
    """A second client of a real engine: sends commands and reads what the engine publishes."""

    def __init__(self, engine_port: int, host: str = "127.0.0.1") -> None:
        self.engine = (host, engine_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]

    def send(self, address: str, *args: object) -> None:
        self.sock.sendto(protocol.message(address, *args), self.engine)

    def raw(self, data: bytes) -> None:
        self.sock.sendto(data, self.engine)

    def wait_until_up(self, proc=None, timeout: float = 60.0, subscribe: bool = True) -> None:
        """Ask an engine that is still starting (a few seconds) until its hello comes: with `subscribe`
        by subscribing this probe, else by /tc/ping. `proc` (a Popen with a text stderr pipe, or no
        pipe): fail at once with its stderr if the process has died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else f"engine exited {proc.returncode}"
            if subscribe:
                self.send("/tc/subscribe", self.port)
            else:
                self.send("/tc/ping")
            if any(a == protocol.OUT_HELLO for a, _ in self.messages(0.3)):
                return
        raise AssertionError(f"the engine did not answer within {timeout:g} s")

    def messages(self, timeout: float = 0.5, at_most: float | None = None) -> Iterator[tuple[str, tuple]]:
        """(address, args) until nothing arrives for `timeout` s, or `at_most` s have passed (a
        steady stream of ticks may never leave a gap)."""
        self.sock.settimeout(timeout)
        end = time.monotonic() + at_most if at_most is not None else None
        while end is None or time.monotonic() < end:
            try:
                data = self.sock.recv(protocol.MAX_PACKET)
            except TimeoutError:
                return
            for m in protocol.unpack(data):
                assert isinstance(m, protocol.Message), f"the engine sent something undecodable: {m}"
                yield m.address, m.args

    def wait_for(self, address: str, predicate: Callable[[tuple], bool] = lambda p: True,
                 timeout: float = 10.0) -> tuple:
        """The args of the first `address` message for which `predicate(args)` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for addr, args in self.messages(0.2):
                if addr == address and predicate(args):
                    return args
                if time.monotonic() > deadline:
                    break
        raise AssertionError(f"no {address} matching within {timeout}s")

    def state(self, timeout: float = 0.3) -> tuple[protocol.Hello, protocol.Params] | None:
        """Ping and read the answer: the engine's hello and params, or None if none came in time."""
        self.send("/tc/ping")
        hello = params = None
        for address, args in self.messages(timeout, at_most=timeout):
            if address == protocol.OUT_HELLO:
                hello = protocol.Hello.decode(args)
            elif address == protocol.OUT_PARAMS:
                params = protocol.Params.decode(args)
            if hello and params:
                return hello, params
        return None

    def wait_state(self, predicate: Callable[[protocol.Hello, protocol.Params], bool],
                   timeout: float = 20.0) -> tuple[protocol.Hello, protocol.Params]:
        """Ping until the state satisfies `predicate` (the engine applies commands between ticks)."""
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            last = self.state()
            if last is not None and predicate(*last):
                return last
            time.sleep(0.05)
        raise AssertionError(f"engine never reached the state; last {last}")

    def wait_hello(self, predicate: Callable[[protocol.Hello], bool] = lambda h: True,
                   timeout: float = 15.0) -> protocol.Hello:
        """The engine's hello, once it satisfies `predicate` (what the engine last received: raw
        weights, enabled styles, the text's tail)."""
        return self.wait_state(lambda hello, _params: predicate(hello), timeout)[0]

    def wait_params(self, predicate: Callable[[protocol.Params], bool], timeout: float = 15.0) -> protocol.Params:
        """The engine's params (temperature, mix, rate, ...), once they satisfy `predicate`."""
        return self.wait_state(lambda _hello, params: predicate(params), timeout)[1]

    def close(self) -> None:
        self.sock.close()


class RecordingSink:
    """A real ControlSink that remembers every call, for asserting what a controller did.

    `fail`: every call raises after recording (a sink whose engine has gone), to test that a
    controller survives it.
    """

    def __init__(self, styles: list[str] | None = None, fail: bool = False) -> None:
        self.styles = list(styles if styles is not None else NAMES)
        self.fail = fail
        self.calls: list[tuple] = []
        self.weights: dict[str, float] = {}
        self.puck: tuple[float, float] | None = None
        self.pucks: list[tuple[float, float]] = []
        self.controls: list[str] = []
        self.changed = threading.Event()
        self.lock = threading.Lock()

    def _recorded(self) -> None:
        self.changed.set()
        if self.fail:
            raise RuntimeError("engine gone")

    def set_weights(self, weights: Mapping[str, float]) -> None:
        with self.lock:
            self.calls.append(("weights", dict(weights)))
            self.weights.update(weights)
        self._recorded()

    def set_puck(self, x: float, y: float) -> None:
        with self.lock:
            self.calls.append(("puck", x, y))
            self.puck = (x, y)
            self.pucks.append((x, y))
        self._recorded()

    def control(self, name: str, value: float | str | None = None) -> None:
        with self.lock:
            self.calls.append(("control", name, value))
            self.controls.append(name)
        self._recorded()

    def prime(self, text: str) -> None:  # beyond ControlSink: what a score also plays (ScoreSink)
        with self.lock:
            self.calls.append(("prime", text))
        self._recorded()

    def guard(self, on: bool | None = None, strength: float | None = None) -> None:
        with self.lock:
            self.calls.append(("guard", on, strength))
        self._recorded()

    def enabled_styles(self) -> list[str]:
        return list(self.styles)

    def take(self) -> list[tuple]:
        """The calls since the last take, oldest first."""
        with self.lock:
            out, self.calls = self.calls, []
        self.changed.clear()
        return out


class FakeClock:
    """A clock moved by hand (`clock.t += 1.5`): idle times and rate limits pass when the test says
    so, however loaded the machine. Pass it wherever code takes `clock: Callable[[], float]`."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


MISSING_SONAME = "libtcmissing.so.0"


def fake_qt_plugin(folder: Path, platform: str = "offscreen", victim: str = "libxkbcommon.so.0",
                   missing: str = MISSING_SONAME) -> Path:
    """A plugins folder (`folder/Qt/plugins`, for QT_PLUGIN_PATH) whose `platform` plugin is PySide6's own,
    except that its dependency `victim` is renamed to `missing`, which no machine has.

    The rename rewrites the plugin's DT_NEEDED string in place (same length, so the ELF stays valid);
    `Qt/lib` links to PySide6's libraries, so the plugin's RUNPATH ($ORIGIN/../../lib) finds Qt itself
    and the one library ldd - and Qt, which aborts the process - cannot find is `missing`."""
    from textconductor.tools.qt_libs import pyside_dir
    pyside = pyside_dir()
    assert pyside is not None, "PySide6 is not installed"
    assert len(missing) == len(victim)
    src = pyside / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
    data = src.read_bytes()
    old, new = victim.encode() + b"\0", missing.encode() + b"\0"
    assert data.count(old) == 1, f"{src.name} does not need {victim} exactly once"
    plugins = folder / "Qt" / "plugins"
    (plugins / "platforms").mkdir(parents=True, exist_ok=True)
    (plugins / "platforms" / src.name).write_bytes(data.replace(old, new))
    (folder / "Qt" / "lib").symlink_to(pyside / "Qt" / "lib")
    return plugins


def wait_for(pred: Callable[[], object], timeout: float = 10.0, step: float = 0.01) -> bool:
    """Poll `pred` until it holds or `timeout` seconds pass; its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
