"""The import report printed by `fieldapp import`, in the officer's language."""

import click
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import render
from .groups import GROUPS

_STATUS = {
    "imported": _l("đã nhập"),
    "replaced": _l("đã thay bản cũ (giữ các quyết định gộp/tách)"),
    "unchanged": _l("không đổi (tệp này đã nhập trước đó)"),
}


def print_report(db, parsed: list) -> None:
    """Print per file: rows, group, conversions and left-out rows; then the roster totals."""
    for item in parsed:
        status = str(_STATUS[item.status])
        click.echo(_("%(file)s: %(status)s, %(rows)s dòng.", file=item.name, status=status, rows=len(item.records)))
        if item.kind == "population":
            click.echo("  " + _("Dữ liệu dân cư, chỉ dùng để đối chiếu."))
        elif item.list_group:
            how = _("đoán từ tên tệp và tiêu đề") if item.group_guessed else _("theo --group")
            click.echo("  " + _("Nhóm %(n)s: %(label)s (%(how)s).", n=item.list_group, label=GROUPS[item.list_group], how=how))
        else:
            click.echo("  " + _("Không rõ nhóm của danh sách: chỉ xếp nhóm theo ghi chú và tuổi. Dùng --group N để chỉ định."))
        if item.workbook.encoding:
            click.echo("  " + _("Bảng mã: %(enc)s.", enc=item.workbook.encoding))
        for sheet in item.sheets:
            if sheet.sex_convention == "1_2" and any(v == "sex" for v in sheet.layout.mapping.values()):
                click.echo("  " + _("Giới tính ghi bằng số: hiểu 1 là Nam, 2 là Nữ."))
        converted = item.converted_rows()
        if converted:
            rows = ", ".join(str(row) for _sheet, row, _enc in converted)
            click.echo("  " + _("Chuyển mã TCVN3/VNI sang Unicode ở %(n)s dòng: %(rows)s.", n=len(converted), rows=rows))
        for sheet, problem in item.problems:
            click.echo("  " + render(problem.code, file=item.name, sheet=sheet, row=problem.row, value=problem.value))

    people = db.execute("SELECT count(*) FROM person").fetchone()[0]
    reviews = db.execute("SELECT count(*) FROM review_pair").fetchone()[0]
    click.echo(_("Danh sách có %(people)s người; %(reviews)s cặp cần xem xét.", people=people, reviews=reviews))
