"""A TCP proxy on 127.0.0.1 between a site and the central store, which can drop or alter the traffic on the way.

The proxy relays HTTP/1.1 without pipelining, so the bytes of a connection alternate between one request and
its response. It records each such run of bytes as a span (direction and size), which lets a test measure
a push and then schedule a cut inside the n-th request or response from now: the connection is closed
right after a given number of that span's bytes, with a FIN or, like a dropped link that a router resets,
with an RST. A tamper function sees the chunks going to the central store and may change them.
"""

import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

CHUNK_BYTES = 65536
DIRECTIONS = ("request", "response")


@dataclass
class Span:
    """The bytes one side sent before the other side replied: a request or a response."""

    direction: str
    size: int = 0


@dataclass(frozen=True)
class Cut:
    """A scheduled cut: after `offset` bytes of the request or response numbered `number` (counted from 1)."""

    direction: str
    number: int
    offset: int
    reset: bool


class TcpProxy:
    """Forward connections from 127.0.0.1:port to an upstream port on 127.0.0.1, one thread per connection."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        # Every request and response forwarded, in order, and the cuts made.
        self.spans: list[Span] = []
        self.cuts: list[Cut] = []
        # Called with each chunk sent to the upstream; returns the chunk to send instead.
        self.tamper: Callable[[bytes], bytes] | None = None
        self._numbers = dict.fromkeys(DIRECTIONS, 0)
        self._scheduled: list[Cut] = []
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    def cut(self, direction: str, offset: int, later: int = 1, reset: bool = False) -> Cut:
        """Schedule a cut after `offset` bytes (>= 1) of the `later`-th request or response from now.

        A cut whose span turns out shorter than the offset is never made: check scheduled() afterwards.
        """
        if direction not in DIRECTIONS or offset < 1 or later < 1:
            raise ValueError(f"a cut needs a direction, an offset and a span from 1: {direction} {offset} {later}")
        with self._lock:
            scheduled = Cut(direction, self._numbers[direction] + later, offset, reset)
            self._scheduled.append(scheduled)
        return scheduled

    def scheduled(self) -> list[Cut]:
        """Return the cuts not made yet."""
        with self._lock:
            return list(self._scheduled)

    def forwarded(self, direction: str) -> int:
        """Return the bytes forwarded so far in a direction."""
        with self._lock:
            return sum(span.size for span in self.spans if span.direction == direction)

    def stop(self) -> None:
        """Stop listening and close every open connection."""
        # shutdown() wakes the thread blocked in accept(); close() alone does not on Linux.
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock, reset=True)
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), name="tcp-proxy-relay", daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=10)
        except OSError:
            # The central store is down, so the site gets its connection reset, as if the proxy were not there.
            _close(client, reset=True)
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        try:
            self._pump(client, upstream)
        finally:
            with self._lock:
                self._open.difference_update((client, upstream))

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        current: list[Span | None] = [None]
        reading = 2
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while reading:
                for key, _events in selector.select():
                    source = key.fileobj
                    try:
                        data = source.recv(CHUNK_BYTES)
                    except OSError:
                        data = None
                    if data is None:
                        _close(client, reset=True)
                        _close(upstream, reset=True)
                        return
                    if not data:
                        # One side finished sending: pass its FIN on and keep relaying the other way.
                        selector.unregister(source)
                        reading -= 1
                        _shutdown_write(peer[source])
                        continue
                    direction = "request" if source is client else "response"
                    if direction == "request" and self.tamper is not None:
                        data = self.tamper(data)
                    data, cut = self._count(data, direction, current)
                    try:
                        peer[source].sendall(data)
                    except OSError:
                        _close(client, reset=True)
                        _close(upstream, reset=True)
                        return
                    if cut:
                        _close(client, cut.reset)
                        _close(upstream, cut.reset)
                        return
        _close(client, reset=False)
        _close(upstream, reset=False)

    def _count(self, data: bytes, direction: str, current: list) -> tuple[bytes, Cut | None]:
        """Count a chunk of a connection; return the part to forward and the cut to make after it, if any."""
        with self._lock:
            if current[0] is None or current[0].direction != direction:
                current[0] = Span(direction)
                self.spans.append(current[0])
                self._numbers[direction] += 1
            span = current[0]
            for cut in self._scheduled:
                if (cut.direction, cut.number) == (direction, self._numbers[direction]) \
                        and span.size + len(data) >= cut.offset:
                    self._scheduled.remove(cut)
                    self.cuts.append(cut)
                    data = data[:cut.offset - span.size]
                    span.size = cut.offset
                    return data, cut
            span.size += len(data)
            return data, None


def alter_once(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Return a tamper function that replaces the first `old` found inside one chunk with `new`, once."""
    if len(old) != len(new):
        raise ValueError("the altered bytes must keep the request's Content-Length")
    done = threading.Event()

    def tamper(chunk: bytes) -> bytes:
        if done.is_set() or old not in chunk:
            return chunk
        done.set()
        return chunk.replace(old, new, 1)

    return tamper


def _shutdown_write(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _close(sock: socket.socket, reset: bool) -> None:
    """Close a socket with a FIN, or with an RST when reset (SO_LINGER on with a zero timeout)."""
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass
