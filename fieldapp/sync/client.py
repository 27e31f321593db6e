"""The site's side of the central store's HTTP API: enrol, push the outbox, read status, pull the package, export.

docs/sync.md describes the requests and responses. Connection errors, timeouts and 5xx answers are
retried with exponential backoff and full jitter; every other answer is final. Records are marked
sent only from the acknowledged_through that the central store returns, never from what was sent.
"""

import ipaddress
import logging
import os
import random
import shutil
import ssl
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlite_utils

from ..db import now, write
from ..errors import FieldappError
from . import batches, outbox

log = logging.getLogger(__name__)

KEY_FILE = Path("sync") / "site-key.pem"
CA_FILE = Path("sync") / "central-ca.pem"
EXPORT_FORMAT = "fieldapp-export/1"
LOOPBACK_NAMES = {"localhost"}
# A batch of 2,000 records is about 1 MB; a slow uplink needs well over the default 5 s to send it.
TIMEOUT = httpx.Timeout(120.0, connect=15.0)


@dataclass(frozen=True)
class Retry:
    """How often and how long to retry a request that failed on the way: attempts, and delays in seconds."""

    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    # Called before each retry with the attempt about to start (from 2) and the reason, for a progress line.
    notify: Callable[[int, str], None] | None = None

    def wait(self, attempt: int) -> None:
        """Sleep before retry number attempt (from 0): full jitter up to base_delay * 2**attempt, capped."""
        self.sleep(random.uniform(0, min(self.max_delay, self.base_delay * 2 ** attempt)))


@dataclass(frozen=True)
class Enrolment:
    """The settings a site uses to reach the central store: its id and key, the URL, and the CA to trust."""

    site_id: str
    site_name: str
    url: str
    key: object
    verify: ssl.SSLContext


@dataclass(frozen=True)
class PushResult:
    """The outcome of a push: records acknowledged now and how many were duplicates, batches, the last seq, unsent."""

    sent: int
    duplicates: int
    batches: int
    acknowledged_through: int
    unsent: int


@dataclass(frozen=True)
class ExportResult:
    """The contents of an export file: batches, records, and the first and last sequence number."""

    batches: int
    records: int
    first_seq: int
    last_seq: int


def check_url(url: str) -> str:
    """Return the central store's URL without a trailing slash; plain HTTP only for this machine.

    Raises sync_url_invalid for anything but an http:// or https:// URL with a host, and
    sync_url_insecure for http:// to a host other than 127.0.0.1, ::1 or localhost.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FieldappError("sync_url_invalid", value=url)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise FieldappError("sync_url_insecure", value=url)
    return url.strip().rstrip("/")


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host) in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
    except ValueError:
        return False


def tls_context(ca: str | os.PathLike | None) -> ssl.SSLContext:
    """Return the TLS settings that trust only the CA file given, or the system's CA store without one."""
    if ca is None:
        return ssl.create_default_context()
    path = Path(ca)
    if not path.is_file():
        raise FieldappError("file_not_found", file=str(path))
    try:
        return ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as error:
        raise FieldappError("sync_ca_invalid", file=str(path)) from error


class Central:
    """An HTTP session with the central store that signs its requests and retries failures on the way."""

    def __init__(self, url: str, verify: ssl.SSLContext, retry: Retry, site_id: str | None = None, key=None,
                 transport: httpx.BaseTransport | None = None):
        self.url = url
        self.site_id = site_id
        self.key = key
        self.retry = retry
        self.http = httpx.Client(base_url=url, verify=verify, timeout=TIMEOUT, transport=transport)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.http.close()

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        """Send a body as canonical JSON and return the final status code and JSON response."""
        content = batches.canonical(body)
        headers = {"Content-Type": "application/json"}
        if self.key is not None:
            headers["X-Fieldapp-Site"] = self.site_id
            headers["X-Fieldapp-Signature"] = batches.sign(self.key, content)
        for attempt in range(self.retry.attempts):
            if attempt:
                self.retry.wait(attempt - 1)
            try:
                response = self.http.post(path, content=content, headers=headers)
            except httpx.TransportError as error:
                if _is_certificate_error(error):
                    raise FieldappError("sync_tls_failed", value=self.url) from error
                self._failed(path, attempt, f"{type(error).__name__}: {error}")
                continue
            if response.status_code >= 500:
                self._failed(path, attempt, f"HTTP {response.status_code}")
                continue
            return response.status_code, _json(response)
        raise FieldappError("sync_unreachable", value=self.url, field=self.retry.attempts)

    def _failed(self, path: str, attempt: int, reason: str) -> None:
        log.info("POST %s failed (attempt %s of %s): %s", path, attempt + 1, self.retry.attempts, reason)
        if self.retry.notify and attempt + 1 < self.retry.attempts:
            self.retry.notify(attempt + 2, reason)


