"""Commands for exam rounds: create a round, invite people, print slips, export invitations."""

import datetime as dt
from pathlib import Path

import click
from flask_babel import gettext as _

from .cliapp import with_app
from .db import write
from .errors import FieldappError


def register(main: click.Group) -> None:
    """Add the round, slips and invitations commands to the fieldapp command."""
    main.add_command(round_group)
    main.add_command(slips)
    main.add_command(invitations_group)


@click.group("round")
def round_group():
    """Plan exam rounds: days, sites and who is invited."""


@round_group.command("create")
@click.option("--name", required=True, help="Name of the round, e.g. 'Đợt 1 - 2026'.")
@click.option("--start", required=True, help="First day, yyyy-mm-dd.")
@click.option("--days", default=1, show_default=True, type=int, help="Number of exam days.")
@click.option("--site", "site_texts", multiple=True, required=True,
              help='A site as "NAME|ADDRESS|CAPACITY_PER_SLOT" (people per 30-minute slot); repeatable.')
@click.option("--ward", default="", help="Ward name printed on slips, e.g. 'Phường An Lạc'.")
@click.option("--station", default="", help="Health station printed on slips.")
@click.option("--title", default=None, help="Title printed on slips (default: free health exam and the year).")
@with_app
def round_create(app, db, name, start, days, site_texts, ward, station, title):
    """Create an exam round with its sites."""
    from .rounds import create_round, parse_site

    try:
        start_date = dt.date.fromisoformat(start)
    except ValueError as error:
        raise FieldappError("round_date_invalid", value=start) from error
    specs = [parse_site(text) for text in site_texts]
    with write(db):
        create_round(db, name, start_date, days, specs, title, ward, station)
    click.echo(_("Đã tạo đợt khám '%(name)s': %(days)s ngày từ %(start)s, %(sites)s điểm khám.",
                 name=name, days=days, start=start_date.strftime("%d/%m/%Y"), sites=len(specs)))


@round_group.command("invite")
@click.option("--round", "round_name", required=True, help="Name of the round.")
@click.option("--all", "everyone", is_flag=True, help="Invite everyone on the roster.")
@click.option("--group", type=click.IntRange(1, 8), help="Invite the plan's group N (1-8).")
@click.option("--list", "list_name", help="Invite the people of one imported list (its file name).")
@click.option("--tdp", help="Invite one residential group (tổ dân phố), by number.")
@click.option("--class", "class_name", help="Invite one class, e.g. 6A.")
@click.option("--site", "site_name", help="Site they go to (needed when the round has several).")
@click.option("--date", help="Day they come, yyyy-mm-dd (default: any open day of the site).")
@with_app
def round_invite(app, db, round_name, everyone, group, list_name, tdp, class_name, site_name, date):
    """Invite people to a round and give them a day and time slot."""
    from .invitations import invite
    from .rounds import find_round, find_site

    chosen = [("all", "") if everyone else None, ("group", str(group)) if group else None,
              ("list", list_name) if list_name else None, ("tdp", tdp) if tdp else None,
              ("class", class_name) if class_name else None]
    chosen = [item for item in chosen if item]
    if len(chosen) != 1:
        raise FieldappError("invite_nothing_selected")
    kind, value = chosen[0]

    found = find_round(db, round_name)
    site = find_site(db, found["id"], site_name)
    with write(db):
        count = invite(db, found["id"], site["id"], kind, value, date)
    unplaced = db.execute("SELECT count(*) FROM invitation WHERE round_id = ? AND status = 'active' "
                          "AND slot_start IS NULL", [found["id"]]).fetchone()[0]
    click.echo(_("Đã mời thêm %(count)s người đến %(site)s.", count=count, site=site["name"]))
    if unplaced:
        click.echo(_("%(n)s người chưa có khung giờ vì điểm khám đã kín chỗ: thêm ngày, thêm điểm khám hoặc tăng số người mỗi khung giờ.", n=unplaced))


@click.command()
@click.option("--round", "round_name", required=True, help="Name of the round.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PDF file to write.")
@click.option("--only", "person_id", help="Print one person's slip alone (reprint).")
@click.option("--layout", type=click.Choice(["a4-8", "a5-2"]), default="a4-8", show_default=True,
              help="8 slips per A4 page with cut marks, or 2 per A5 page.")
@with_app
def slips(app, db, round_name, out, person_id, layout):
    """Print invitation slips, bundled by residential group or class with a cover list."""
    from .distribution import bundles
    from .invitations import mark_printed
    from .rounds import find_round
    from .slips import render_slips

    found = find_round(db, round_name)
    chosen = bundles(db, found["id"], person_id)
    total = sum(len(bundle.slips) for bundle in chosen)
    if person_id and not total:
        raise FieldappError("person_not_invited", value=person_id)
    if not total:
        raise FieldappError("slips_none")

    with click.progressbar(length=total, label=_("Đang in giấy mời")) as bar:
        reported = [0]

        def progress(done: int, _total: int) -> None:
            bar.update(done - reported[0])
            reported[0] = done

        pages = render_slips(chosen, Path(out), layout=layout, progress=progress)
    with write(db):
        mark_printed(db, [slip.token for bundle in chosen for slip in bundle.slips])
    click.echo(_("Đã in %(slips)s giấy mời (%(pages)s trang) vào %(file)s.", slips=total, pages=pages, file=out))


@click.group("invitations")
def invitations_group():
    """Work with a round's invitations."""


@invitations_group.command("export")
@click.option("--round", "round_name", required=True, help="Name of the round.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write (.csv or .xlsx).")
@with_app
def invitations_export(app, db, round_name, out):
    """Export invitations: person_id, token, short_code, site, date, slot_start."""
    from .exports import write_table
    from .invitations import export_rows
    from .rounds import find_round

    rows = export_rows(db, find_round(db, round_name)["id"])
    write_table(Path(out), ["person_id", "token", "short_code", "site", "date", "slot_start"], rows)
    click.echo(_("Đã ghi %(n)s dòng vào %(file)s.", n=len(rows), file=out))
