"""The central store's HTTP API for sites (docs/sync.md): enrol, status, batches, round package.

Requests are signed JSON, not forms, so the blueprint is exempt from CSRF and from staff sign-in:
a site proves who it is with the Ed25519 signature in X-Fieldapp-Signature.
"""

import json
import logging

import orjson
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from . import receive
from .store import StoreError

bp = Blueprint("central_api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)

# A batch of 5,000 records: observations take about 600 bytes of canonical JSON, and a conclusion with
# long findings and advice up to about 5 kB, so 32 MB leaves room for a batch of long conclusions.
BODY_MAX_BYTES = 32 * 1024 * 1024
SITE_HEADER = "X-Fieldapp-Site"
SIGNATURE_HEADER = "X-Fieldapp-Signature"
# Rejected requests are logged with the site id and reason they carried, cut to this length.
LOG_TEXT_MAX = 200


def json_response(value: object, status: int = 200) -> Response:
    # orjson, because a batch's response lists a status for each of its records.
    return Response(orjson.dumps(value, option=orjson.OPT_SORT_KEYS), status=status, mimetype="application/json")


def engine():
    from . import central_engine

    return central_engine(current_app)


def _for_log(text: str) -> str:
    """Return text a request sent, cut to LOG_TEXT_MAX characters with control characters as "?"."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:LOG_TEXT_MAX])


@bp.errorhandler(StoreError)
def store_error(error: StoreError):
    reason = " ".join(part for part in (error.code, error.detail, json.dumps(error.extra) if error.extra else "") if part)
    log.warning("%s from site %s rejected: %s", request.path, _for_log(request.headers.get(SITE_HEADER, "-")),
                _for_log(reason))
    return json_response({"error": error.code, **error.extra}, error.status)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    log.warning("%s from site %s rejected: body over %d bytes", request.path,
                _for_log(request.headers.get(SITE_HEADER, "-")), BODY_MAX_BYTES)
    return json_response({"error": "batch_too_large", "max_bytes": BODY_MAX_BYTES}, 413)


def _body() -> bytes:
    """Return the request body, or raise RequestEntityTooLarge beyond BODY_MAX_BYTES.

    The stream is read here rather than limited with request.max_content_length, because an earlier
    before_request handler (idempotency's) may already have opened it under the app's larger limit.
    """
    if request.content_length is not None and request.content_length > BODY_MAX_BYTES:
        raise RequestEntityTooLarge()
    body = request.stream.read(BODY_MAX_BYTES + 1)
    if len(body) > BODY_MAX_BYTES:
        raise RequestEntityTooLarge()
    return body


def _signed() -> tuple[str | None, bytes, str | None]:
    return request.headers.get(SITE_HEADER), _body(), request.headers.get(SIGNATURE_HEADER)


@bp.post("/enrol")
def enrol():
    return json_response(receive.enrol(engine(), _body()))


@bp.post("/status")
def status():
    return json_response(receive.status(engine(), *_signed()))


@bp.post("/batches")
def batches():
    return json_response(receive.receive_batch(engine(), *_signed()))


@bp.post("/package")
def round_package():
    body = receive.round_package(engine(), *_signed())
    return Response(body, mimetype="application/json")


def init_app(app, csrf) -> None:
    """Register the API, exempt from CSRF (csrf: the app's CSRFProtect) and from the staff sign-in check."""
    from .. import auth

    csrf.exempt(bp)
    auth._OPEN_ENDPOINTS.update(f"{bp.name}.{view}" for view in ("enrol", "status", "batches", "round_package"))
    app.register_blueprint(bp)
