"""The cross-check page: people whose details differ from the population extract."""

from flask import Blueprint

from . import auth
from .crosscheck import disagreements
from .db import get_db, write
from .exports import CROSSCHECK_COLUMNS, crosscheck_rows
from .web import render, send_xlsx

bp = Blueprint("crosscheck", __name__, url_prefix="/crosscheck")


@bp.get("/")
@auth.require_role("coordinator")
def index():
    db = get_db()
    population = db.execute("SELECT count(*) FROM population_row").fetchone()[0]
    return render("crosscheck/index.html", rows=disagreements(db), population=population)


@bp.get("/export.xlsx")
@auth.require_role("coordinator")
def export():
    db = get_db()
    with write(db):
        auth.audit(db, "export_crosscheck")
    return send_xlsx(CROSSCHECK_COLUMNS, crosscheck_rows(db), "doi-chieu-dan-cu.xlsx")
