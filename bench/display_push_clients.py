"""The devices of bench/display_push.py: station screens and displays that poll or listen to events, and a probe.

Every client runs in the bench's process, with its own cookies and keep-alive connections, as a phone's
browser would. Times are time.monotonic() seconds, which the server's in-flight samples share on Linux.
"""

import http.client
import re
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from display_push_server import HEARTBEAT_SECONDS, RETRY_MS
from phone import Phone

PIN = "2580"
PROBE_SECONDS = 1.0
# A device on SSE also refetches its fragment this often, because the waits in minutes change without a write.
REFRESH_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 10
STREAM_TIMEOUT_SECONDS = HEARTBEAT_SECONDS * 2
_CALL_KEY = re.compile(r'data-call-key="([^"]+)"')
_NUMBER = re.compile(r'<span class="number">(\d+)</span>')


class Recorder:
    """Counts requests, response bytes and errors inside the measurement window, from every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window = (float("inf"), float("inf"))
        self.requests = 0
        self.response_bytes = 0
        self.errors: list[str] = []
        self.streams_open = 0
        # Requests resent on a new connection because the server had closed the kept-alive one.
        self.reconnects = 0
        self.stopping = threading.Event()

    def inside(self, moment: float) -> bool:
        return self.window[0] <= moment <= self.window[1]

    def add(self, moment: float, size: int, request: bool = True) -> None:
        if self.inside(moment):
            with self.lock:
                self.requests += int(request)
                self.response_bytes += size

    def add_reconnect(self, moment: float) -> None:
        if self.inside(moment):
            with self.lock:
                self.reconnects += 1

    def count_stream(self, change: int) -> None:
        with self.lock:
            self.streams_open += change

    def error(self, text: str) -> None:
        moment = time.monotonic()
        if self.inside(moment) and not self.stopping.is_set():
            with self.lock:
                self.errors.append(text)


class Session:
    """One device's cookies; opens keep-alive connections that send them, as a browser does."""

    def __init__(self, port: int, context: ssl.SSLContext | None, recorder: Recorder):
        self.port = port
        self.context = context
        self.recorder = recorder
        self.cookies: dict[str, str] = {}

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.context is None:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.context)

    def headers(self, extra: dict | None = None) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(extra or {})}

    def keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]


def header_size(response: http.client.HTTPResponse) -> int:
    """Return the size of the status line and headers as sent, within a few bytes."""
    return len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + len(response.headers.as_bytes())


class Client:
    """One keep-alive connection of a session, reconnecting once when the server closed it."""

    def __init__(self, session: Session, timeout: float = REQUEST_TIMEOUT_SECONDS):
        self.session = session
        self.timeout = timeout
        self.connection = session.connection(timeout)

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, str, float, float]:
        """Send a request; return status, body, and the monotonic times it was sent and its body received."""
        body = urllib.parse.urlencode(form) if form is not None else None
        extra = dict(headers or {})
        if form is not None:
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        sent = time.monotonic()
        try:
            self.connection.request(method, path, body=body, headers=self.session.headers(extra))
            response = self.connection.getresponse()
        except TimeoutError:
            self.connection.close()
            raise
        except (http.client.HTTPException, OSError):
            # The server closed a kept-alive connection; a browser resends on a new one, and so does this.
            self.connection.close()
            self.session.recorder.add_reconnect(time.monotonic())
            sent = time.monotonic()
            self.connection.request(method, path, body=body, headers=self.session.headers(extra))
            response = self.connection.getresponse()
        data = response.read()
        received = time.monotonic()
        self.session.keep_cookies(response)
        self.session.recorder.add(received, header_size(response) + len(data))
        return response.status, data.decode("utf-8", errors="replace"), sent, received

    def close(self) -> None:
        self.connection.close()


def sign_in(session: Session, username: str, token: str, check_path: str) -> None:
    """Pair the device with its token, sign in with the PIN and check that the device's page opens."""
    phone = Phone(session.port, session.context, REQUEST_TIMEOUT_SECONDS)
    try:
        phone.pair(token)
        phone.sign_in(username, PIN, check_path, headers={"HX-Request": "true"})
    finally:
        phone.close()
    session.cookies.update(phone.cookies)


