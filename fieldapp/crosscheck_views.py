"""The cross-check page: people whose details differ from the population extract."""

import io
import tempfile
from pathlib import Path

from flask import Blueprint, send_file

from . import auth
from .crosscheck import disagreements
from .db import get_db, write
from .exports import CROSSCHECK_COLUMNS, crosscheck_rows, write_table
from .web import render

bp = Blueprint("crosscheck", __name__, url_prefix="/crosscheck")


@bp.get("/")
def index():
    db = get_db()
    population = db.execute("SELECT count(*) FROM population_row").fetchone()[0]
    return render("crosscheck/index.html", rows=disagreements(db), population=population)


@bp.get("/export.xlsx")
def export():
    db = get_db()
    with write(db):
        auth.audit(db, "export_crosscheck")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crosscheck.xlsx"
        write_table(path, CROSSCHECK_COLUMNS, crosscheck_rows(db))
        data = io.BytesIO(path.read_bytes())
    return send_file(data, as_attachment=True, download_name="doi-chieu-dan-cu.xlsx")
