"""The one receive loop for a UDP socket served on a thread: the bridge, the test engine, the MIDI bench.

UDP on Linux reports an earlier send to a closed port as an error on the *next* receive
(ConnectionRefusedError, an OSError): that is not the end of the socket, so the loop goes on. It
ends when `stop` is set or the socket has been closed (which is how a blocked receive is woken).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from textconductor.protocol.wire import MAX_PACKET


def serve(sock: socket.socket, stop: threading.Event, handle: Callable[[bytes, tuple[str, int]], None],
          size: int = MAX_PACKET) -> None:
    """Receive datagrams until stopped, handing each to `handle(data, sender)`.

    The socket needs a timeout (e.g. 0.2 s) so that `stop` is seen without a datagram.
    """
    while not stop.is_set():
        try:
            data, sender = sock.recvfrom(size)
        except TimeoutError:
            continue
        except OSError:
            if stop.is_set() or sock.fileno() == -1:
                return
            continue
        handle(data, sender)
