"""A simulated phone for load and crash tests: a paired device with its cookies, CSRF token and keep-alive connection.

The load driver (tests/day_load.py), the crash test and bench/display_push.py talk to a real `fieldapp
serve` on 127.0.0.1 through it, as a phone's browser does. It pairs with a one-time link, signs in with
a PIN, sends every request with the session's cookies, and sends form posts with the page's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import ssl
import statistics
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

REQUEST_TIMEOUT_SECONDS = 30
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Reply:
    """A response as the phone received it: status, body, Location, the round trip in ms and two headers.

    replayed is True when the server sent the stored outcome of a form post from its idempotency record
    without running the view again (the Idempotent-Replayed header).
    """

    status: int
    text: str
    location: str
    elapsed_ms: float
    server_timing: str = ""
    replayed: bool = False


def tls_context(ca: Path | None) -> ssl.SSLContext | None:
    """Return a client context that trusts only the site's CA, or None for plain HTTP."""
    return ssl.create_default_context(cafile=str(ca)) if ca else None


def pairing_tokens(data_dir: Path, usernames: list[str], admin: str = "admin") -> dict[str, str]:
    """Create one pairing token per device, made by the site admin account `admin`; return username -> token."""
    from fieldapp.db import DATABASE_NAME, connect, write
    from fieldapp.devices import create_pairing_token

    db = connect(Path(data_dir) / DATABASE_NAME)
    try:
        admin_id = db.execute("SELECT id FROM staff WHERE username = ?", [admin]).fetchone()[0]
        moment = dt.datetime.now(dt.UTC)
        with write(db):
            tokens = {name: create_pairing_token(db, f"Máy {name}", admin_id, moment) for name in usernames}
    finally:
        db.conn.close()
    return tokens


def percentile(values: list[float], share: float) -> float:
    """Return the share-th percentile (0.95 for p95) with the inclusive method, or NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


class Phone:
    """One device's browser: cookies, the CSRF token of the last page read, one keep-alive connection."""

    def __init__(self, port: int, context: ssl.SSLContext | None, timeout: float = REQUEST_TIMEOUT_SECONDS):
        self.port = port
        self.context = context
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.reconnects = 0
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.context is None:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout, context=self.context)

    def _send(self, method: str, path: str, body: str | None, headers: dict) -> http.client.HTTPResponse:
        if self._connection is None:
            self._connection = self._connect()
        self._connection.request(method, path, body=body, headers=headers)
        return self._connection.getresponse()

    def request(self, method: str, path: str, form: dict | list | None = None,
                headers: dict | None = None) -> Reply:
        """Send one request and read the whole response; redirects are returned, not followed.

        A kept-alive connection that the server has closed is replaced and the request sent once more, as
        a browser does. Raises OSError or http.client.HTTPException when the server cannot be reached.
        """
        sent_headers = {"Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
                        **(headers or {})}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            response = self._send(method, path, body, sent_headers)
        except TimeoutError:
            self.close()
            raise
        except (http.client.HTTPException, OSError):
            self.close()
            self.reconnects += 1
            started = time.perf_counter()
            try:
                response = self._send(method, path, body, sent_headers)
            except (http.client.HTTPException, OSError):
                self.close()
                raise
        try:
            text = response.read().decode("utf-8", errors="replace")
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        elapsed = (time.perf_counter() - started) * 1000
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.close()
        found = CSRF_PATTERN.search(text)
        if found:
            self.csrf = found.group(1)
        return Reply(response.status, text, response.headers.get("Location", ""), elapsed,
                     response.headers.get("Server-Timing", ""), response.headers.get("Idempotent-Replayed") == "true")

    def pair(self, token: str) -> None:
        """Open the pairing link, which stores the device cookie."""
        reply = self.request("GET", f"/pair/{token}")
        if "fieldapp_device" not in self.cookies:
            raise RuntimeError(f"pairing failed with HTTP {reply.status}")

    def sign_in(self, username: str, pin: str, check_path: str, headers: dict | None = None) -> Reply:
        """Sign in with the PIN and open check_path, whose reply must be 200; return that reply."""
        page = self.request("GET", "/login")
        if not CSRF_PATTERN.search(page.text):
            raise RuntimeError(f"{username}: no sign-in form (HTTP {page.status})")
        login = self.request("POST", "/login", {"username": username, "pin": pin, "csrf_token": self.csrf})
        reply = self.request("GET", check_path, headers=headers)
        if reply.status != 200:
            raise RuntimeError(f"{username} could not open {check_path} (sign-in HTTP {login.status}, "
                               f"page HTTP {reply.status})")
        return reply

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
