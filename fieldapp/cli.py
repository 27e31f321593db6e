"""The `fieldapp` command: serve, import, roster export, user add."""

import datetime as dt
import logging
import sys
import threading
from pathlib import Path

import click
from flask_babel import gettext as _

from . import cli_central, cli_results, cli_rounds, cli_sync
from .auth import ROLES
from .cliapp import with_app
from .config import DEFAULT_DATA_DIR
from .db import REUSE_CONNECTIONS, write
from .sheets import workers as sheet_workers
from .sheets.workers import SHEET_WORKERS

log = logging.getLogger(__name__)

# Seconds a thread runs before Python hands the GIL to a waiting one, while the site is served.
SWITCH_INTERVAL_S = 0.001
# Worker processes that draw result sheets: two doctors can print at once.
SHEET_WORKER_COUNT = 2


@click.group()
def main():
    """fieldapp: free health-exam days for a ward health station."""


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on (0.0.0.0: every network).")
@click.option("--https-port", default=8443, show_default=True, help="TCP port for the site over HTTPS.")
@click.option(
    "--http-port", "--port", "http_port", default=8000, show_default=True,
    help="TCP port for plain HTTP: the page where phones get the certificate, or the site itself with --no-https.",
)
@click.option("--no-https", "no_https", is_flag=True, help="Serve the site over plain HTTP only (behind a reverse proxy, or in tests).")
@click.option("--demo", is_flag=True, help="On an empty data folder, create a demo ward with a synthetic roster.")
@click.option("--threads", default=8, show_default=True, help="Request threads for the site (waitress or cheroot).")
@with_app
def serve(app, db, host: str, https_port: int, http_port: int, no_https: bool, demo: bool, threads: int):
    """Serve the site to phones and tablets on the local network over HTTPS, and the join page over HTTP."""
    import waitress

    from . import demo as demo_ward
    from .network import local_addresses

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # A request thread that comes back from SQLite waits for the GIL until the running thread's switch
    # interval ends (5 ms by default). Requests make dozens of such calls, so a PDF being built in one thread
    # added tens of milliseconds to every other request. With 1 ms that wait stays short.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if demo:
        login = demo_ward.ensure_demo(db, Path(app.config["DATA_DIR"]))
        click.echo(_("Dữ liệu mẫu: %(people)s người trong danh sách.", people=login.people))
        click.echo(_("Đăng nhập: tên '%(user)s', mã PIN %(pin)s", user=login.username, pin=login.pin))

    from . import voice
    from .visits import queue_unqueued

    queue_unqueued(db, dt.date.today().isoformat())
    # The display's voice clips render in the background, so a missing espeak-ng or a slow disk never delays the start.
    voice.render_in_background(voice.voice_folder(app.config["DATA_DIR"]), voice.station_labels(db))

    if host in ("127.0.0.1", "localhost"):
        addresses = ["127.0.0.1"]
    elif host in ("0.0.0.0", "::"):
        addresses = local_addresses()
    else:
        # One address chosen with --host: the join page and its QR codes must point there.
        addresses = [host]
    # The devices pages build the pairing QR and the join sheet link from where the site listens.
    app.config["SERVE_HOST"] = host
    app.config[REUSE_CONNECTIONS] = True
    # Result sheets are drawn on the laptop's other cores; the first worker starts in the background.
    app.config[SHEET_WORKERS] = SHEET_WORKER_COUNT
    threading.Thread(target=sheet_workers.start, args=[SHEET_WORKER_COUNT], name="sheet-workers", daemon=True).start()
    if no_https:
        for address in addresses:
            click.echo(_("Mở trên máy này hoặc điện thoại cùng mạng Wi-Fi: http://%(address)s:%(port)s/", address=address, port=http_port))
        log.info("serving data folder %s on http://%s:%s", app.config["DATA_DIR"], host, http_port)
        waitress.serve(app, host=host, port=http_port, threads=threads, ident="fieldapp")
        return

    _serve_https(app, host, addresses, https_port, http_port, threads)


