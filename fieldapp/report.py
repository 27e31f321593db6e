"""The import report printed by `fieldapp import`, in the officer's language."""

import click
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .errors import hint, render
from .groups import GROUPS

_STATUS = {
    "imported": _l("đã nhập"),
    "replaced": _l("đã thay bản cũ (giữ các quyết định gộp/tách)"),
    "unchanged": _l("không đổi (tệp này đã nhập trước đó)"),
}


def _print_warnings(item) -> None:
    """Print each kind of warning once, with its rows, so the officer can find them in the file."""
    rows_by_code: dict[str, list] = {}
    for sheet, record in item.records:
        for code, value in record.warnings:
            rows_by_code.setdefault(code, []).append((sheet, record.row, value))
    for code, rows in rows_by_code.items():
        listed = ", ".join(str(row) for _, row, _ in rows[:20]) + (" …" if len(rows) > 20 else "")
        example = render(code, value=rows[0][2])
        click.echo("  " + _("Lưu ý, %(n)s dòng (%(rows)s): %(example)s", n=len(rows), rows=listed, example=example))


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
            click.echo("  " + _("Nếu đây là dữ liệu dân cư để đối chiếu: xóa tệp (fieldapp roster remove TÊN_TỆP) rồi nhập lại với --population."))
        if item.workbook.encoding:
            click.echo("  " + _("Bảng mã: %(enc)s.", enc=item.workbook.encoding))
        for sheet in item.sheets:
            if sheet.sex_convention == "1_2" and any(v == "sex" for v in sheet.layout.mapping.values()):
                click.echo("  " + _("Giới tính ghi bằng số: hiểu 1 là Nam, 2 là Nữ."))
        converted = item.converted_rows()
        if converted:
            rows = ", ".join(str(row) for _sheet, row, _enc in converted)
            click.echo("  " + _("Chuyển mã TCVN3/VNI sang Unicode ở %(n)s dòng: %(rows)s.", n=len(converted), rows=rows))
        if item.same_as:
            click.echo("  " + _("Giống hệt tệp '%(name)s' đã nhập, nên không nhập lại.", name=item.same_as))
        if item.renamed_from:
            click.echo("  " + _("Đã có một danh sách khác tên '%(old)s', nên tệp này được lưu với tên '%(new)s'.",
                                old=item.renamed_from, new=item.name))
        if item.workbook.uncached_formulas:
            click.echo("  " + render("formulas_without_values", file=item.name, value=item.workbook.uncached_formulas))
            click.echo("  → " + hint("formulas_without_values"))
        if item.workbook.skipped_sheets:
            click.echo("  " + _("Bỏ qua các trang ẩn: %(s)s.", s=", ".join(item.workbook.skipped_sheets)))
        if item.status != "unchanged":
            _print_warnings(item)
        problems = item.problems
        for sheet, problem in problems:
            click.echo("  " + render(problem.code, file=item.name, sheet=sheet, row=problem.row, value=problem.value))
        for code in dict.fromkeys(problem.code for _sheet, problem in problems):
            click.echo("  → " + hint(code))

    people = db.execute("SELECT count(*) FROM person").fetchone()[0]
    reviews = db.execute("SELECT count(*) FROM review_pair").fetchone()[0]
    click.echo(_("Danh sách có %(people)s người; %(reviews)s cặp cần xem xét.", people=people, reviews=reviews))
