"""Upload a list, preview how it will be read, correct the column mapping, then import it."""

import datetime as dt
import json
import secrets
import time
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, url_for

from . import auth
from .columns import FIELDS
from .db import get_db, now, write
from .errors import FieldappError, hint, render as render_message
from .groups import GROUPS
from .importer import PREVIEW_ROWS, import_files, parse_file
from .roster import remove_file, roster_date
from .web import render

bp = Blueprint("imports", __name__, url_prefix="/imports")
# A previewed upload waits this long for its import before it is deleted.
UPLOAD_LIFETIME_SECONDS = 24 * 3600


def _uploads() -> Path:
    folder = Path(current_app.config["DATA_DIR"]) / "uploads"
    folder.mkdir(exist_ok=True)
    return folder


def _upload_path(token: str) -> Path:
    if not token or not token.isalnum():
        abort(400)
    path = _uploads() / token
    if not path.exists():
        abort(404)
    return path


def remembered_overrides(db) -> dict[str, dict[int, str | None]]:
    """Return the officer's saved column corrections keyed by header-layout signature."""
    rows = db.execute("SELECT signature, mapping FROM column_mapping").fetchall()
    return {signature: {int(k): v for k, v in json.loads(mapping).items()} for signature, mapping in rows}


def _imported_files() -> list[dict]:
    rows = get_db().execute(
        "SELECT id, name, kind, list_group, imported_at, report FROM source_file ORDER BY imported_at DESC"
    ).fetchall()
    return [{"id": f[0], "name": f[1], "kind": f[2], "group": f[3], "at": f[4], "report": json.loads(f[5])} for f in rows]


def _discard(token: str) -> None:
    """Delete an upload and its note, because a list contains personal data and must not linger."""
    (_uploads() / token).unlink(missing_ok=True)
    (_uploads() / f"{token}.json").unlink(missing_ok=True)


def _discard_stale() -> None:
    """Delete uploads previewed but never imported, once they are a day old."""
    cutoff = time.time() - UPLOAD_LIFETIME_SECONDS
    for path in _uploads().iterdir():
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@bp.get("/")
@auth.require_role("coordinator")
def index():
    return render("imports/index.html", files=_imported_files(), groups=GROUPS)


@bp.post("/preview")
@auth.require_role("coordinator")
def preview():
    upload = request.files.get("file")
    token = request.form.get("token", "")
    if upload and upload.filename:
        _discard_stale()
        token = secrets.token_hex(16)
        upload.save(_uploads() / token)
        (_uploads() / token).chmod(0o600)
        name = Path(upload.filename).name
        (_uploads() / f"{token}.json").write_text(json.dumps({"name": name}), encoding="utf-8")
    path = _upload_path(token)
    name = json.loads((_uploads() / f"{token}.json").read_text(encoding="utf-8"))["name"]

    kind = "population" if request.form.get("kind") == "population" else "list"
    group = request.form.get("group", type=int)
    db = get_db()
    overrides = remembered_overrides(db)
    overrides.update(_form_overrides())
    try:
        parsed = parse_file(path, dt.date.today(), group if group in GROUPS else None, kind, name, overrides)
    except FieldappError as error:
        _discard(token)
        return render("imports/index.html", "imports/_problem_card.html", status=error.status,
                      files=_imported_files(), groups=GROUPS, problem=error, file_name=name)
    return render("imports/preview.html", parsed=parsed, token=token, kind=kind, fields=FIELDS, groups=GROUPS,
                  preview_rows=PREVIEW_ROWS, message=render_message, hint=hint)


def _form_overrides() -> dict[str, dict[int, str | None]]:
    """Read the preview's column menus: "map-S-C" is column C of sheet S, "signature-S" its layout."""
    overrides: dict[str, dict[int, str | None]] = {}
    for key, value in request.form.items():
        parts = key.split("-")
        if len(parts) != 3 or parts[0] != "map" or not (parts[1].isdigit() and parts[2].isdigit()):
            continue
        signature = request.form.get(f"signature-{parts[1]}")
        if signature is not None:
            overrides.setdefault(signature, {})[int(parts[2])] = value if value in FIELDS else None
    return overrides


@bp.post("/confirm")
@auth.require_role("coordinator")
def confirm():
    token = request.form.get("token", "")
    path = _upload_path(token)
    name = json.loads((_uploads() / f"{token}.json").read_text(encoding="utf-8"))["name"]
    kind = "population" if request.form.get("kind") == "population" else "list"
    group = request.form.get("group", type=int)
    corrections = _form_overrides()

    db = get_db()
    overrides = remembered_overrides(db)
    overrides.update(corrections)
    parsed = import_files(db, [path], dt.date.today(), group if group in GROUPS else None, kind, overrides, [name])
    with write(db):
        for sheet in parsed[0].sheets:
            signature = sheet.layout.signature()
            if signature in corrections and sheet.layout.mapping != sheet.detected:
                db["column_mapping"].upsert(
                    {"signature": signature, "mapping": json.dumps(corrections[signature]), "updated_at": now()},
                    pk="signature",
                )
        auth.audit(db, "import_file", detail={"status": parsed[0].status, "rows": len(parsed[0].records)})

    _discard(token)
    stored_name = parsed[0].same_as or parsed[0].name
    file_id = db.execute("SELECT id FROM source_file WHERE name = ?", [stored_name]).fetchone()[0]
    return redirect(url_for("imports.report", file_id=file_id, status=parsed[0].status))


@bp.post("/<file_id>/delete")
@auth.require_role("coordinator")
def delete(file_id: str):
    db = get_db()
    row = db.execute("SELECT name FROM source_file WHERE id = ?", [file_id]).fetchone()
    if row is None:
        abort(404)
    with write(db):
        remove_file(db, row[0], roster_date(db))
        auth.audit(db, "remove_file", subject=file_id)
    return redirect(url_for("imports.index"))


@bp.get("/<file_id>")
@auth.require_role("coordinator")
def report(file_id: str):
    row = get_db().execute("SELECT id, name, kind, list_group, imported_at, report FROM source_file WHERE id = ?", [file_id]).fetchone()
    if row is None:
        abort(404)
    found = {"id": row[0], "name": row[1], "kind": row[2], "group": row[3], "at": row[4], "report": json.loads(row[5])}
    return render("imports/report.html", file=found, outcome=request.args.get("status", ""), groups=GROUPS,
                  message=render_message, hint=hint, fields=FIELDS)