def _is_certificate_error(error: BaseException) -> bool:
    """True when a connection failed because the server's certificate was not trusted: retrying cannot help."""
    seen = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _json(response: httpx.Response) -> dict:
    try:
        answer = response.json()
    except ValueError as error:
        raise FieldappError("sync_central_error", value=response.status_code) from error
    if not isinstance(answer, dict):
        raise FieldappError("sync_central_error", value=response.status_code)
    return answer


def _refused(status: int, answer: dict, batch: dict | None = None) -> FieldappError:
    """Return the catalogue error for a final response other than 200."""
    error = str(answer.get("error", ""))
    if status == 401 and batch is not None and error == "signature":
        # The status request of this push, signed with the same key, was accepted. So the key is valid and the
        # batch's bytes changed on the way, which sending again can fix and a new key cannot.
        return FieldappError("sync_batch_rejected", value=f"{batch['first_seq']}–{batch['last_seq']}", field=error)
    if status == 401:
        return FieldappError("sync_key_rejected", value=error)
    if status == 403 and error == "site_revoked":
        return FieldappError("sync_site_revoked")
    if status == 400 and batch is not None:
        return FieldappError("sync_batch_rejected", value=f"{batch['first_seq']}–{batch['last_seq']}", field=error)
    return FieldappError("sync_central_error", value=f"{status} {error}".strip())


# Enrolment.


def enrol(db: sqlite_utils.Database, data_dir: Path, url: str, code: str, ca: str | os.PathLike | None = None,
          retry: Retry = Retry(), transport: httpx.BaseTransport | None = None) -> dict:
    """Enrol this site with a one-time code: make a key pair, register its public half, keep the private one.

    Returns {"site_id", "name"}. A site enrolled before gets a new key and keeps its outbox. The next
    push starts from the acknowledged_through that the central store returns for the new site id.
    """
    url = check_url(url)
    verify = tls_context(ca)
    key = batches.new_private_key()
    with Central(url, verify, retry, transport=transport) as central:
        status, answer = central.post("/api/enrol", {"code": code.strip(), "public_key": batches.public_key_text(key)})
    if status == 403:
        raise FieldappError("sync_enrol_code_invalid")
    if status != 200 or not answer.get("site_id"):
        raise _refused(status, answer)

    write_private(Path(data_dir) / KEY_FILE, batches.private_key_pem(key))
    stored_ca = Path(data_dir) / CA_FILE
    if ca is None:
        stored_ca.unlink(missing_ok=True)
    elif Path(ca).resolve() != stored_ca.resolve():
        shutil.copyfile(ca, stored_ca)
    with write(db):
        outbox.set_state(db, **{outbox.SITE_ID: answer["site_id"], outbox.SITE_NAME: answer.get("name", ""),
                                outbox.CENTRAL_URL: url, outbox.ENROLLED_AT: now()})
    log.info("enrolled as site %s with %s", answer["site_id"], url)
    return {"site_id": answer["site_id"], "name": answer.get("name", "")}


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, replacing any old one in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


def enrolment(db: sqlite_utils.Database, data_dir: Path, ca: str | os.PathLike | None = None) -> Enrolment:
    """Return this site's enrolment, or raise sync_not_enrolled or sync_key_missing."""
    settings = outbox.state(db)
    if outbox.SITE_ID not in settings:
        raise FieldappError("sync_not_enrolled")
    key_path = Path(data_dir) / KEY_FILE
    try:
        key = batches.load_private_key(key_path.read_bytes())
    except (OSError, ValueError) as error:
        raise FieldappError("sync_key_missing", file=str(key_path)) from error
    stored_ca = Path(data_dir) / CA_FILE
    if ca is None and stored_ca.is_file():
        ca = stored_ca
    verify = tls_context(ca)
    return Enrolment(settings[outbox.SITE_ID], settings.get(outbox.SITE_NAME, ""), settings[outbox.CENTRAL_URL],
                     key, verify)


def connect(site: Enrolment, retry: Retry = Retry(), transport: httpx.BaseTransport | None = None) -> Central:
    """Return a signing session with the central store for an enrolled site."""
    return Central(site.url, site.verify, retry, site.site_id, site.key, transport)


# Status and push.