def _serve_https(app, host: str, addresses: list[str], https_port: int, http_port: int, threads: int) -> None:
    """Serve the site with cheroot over HTTPS and the join app with waitress over HTTP, until interrupted."""
    import socket

    import waitress

    from .join import JoinSite, create_join_app
    from .network import local_addresses
    from .tls import TlsFilesError, configure_app_for_https, https_server, prepare_site_tls

    hostname = socket.gethostname()
    try:
        site_tls = prepare_site_tls(Path(app.config["DATA_DIR"]), local_addresses(), hostname)
    except TlsFilesError as error:
        click.echo(_("Không dùng được chứng chỉ HTTPS: %(error)s", error=error), err=True)
        sys.exit(1)
    configure_app_for_https(app)
    app.config["JOIN_HTTP_PORT"] = http_port
    join_app = create_join_app(JoinSite(addresses, hostname, http_port, https_port, site_tls))
    join_server = waitress.create_server(join_app, host=host, port=http_port, threads=2, ident="fieldapp-join")
    site_server = https_server(app, host, https_port, site_tls, threads)
    site_server.prepare()

    for address in addresses:
        click.echo(_("Mở trên máy này hoặc điện thoại cùng mạng Wi-Fi: http://%(address)s:%(port)s/", address=address, port=http_port))
        click.echo(_("Sau khi điện thoại đã cài chứng chỉ, mở fieldapp tại: https://%(address)s:%(port)s/",
                     address=address, port=https_port))
    click.echo(_("Tờ hướng dẫn để in: http://%(address)s:%(port)s/join-sheet", address=addresses[0], port=http_port))
    click.echo(_("Dấu vân tay SHA-256 của chứng chỉ %(name)s: %(fingerprint)s", name=site_tls.ca_name,
                 fingerprint=site_tls.fingerprint))
    log.info("serving data folder %s on https://%s:%s, join page on http://%s:%s",
             app.config["DATA_DIR"], host, https_port, host, http_port)

    join_thread = threading.Thread(target=join_server.run, name="join-http", daemon=True)
    join_thread.start()
    try:
        site_server.serve()
    except KeyboardInterrupt:
        log.info("stopping on keyboard interrupt")
    finally:
        site_server.stop()
        join_server.close()


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
    from .auth import audit, create_staff
    from .errors import FieldappError

    try:
        with write(db):
            staff_id = create_staff(db, username, display_name or username, role, pin)
            audit(db, "staff_created", subject=staff_id, detail={"role": role, "via": "command"})
    except FieldappError as error:
        raise click.BadParameter(f"{error.message} {error.hint}", param_hint="--pin" if error.code == "pin_invalid" else "USERNAME")
    click.echo(_("Đã tạo tài khoản '%(u)s' (%(role)s).", u=username, role=role))


@user.command("list")
@with_app
def user_list(app, db):
    """List staff accounts: username, role, name, and whether disabled or locked."""
    from .auth import list_staff, local_clock_time

    for account in list_staff(db):
        states = []
        if not account["active"]:
            states.append(_("đã khóa"))
        if account["locked_until"]:
            states.append(_("nhập sai PIN, khóa đến %(time)s", time=local_clock_time(account["locked_until"])))
        line = f"{account['username']}\t{account['role']}\t{account['display_name']}"
        click.echo(line + ("\t" + ", ".join(states) if states else ""))


def _find_account(db, username: str) -> dict:
    from .auth import find_staff
    from .errors import FieldappError

    account = find_staff(db, username=username)
    if account is None:
        raise FieldappError("staff_not_found", value=username)
    return account


@user.command("pin")
@click.argument("username")
@click.option("--pin", prompt=True, hide_input=True, confirmation_prompt=True, help="New PIN of 4 to 12 digits.")
@with_app
def user_pin(app, db, username: str, pin: str):
    """Set a new PIN for an account; this also unlocks an account locked after wrong PINs."""
    from .auth import audit, reset_pin

    account = _find_account(db, username)
    with write(db):
        reset_pin(db, account["id"], pin)
        audit(db, "staff_pin_reset", subject=account["id"], detail={"via": "command"})
    click.echo(_("Đã đặt mã PIN mới cho '%(u)s'; tài khoản đã được mở khóa.", u=account["username"]))


