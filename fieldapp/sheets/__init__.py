"""Printed exam results: the person's result sheet (A4 or A5), the parents' version, and the referral note.

Sheets are drawn with fpdf2 and the DejaVu fonts bundled for the invitation slips. Every sheet needs
the doctor's current conclusion. The PDF's title is the same for every sheet and never contains a
name. Footers contain only the station, the queue number and the day.
"""

import sqlite_utils
from flask_babel import force_locale

from ..errors import FieldappError
from . import parents_sheet, person_sheet, referral, workers
from .content import CHILD_PLANS, SheetContent, SheetNotReady, load
from .document import SIZES, SheetDocument

AUDIENCES = ("person", "parents")
PDF_TITLE = "Phiếu kết quả khám sức khỏe"
REFERRAL_TITLE = "Giấy giới thiệu chuyển khám"
REFERRAL_SIZE = "A5"

__all__ = ["AUDIENCES", "SIZES", "SheetNotReady", "concluded_visits", "day_sheets", "draw_ahead",
           "referral_note", "result_sheet"]


def check_options(size: str, audience: str) -> None:
    """Raise sheet_option_invalid for a paper size other than A4 or A5, or an unknown audience."""
    if size not in SIZES:
        raise FieldappError("sheet_option_invalid", value=size)
    if audience not in AUDIENCES:
        raise FieldappError("sheet_option_invalid", value=audience)


def _draw(doc: SheetDocument, content: SheetContent, parents: bool) -> None:
    if parents and content.is_child:
        parents_sheet.draw(doc, content)
    else:
        person_sheet.draw(doc, content)


def result_sheet(db: sqlite_utils.Database, visit: dict, size: str = "A4", audience: str = "person") -> bytes:
    """Return one visit's result sheet as a PDF.

    Raises sheet_option_invalid for a bad size or audience, sheet_parents_children_only when the
    parents' version is asked for an adult's visit, and sheet_not_concluded before the doctor's conclusion.
    """
    check_options(size, audience)
    if audience == "parents" and visit["plan_kind"] not in CHILD_PLANS:
        raise FieldappError("sheet_parents_children_only")
    with force_locale("vi"):
        content = load(db, visit)
    return workers.draw(draw_result_sheet, content, size, audience == "parents")


def draw_ahead(db: sqlite_utils.Database, visit: dict) -> None:
    """Start drawing the visit's A4 sheet in a worker, because finishing the visit opens it.

    The visit must have a conclusion. Without sheet workers this does nothing.
    """
    if not workers.worker_count():
        return
    with force_locale("vi"):
        content = load(db, visit)
    workers.draw_ahead(draw_result_sheet, content, "A4", False)


def draw_result_sheet(content: SheetContent, size: str, parents: bool) -> bytes:
    """Return the PDF of one visit's loaded content; runs in a sheet worker process when the server has them."""
    with force_locale("vi"), SheetDocument(size, PDF_TITLE) as doc:
        _draw(doc, content, parents)
        return doc.finish()


def referral_note(db: sqlite_utils.Database, visit: dict) -> bytes:
    """Return one visit's referral note as an A5 PDF; raise referral_missing when there is no referral."""
    with force_locale("vi"):
        content = load(db, visit)
        with SheetDocument(REFERRAL_SIZE, REFERRAL_TITLE) as doc:
            referral.draw(doc, content)
            return doc.finish()


def concluded_visits(db: sqlite_utils.Database, day: str) -> list[dict]:
    """Return a day's visits that have a conclusion, by site, class and name, as they are handed out."""
    cursor = db.execute(
        """SELECT v.* FROM visit AS v JOIN person AS p ON p.id = v.person_id LEFT JOIN site AS s ON s.id = v.site_id
           WHERE v.day = ? AND EXISTS (SELECT 1 FROM conclusion AS c WHERE c.visit_id = v.id)
           ORDER BY s.name, coalesce(p.class_name, ''), p.sort_key, v.queue_number""", [day])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def day_sheets(db: sqlite_utils.Database, visits: list[dict], size: str = "A4", parents: bool = False) -> bytes:
    """Return the result sheets of several concluded visits as one PDF, each sheet from a new page.

    With parents=True, children's visits (pupils, under 36 months) get the parents' version and
    everyone else the person's sheet.
    """
    check_options(size, "parents" if parents else "person")
    with force_locale("vi"), SheetDocument(size, PDF_TITLE) as doc:
        for visit in visits:
            _draw(doc, load(db, visit), parents)
        return doc.finish()
