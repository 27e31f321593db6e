"""The `fieldapp` command: serve, import, roster export, user add."""

import datetime as dt
import logging
from pathlib import Path

import click
from flask_babel import gettext as _

from . import cli_rounds
from .auth import ROLES, add_staff
from .cliapp import with_app
from .db import write

log = logging.getLogger(__name__)


@click.group()
def main():
    """fieldapp: free health-exam days for a ward health station."""


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (0.0.0.0: every network).")
@click.option("--port", default=8000, show_default=True, help="TCP port for the site's web pages.")
@click.option("--demo", is_flag=True, help="On an empty data folder, create a demo ward with a synthetic roster.")
@click.option("--threads", default=8, show_default=True, help="Request threads in waitress.")
@with_app
def serve(app, db, host: str, port: int, demo: bool, threads: int):
    """Serve the site to phones and tablets on the local network (plain HTTP)."""
    import waitress

    from . import demo as demo_ward
    from .network import local_addresses

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if demo:
        login = demo_ward.ensure_demo(db, Path(app.config["DATA_DIR"]))
        click.echo(_("Dữ liệu mẫu: %(people)s người trong danh sách.", people=login.people))
        click.echo(_("Đăng nhập: tên '%(user)s', mã PIN %(pin)s", user=login.username, pin=login.pin))

    addresses = ["127.0.0.1"] if host in ("127.0.0.1", "localhost") else local_addresses()
    for address in addresses:
        click.echo(_("Mở trên máy này hoặc điện thoại cùng mạng Wi-Fi: http://%(address)s:%(port)s/", address=address, port=port))
    log.info("serving data folder %s on %s:%s", app.config["DATA_DIR"], host, port)
    waitress.serve(app, host=host, port=port, threads=threads, ident="fieldapp")


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--group", type=click.IntRange(1, 8), help="The plan's group (1-8) every listed person belongs to.")
@click.option("--population", is_flag=True, help="The files are a population extract, used only to cross-check.")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), help="Date for age groups (default: today).")
@with_app
def import_command(app, db, files: tuple[str, ...], group: int | None, population: bool, as_of):
    """Import invitation lists (.xlsx, .csv) into the roster; all files or none."""
    from .import_views import remembered_overrides
    from .importer import import_files
    from .report import print_report

    on = as_of.date() if as_of else dt.date.today()
    kind = "population" if population else "list"
    parsed = import_files(db, [Path(f) for f in files], on, group, kind, remembered_overrides(db))
    print_report(db, parsed)


@main.group()
def roster():
    """Work with the roster of people."""


@roster.command("export")
@click.option("--sources", type=click.Path(dir_okay=False), help="File (.csv or .xlsx) with one row per imported row.")
@click.option("--people", type=click.Path(dir_okay=False), help="File (.csv or .xlsx) with one row per person.")
@click.option("--crosscheck", type=click.Path(dir_okay=False), help="File (.csv or .xlsx) of disagreements with the population extract.")
@with_app
def roster_export(app, db, sources: str | None, people: str | None, crosscheck: str | None):
    """Export the roster: source rows with their person, people, cross-check disagreements."""
    from .exports import (CROSSCHECK_COLUMNS, PEOPLE_COLUMNS, SOURCE_COLUMNS, crosscheck_rows, people_rows,
                          source_rows, write_table)

    if not (sources or people or crosscheck):
        raise click.UsageError("Give --sources, --people or --crosscheck.")
    for target, columns, rows in (
        (sources, SOURCE_COLUMNS, source_rows),
        (people, PEOPLE_COLUMNS, people_rows),
        (crosscheck, CROSSCHECK_COLUMNS, crosscheck_rows),
    ):
        if target:
            table = rows(db)
            write_table(Path(target), columns, table)
            click.echo(_("Đã ghi %(n)s dòng vào %(file)s.", n=len(table), file=target))


@roster.command("remove")
@click.argument("name")
@with_app
def roster_remove(app, db, name: str):
    """Remove an imported file (by its name as imported) and the people only it listed."""
    from .roster import remove_file, roster_date

    with write(db):
        removed = remove_file(db, name, roster_date(db))
    people = db.execute("SELECT count(*) FROM person").fetchone()[0]
    click.echo(_("Đã xóa tệp %(file)s (%(rows)s dòng). Danh sách còn %(people)s người.", file=name, rows=removed, people=people))


@main.group()
def user():
    """Manage staff accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
@click.option("--name", "display_name", help="Name shown on screens (default: the username).")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, help="PIN of 4 to 12 digits.")
@with_app
def user_add(app, db, username: str, role: str, display_name: str | None, pin: str):
    """Create a staff account that signs in with a PIN."""
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise click.BadParameter(_("Mã PIN phải gồm 4 đến 12 chữ số."), param_hint="--pin")
    if db.execute("SELECT 1 FROM staff WHERE username = ?", [username.lower()]).fetchone():
        raise click.BadParameter(_("Tên đăng nhập '%(u)s' đã có.", u=username), param_hint="USERNAME")
    with write(db):
        add_staff(db, username, display_name or username, role, pin)
    click.echo(_("Đã tạo tài khoản '%(u)s' (%(role)s).", u=username, role=role))


cli_rounds.register(main)

if __name__ == "__main__":
    main()