@user.command("disable")
@click.argument("username")
@with_app
def user_disable(app, db, username: str):
    """Disable an account: it can no longer sign in, and its open sessions end on their next request."""
    from .auth import audit, set_active

    account = _find_account(db, username)
    with write(db):
        set_active(db, account["id"], False)
        audit(db, "staff_disabled", subject=account["id"], detail={"via": "command"})
    click.echo(_("Đã khóa tài khoản '%(u)s'.", u=account["username"]))


@main.group()
def display():
    """Set up the waiting-room display."""


@display.command("voices")
@click.option("--force", is_flag=True, help="Render every clip again, for example after upgrading espeak-ng.")
@with_app
def display_voices(app, db, force: bool):
    """Render the Vietnamese voice clips the display plays when its browser has no Vietnamese voice (needs espeak-ng)."""
    from . import voice
    from .errors import FieldappError

    if voice.find_espeak() is None:
        raise FieldappError("voice_espeak_missing")
    try:
        result = voice.render_missing(voice.voice_folder(app.config["DATA_DIR"]), voice.station_labels(db), force=force)
    except voice.VoiceError as error:
        raise FieldappError("voice_render_failed", value=str(error)) from error
    click.echo(_("Đã tạo %(rendered)s đoạn âm thanh và giữ %(kept)s đoạn đã có trong %(folder)s.",
                 rendered=result.rendered, kept=result.existing, folder=result.folder))


@main.command("check")
@click.option("--data-dir", envvar="FIELDAPP_DATA_DIR", default=DEFAULT_DATA_DIR, show_default=True,
              type=click.Path(file_okay=False), help="Data folder to check (env FIELDAPP_DATA_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object, for scripts.")
def check_command(data_dir: str, as_json: bool):
    """Check the installation before an exam day: data folder, database, HTTPS certificates, free disk, unsent records, clock.

    Prints one line per check (OK, CẢNH BÁO or LỖI) and exits with 1 when any check finds an error. It opens
    the database read-only and writes only a temporary file to test that the folder is writable.
    """
    from . import check

    with check.message_context():
        results = check.run_checks(data_dir)
        output = check.as_json(results, data_dir) if as_json else "\n".join(check.as_lines(results))
    click.echo(output)
    raise SystemExit(check.exit_code(results))


cli_rounds.register(main)
cli_results.register(main)
cli_sync.register(main)
cli_central.register(main)


# A list with a wrong column gives a problem on every row; the first ones are enough to see the pattern.
CODE_PROBLEMS_SHOWN = 20


@main.group()
def codes():
    """Manage code lists: the ICD-10 codes that the doctor's page offers for diagnoses."""


@codes.command("load-icd10")
@click.argument("file", type=click.Path(dir_okay=False))
@with_app
def codes_load_icd10(app, db, file: str):
    """Replace the ICD-10 list with a full one (.csv or .xlsx with code and title columns), checked row by row.

    Nothing is replaced while any row has a problem; every problem is listed with its row number.
    """
    from . import icd10
    from .auth import audit

    codes_read, problems = icd10.read_list(Path(file))
    if problems:
        for problem in problems[:CODE_PROBLEMS_SHOWN]:
            click.echo(problem.message, err=True)
        if len(problems) > CODE_PROBLEMS_SHOWN:
            click.echo(_("... và %(n)s lỗi khác.", n=len(problems) - CODE_PROBLEMS_SHOWN), err=True)
        for hint in dict.fromkeys(problem.hint for problem in problems):
            click.echo(hint, err=True)
        click.echo(_("Chưa nạp danh mục nào: sửa tệp rồi chạy lại lệnh."), err=True)
        raise SystemExit(1)

    target = icd10.store(Path(app.config["DATA_DIR"]), codes_read)
    with write(db):
        audit(db, "icd10_loaded", detail={"codes": len(codes_read)})
    click.echo(_("Đã nạp %(n)s mã ICD-10 vào %(file)s; trang bác sĩ dùng danh mục này từ bây giờ.",
                 n=len(codes_read), file=target))


if __name__ == "__main__":
    main()