def central_acknowledged(db: sqlite_utils.Database, central: Central) -> int:
    """Request the central store's acknowledged_through for this site, mark the outbox to match, and return it."""
    status, answer = central.post("/api/status", {"site_id": central.site_id, "at": now()})
    if status != 200 or not isinstance(answer.get("acknowledged_through"), int):
        raise _refused(status, answer)
    acknowledged = answer["acknowledged_through"]
    if acknowledged > outbox.last_seq(db):
        raise FieldappError("sync_central_ahead", value=acknowledged, field=outbox.last_seq(db))
    with write(db):
        outbox.mark_sent(db, acknowledged)
    return acknowledged


def push(db: sqlite_utils.Database, central: Central, batch_size: int = 2000,
         progress: Callable[[dict, int], None] | None = None) -> PushResult:
    """Send every record the central store does not hold yet, in batches, and mark them sent as acknowledged.

    Starts from the central store's acknowledged_through, so a push cut off anywhere resumes where
    the central store stopped. progress(batch, acknowledged_through) is called after each batch.
    """
    with write(db):
        outbox.record_removals(db)
    acknowledged = central_acknowledged(db, central)
    sent = duplicates = sent_batches = 0
    while records := outbox.pending(db, acknowledged, batch_size):
        if records[0]["seq"] != acknowledged + 1:
            raise FieldappError("sync_records_missing", value=acknowledged + 1)
        batch = batches.make_batch(central.site_id, records)
        status, answer = central.post("/api/batches", batch)
        if status == 409 and answer.get("error") == "sequence_gap":
            acknowledged = _after_gap(db, answer, acknowledged)
            continue
        if status != 200 or not isinstance(answer.get("acknowledged_through"), int):
            raise _refused(status, answer, batch)

        if answer["acknowledged_through"] <= acknowledged:
            # An answer that acknowledges nothing new would make this loop send the same batch forever.
            raise FieldappError("sync_central_error", value=f"200 acknowledged_through={answer['acknowledged_through']}")
        acknowledged = answer["acknowledged_through"]
        with write(db):
            outbox.mark_sent(db, acknowledged)
        sent += sum(1 for record in records if record["seq"] <= acknowledged)
        duplicates += sum(1 for entry in answer.get("records", []) if entry.get("status") == "duplicate")
        sent_batches += 1
        log.info("site %s batch %s-%s acknowledged through %s", central.site_id, batch["first_seq"],
                 batch["last_seq"], acknowledged)
        if progress:
            progress(batch, acknowledged)
    return PushResult(sent, duplicates, sent_batches, acknowledged, outbox.counts(db).unsent)


def _after_gap(db: sqlite_utils.Database, answer: dict, acknowledged: int) -> int:
    """Return the new starting point after a 409 sequence_gap answer, and mark the outbox to match."""
    expected = answer.get("expected_seq")
    if not isinstance(expected, int) or expected - 1 == acknowledged or not 0 < expected <= outbox.last_seq(db) + 1:
        raise FieldappError("sync_central_error", value=f"409 expected_seq={expected}")
    log.info("central store expects seq %s, not %s; sending again from there", expected, acknowledged + 1)
    with write(db):
        outbox.mark_sent(db, expected - 1)
    return expected - 1


def pull(central: Central) -> dict:
    """Return this site's round package from the central store, or raise sync_no_package."""
    status, answer = central.post("/api/package", {"site_id": central.site_id, "at": now()})
    if status == 404:
        raise FieldappError("sync_no_package")
    if status != 200:
        raise _refused(status, answer)
    return answer


# Export to a file.


def export(db: sqlite_utils.Database, site: Enrolment, out: Path, batch_size: int = 2000) -> ExportResult:
    """Write every unsent record, in batches, to one file signed with the site's key; mark nothing sent.

    The records start after the last acknowledged_through this site heard, so a file made after a
    partial push carries only the rest. When every record is acknowledged, no file is written and
    the result counts 0 batches.
    """
    with write(db):
        outbox.record_removals(db)
    after = outbox.acknowledged_through(db)
    exported = []
    while records := outbox.pending(db, after, batch_size):
        exported.append(batches.make_batch(site.site_id, records))
        after = records[-1]["seq"]
    if not exported:
        return ExportResult(0, 0, 0, 0)

    document = {"format": EXPORT_FORMAT, "site_id": site.site_id, "batches": exported}
    document["signature"] = batches.sign(site.key, batches.canonical(document))
    try:
        write_private(Path(out), batches.canonical(document))
    except OSError as error:
        raise FieldappError("sync_export_failed", file=str(out), value=error.strerror or str(error)) from error
    records_count = sum(len(batch["records"]) for batch in exported)
    log.info("site %s exported records %s-%s", site.site_id, exported[0]["first_seq"], exported[-1]["last_seq"])
    return ExportResult(len(exported), records_count, exported[0]["first_seq"], exported[-1]["last_seq"])