@dataclass
class Screen:
    """A station screen or a display: what it fetches, what it streams, and what each response showed."""

    name: str
    kind: str                 # "station" or "display"
    fragment_path: str
    stream_path: str
    interval: float
    station_type_id: str | None
    session: Session
    # (time sent, time received, queue numbers in the line or call keys on the board) per response
    snapshots: list[tuple[float, float, frozenset]] = field(default_factory=list)

    def fetch(self, client: Client) -> None:
        try:
            status, text, sent, received = client.request("GET", self.fragment_path, headers={"HX-Request": "true"})
        except (http.client.HTTPException, OSError) as error:
            self.session.recorder.error(f"{self.name}: {type(error).__name__} {error}")
            return
        if status != 200:
            self.session.recorder.error(f"{self.name}: HTTP {status}")
            return
        if self.kind == "station":
            shown = frozenset(_NUMBER.findall(text))
        else:
            # A call key starts with the task id and its call count; more parts may follow.
            shown = frozenset(":".join(key.split(":")[:2]) for key in _CALL_KEY.findall(text))
        self.snapshots.append((sent, received, shown))


def poll(screen: Screen, first_delay: float) -> None:
    """Fetch the fragment at a fixed interval, as htmx's `every Ns` trigger does, skipping slots missed."""
    stopping = screen.session.recorder.stopping
    client = Client(screen.session)
    due = time.monotonic() + first_delay
    while not stopping.wait(max(due - time.monotonic(), 0)):
        screen.fetch(client)
        now = time.monotonic()
        while due <= now:
            due += screen.interval
    client.close()


def listen(screen: Screen, first_delay: float) -> None:
    """Keep the event stream open and fetch the fragment once after each `changed` event, as a browser would."""
    recorder = screen.session.recorder
    if recorder.stopping.wait(first_delay):
        return
    dirty = threading.Event()
    fetcher = threading.Thread(target=_fetch_when_dirty, args=(screen, dirty), daemon=True)
    fetcher.start()
    while not recorder.stopping.is_set():
        try:
            _read_stream(screen, dirty)
        except (http.client.HTTPException, OSError, ValueError) as error:
            recorder.error(f"{screen.name} stream: {type(error).__name__} {error}")
        # EventSource reconnects after the retry delay the server sent.
        recorder.stopping.wait(RETRY_MS / 1000)
    dirty.set()
    fetcher.join(timeout=REQUEST_TIMEOUT_SECONDS)


def _read_stream(screen: Screen, dirty: threading.Event) -> None:
    recorder = screen.session.recorder
    connection = screen.session.connection(STREAM_TIMEOUT_SECONDS)
    try:
        connection.request("GET", screen.stream_path, headers=screen.session.headers({"Accept": "text/event-stream"}))
        response = connection.getresponse()
        recorder.add(time.monotonic(), header_size(response))
        if response.status != 200:
            recorder.error(f"{screen.name} stream: HTTP {response.status}")
            return
        # A new stream may have missed changes, so the device refreshes first.
        dirty.set()
        recorder.count_stream(1)
        try:
            _read_events(response, recorder, dirty)
        finally:
            recorder.count_stream(-1)
    finally:
        connection.close()


def _read_events(response: http.client.HTTPResponse, recorder: Recorder, dirty: threading.Event) -> None:
    event = None
    while not recorder.stopping.is_set():
        line = response.readline()
        if not line:
            raise ConnectionError("stream closed by the server")
        recorder.add(time.monotonic(), len(line), request=False)
        text = line.decode("utf-8").rstrip("\r\n")
        if text.startswith("event:"):
            event = text[6:].strip()
        elif not text:
            if event == "changed":
                dirty.set()
            event = None


def _fetch_when_dirty(screen: Screen, dirty: threading.Event) -> None:
    stopping = screen.session.recorder.stopping
    client = Client(screen.session)
    while not stopping.is_set():
        if dirty.wait(REFRESH_SECONDS) and stopping.is_set():
            break
        dirty.clear()
        screen.fetch(client)
    client.close()


def probe(session: Session, times_ms: list[float]) -> None:
    """GET the check-in page every PROBE_SECONDS and keep the round trips inside the window."""
    recorder = session.recorder
    client = Client(session)
    while not recorder.stopping.wait(PROBE_SECONDS):
        try:
            status, _, sent, received = client.request("GET", "/checkin/")
        except (http.client.HTTPException, OSError) as error:
            recorder.error(f"probe: {type(error).__name__} {error}")
            client.close()
            client = Client(session)
            continue
        if status != 200:
            recorder.error(f"probe: HTTP {status}")
        elif recorder.inside(received):
            times_ms.append((received - sent) * 1000)
    client.close()
