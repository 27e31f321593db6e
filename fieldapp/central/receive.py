"""Requests from sites: check which site signed them, then apply batches, report status, hand out packages.

The HTTP API (api.py) and `fieldapp central import` both come through here, so a batch is applied by
the same rules whichever way it arrives.
"""

import collections
import json
import logging
import time

import orjson
from sqlalchemy.engine import Connection, Engine

from ..errors import FieldappError
from ..sync.batches import BatchError, canonical, verify
from . import sites
from .store import StoreError, apply_batch, write

log = logging.getLogger(__name__)

EXPORT_FORMAT = "fieldapp-export/1"
# Export-file problems that authenticate() reports, as catalogue codes for the command line.
IMPORT_REJECTIONS = {"unknown_site": "central_import_site_unknown", "site_revoked": "central_import_site_revoked",
                     "signature": "central_import_signature"}


def authenticate(connection: Connection, site_id: object, body: bytes, signature: object) -> dict:
    """Return the site whose key signed body; raise StoreError unknown_site, site_revoked or signature."""
    site = sites.site_by_id(connection, site_id) if isinstance(site_id, str) else None
    if site is None or not site["public_key"]:
        raise StoreError("unknown_site", 401)
    if site["revoked_at"]:
        raise StoreError("site_revoked", 403)
    if not isinstance(signature, str):
        raise StoreError("signature", 401)
    try:
        verify(site["public_key"], body, signature)
    except BatchError as error:
        raise StoreError("signature", 401) from error
    return site


def parse_json(body: bytes) -> object:
    # orjson parses a batch twice as fast as the json module, and rejects what PostgreSQL could not store
    # (lone surrogates, invalid UTF-8).
    try:
        return orjson.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise StoreError("batch_format", 400) from error


def enrol(engine: Engine, body: bytes) -> dict:
    """Apply POST /api/enrol: spend the code on the public key; return {"site_id", "name"}."""
    request = parse_json(body)
    if not isinstance(request, dict) or not isinstance(request.get("code"), str):
        raise StoreError("enrol_code_invalid", 403)
    with write(engine) as connection:
        site = sites.enrol(connection, request["code"], request.get("public_key"))
    log.info("site %s enrolled", site["id"])
    return {"site_id": site["id"], "name": site["name"]}


def _signed_request(engine: Engine, site_id: str | None, body: bytes, signature: str | None) -> dict:
    """Authenticate a status or package request, whose body names the same site; return the site."""
    with engine.connect() as connection:
        site = authenticate(connection, site_id, body, signature)
    request = parse_json(body)
    if not isinstance(request, dict) or request.get("site_id") != site["id"]:
        raise StoreError("batch_format", 400)
    return site


def status(engine: Engine, site_id: str | None, body: bytes, signature: str | None) -> dict:
    """Apply POST /api/status: return the highest sequence number applied for the site."""
    site = _signed_request(engine, site_id, body, signature)
    return {"acknowledged_through": site["acknowledged_through"]}


def round_package(engine: Engine, site_id: str | None, body: bytes, signature: str | None) -> str:
    """Apply POST /api/package: return the site's round package as put, or raise StoreError("no_package", 404)."""
    site = _signed_request(engine, site_id, body, signature)
    with engine.connect() as connection:
        found = sites.package_for(connection, site["id"])
    if found is None:
        raise StoreError("no_package", 404)
    log.info("round package sent to site %s", site["id"])
    return found


def receive_batch(engine: Engine, site_id: str | None, body: bytes, signature: str | None) -> dict:
    """Apply POST /api/batches: authenticate, apply in one transaction, log one line; return the response body."""
    started = time.perf_counter()
    try:
        # One connection for the signature check and the batch: each checkout of a pooled connection
        # costs a ping, and a site day is 36 batches.
        with write(engine) as connection:
            site = authenticate(connection, site_id, body, signature)
            batch = parse_json(body)
            answer = apply_batch(connection, site, batch)
    except BatchError as error:
        raise StoreError(error.code, 400, detail=error.detail) from error
    _log_applied(site["id"], batch, answer, started)
    return answer


def _log_applied(site_id: str, batch: dict, answer: dict, started: float) -> None:
    counts = collections.Counter(item["status"] for item in answer["records"])
    log.info("batch from site %s seq %s-%s: %d stored, %d merged, %d duplicate; acknowledged through %s; %.0f ms",
             site_id, batch["first_seq"], batch["last_seq"], counts["stored"], counts["merged"], counts["duplicate"],
             answer["acknowledged_through"], (time.perf_counter() - started) * 1000)


def import_export(engine: Engine, data: bytes) -> list[dict]:
    """Apply an export file (docs/sync.md) batch by batch; return each batch's result with its range.

    Each batch is applied in its own transaction, so after a failure the batches before it stay applied
    and importing the file again applies only the rest. Raises FieldappError for the command line.
    """
    document = _read_export(data)
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    with engine.connect() as connection:
        try:
            site = authenticate(connection, document.get("site_id"), canonical(unsigned), document.get("signature"))
        except StoreError as error:
            raise FieldappError(IMPORT_REJECTIONS[error.code], value=str(document.get("site_id"))) from error

    answers = []
    for number, batch in enumerate(document["batches"], start=1):
        started = time.perf_counter()
        if not isinstance(batch, dict) or batch.get("site_id") != site["id"]:
            raise FieldappError("central_import_batch_invalid", value=number, field="batch_format")
        try:
            with write(engine) as connection:
                answer = apply_batch(connection, site, batch)
        except BatchError as error:
            raise FieldappError("central_import_batch_invalid", value=number, field=error.code) from error
        except StoreError as error:
            if error.code == "sequence_gap":
                raise FieldappError("central_import_sequence_gap", value=batch.get("first_seq"),
                                    field=error.extra["expected_seq"]) from error
            raise FieldappError(IMPORT_REJECTIONS.get(error.code, "central_import_batch_invalid"),
                                value=site["id"], field=error.code) from error
        _log_applied(site["id"], batch, answer, started)
        answers.append({"first_seq": batch["first_seq"], "last_seq": batch["last_seq"], **answer})
    return answers


def _read_export(data: bytes) -> dict:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise FieldappError("central_import_unreadable") from error
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise FieldappError("central_import_unreadable")
    if not isinstance(document.get("batches"), list):
        raise FieldappError("central_import_unreadable")
    return document
