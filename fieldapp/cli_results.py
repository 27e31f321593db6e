"""Commands for exam results: import results typed later, export every value, print sheets, follow-up lists."""

import sys
from pathlib import Path

import click
from flask_babel import gettext as _

from .cliapp import with_app


def register(main: click.Group) -> None:
    """Add the results commands to the fieldapp command."""
    main.add_command(results_group)


@click.group("results")
def results_group():
    """Exam results: import and export values, result sheets, follow-up lists."""


@results_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_app
def results_import(app, db, file: str):
    """Import values from a CSV or Excel file with the columns person_id, item, value [, unit, measured_at]."""
    from .results_io import import_results

    report = import_results(db, Path(file))
    click.echo(_("{file}: lưu {stored} giá trị mới, {corrected} giá trị sửa, {unchanged} giá trị đã có; "
                 "tạo {visits} lượt khám.").format(file=report.file_name, stored=report.stored,
                                                   corrected=report.corrected, unchanged=report.unchanged,
                                                   visits=report.visits_created))
    for warning in report.warnings:
        click.echo(_("Cần xem lại (đã lưu): {message}").format(message=warning.message))
    for problem in report.refused:
        click.echo(_("Bỏ qua: {message}").format(message=problem.message), err=True)
    if report.refused:
        click.echo(_("{count} dòng bị bỏ qua; sửa các dòng đó trong tệp rồi nhập lại, "
                     "những dòng đã lưu không bị nhập hai lần.").format(count=len(report.refused)), err=True)
        sys.exit(2)


@results_group.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@click.option("--round", "round_name", default=None, help="Only visits of this round (default: every round).")
@with_app
def results_export(app, db, out: str, round_name: str | None):
    """Write every stored and derived value with its flag and class to a CSV file."""
    from .results_io import export_results
    from .rounds import find_round

    round_id = find_round(db, round_name)["id"] if round_name else None
    count = export_results(db, Path(out), round_id)
    click.echo(_("Đã ghi {count} giá trị vào {out}.").format(count=count, out=out))


@results_group.command("sheets")
@click.option("--day", required=True, help="Exam day, yyyy-mm-dd.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PDF file to write.")
@click.option("--size", type=click.Choice(["A4", "A5"], case_sensitive=False), default="A4", show_default=True,
              help="Paper size.")
@click.option("--parents", is_flag=True,
              help="Print the parents' version for pupils and children under 36 months; others get the usual sheet.")
@with_app
def results_sheets(app, db, day: str, out: str, size: str, parents: bool):
    """Print the result sheets of a day's visits that have the doctor's conclusion into one PDF."""
    from .auth import audit
    from .db import write
    from .errors import FieldappError
    from .followup import parse_day
    from .sheets import concluded_visits, day_sheets

    chosen = parse_day(day)
    visits = concluded_visits(db, chosen) if chosen else []
    if not visits:
        raise FieldappError("sheets_none", value=day)

    Path(out).write_bytes(day_sheets(db, visits, size.upper(), parents))
    with write(db):
        audit(db, "result_sheets_printed", detail={"day": chosen, "size": size.upper(), "parents": parents,
                                                   "visits": [visit["id"] for visit in visits], "via": "command"})
    click.echo(_("Đã in %(n)s phiếu kết quả ngày %(day)s vào %(file)s.", n=len(visits), day=chosen, file=out))


@results_group.command("followup")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write (.xlsx or .csv).")
@click.option("--round", "round_name", default=None, help="Only visits of this round (default: every round).")
@click.option("--from", "day_from", default=None, help="First exam day to include, yyyy-mm-dd.")
@click.option("--to", "day_to", default=None, help="Last exam day to include, yyyy-mm-dd.")
@with_app
def results_followup(app, db, out: str, round_name: str | None, day_from: str | None, day_to: str | None):
    """Write the people to follow up (flags, referrals, diagnoses), most severe first, with phone numbers."""
    from .auth import audit
    from .db import write
    from .exports import write_table
    from .followup import COLUMNS, Filter, follow_up_list, parse_day, table_rows, write_xlsx
    from .rounds import find_round

    round_id = find_round(db, round_name)["id"] if round_name else None
    chosen = Filter(round_id, parse_day(day_from), parse_day(day_to))
    entries = follow_up_list(db, chosen)

    path = Path(out)
    if path.suffix.lower() == ".xlsx":
        write_xlsx(entries, path)
    else:
        write_table(path, COLUMNS, table_rows(entries))
    with write(db):
        audit(db, "followup_exported", subject=round_id,
              detail={"day_from": chosen.day_from, "day_to": chosen.day_to,
                      "visits": [entry.visit_id for entry in entries], "via": "command"})
    click.echo(_("Đã ghi %(n)s người cần theo dõi vào %(file)s.", n=len(entries), file=out))
