"""Commands of the central store: serve it, enrol and revoke sites, import export files, put round packages."""

import functools
import io
import json
import logging
import sys
from pathlib import Path

import click
from flask_babel import gettext as _

from .errors import FieldappError

log = logging.getLogger(__name__)

DEFAULT_PORT = 9000


def register(main: click.Group) -> None:
    """Add the central command group to the fieldapp command."""
    main.add_command(central)


@click.group("central")
def central():
    """Run the central record store that the sites send their records to."""


def with_central(command):
    """Add --data-dir and --database to a command and run it with the central app and its engine."""

    @click.option(
        "--data-dir", envvar="FIELDAPP_CENTRAL_DATA_DIR", default="fieldapp-central", show_default=True,
        type=click.Path(file_okay=False),
        help="Folder for the central store's staff accounts, TLS files and, by default, its SQLite record store "
             "(env FIELDAPP_CENTRAL_DATA_DIR).",
    )
    @click.option(
        "--database", envvar="FIELDAPP_CENTRAL_DATABASE", default=None,
        help="Record store URL, e.g. postgresql://user:password@host/dbname (default: DATA_DIR/central.db; "
             "env FIELDAPP_CENTRAL_DATABASE).",
    )
    @functools.wraps(command)
    def wrapper(*args, data_dir: str, database: str | None, **kwargs):
        from sqlalchemy.exc import OperationalError

        from .app import create_app
        from .central import central_engine, database_url

        app = create_app({"ROLE": "central", "DATA_DIR": data_dir, "CENTRAL_DATABASE": database})
        with app.app_context():
            try:
                try:
                    engine = central_engine(app)
                except OperationalError as error:
                    shown = _hide_password(database_url(app.config["DATA_DIR"], database))
                    raise FieldappError("central_database_failed", value=shown,
                                        field=str(error.orig).strip().splitlines()[0]) from error
                try:
                    return command(app, engine, *args, **kwargs)
                finally:
                    engine.dispose()
            except FieldappError as error:
                click.echo(f"{error.message}\n{error.hint}", err=True)
                sys.exit(1)

    return wrapper


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@central.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 127.0.0.1 keeps it to this machine, behind a reverse proxy.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="TCP port.")
@click.option("--tls", is_flag=True, help="Serve HTTPS with a certificate from the data folder's own CA "
                                          "(DATA_DIR/tls/ca.pem, which sites pass to sync enrol --ca).")
@click.option("--behind-proxy", is_flag=True,
              help="Trust X-Forwarded-For and X-Forwarded-Proto from a reverse proxy on this machine (127.0.0.1) "
                   "that terminates TLS, so staff sign-in sees each browser's address and cookies need HTTPS.")
@click.option("--threads", default=8, show_default=True, help="Request threads (in each worker process).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes, on Linux and macOS (gunicorn): with more than one, batches from many sites "
                   "are applied on several cores at once. One per core is a good start.")
@with_central
def central_serve(app, engine, host: str, port: int, tls: bool, behind_proxy: bool, threads: int, workers: int):
    """Serve the central store: the sites' API and the ward's pages."""
    import waitress

    from .central import workers as central_workers
    from .tls import LISTEN_BACKLOG

    # With several workers, the process id shows which one wrote a line.
    process = " [%(process)d]" if workers > 1 else ""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s{process} %(levelname)s %(name)s: %(message)s")
    store_url = engine.url.render_as_string(hide_password=True)
    if tls and behind_proxy:
        raise click.UsageError("--behind-proxy is for plain HTTP behind a proxy that terminates TLS; drop --tls.")
    if workers > 1 and not central_workers.available():
        raise click.UsageError(_("--workers lớn hơn 1 chỉ chạy trên Linux và macOS; trên Windows hãy bỏ --workers."))
    if not tls:
        options = {}
        if behind_proxy:
            from .tls import configure_app_for_https

            # Waitress drops X-Forwarded-* headers unless the peer is a trusted proxy. Without them every
            # request comes from the proxy's 127.0.0.1, and sign-in treats loopback requests as made at the
            # server itself: no paired device needed and no per-address throttle.
            options = {"trusted_proxy": "127.0.0.1", "trusted_proxy_count": 1,
                       "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}}
            configure_app_for_https(app)
        click.echo(_("Kho dữ liệu trung tâm đang chạy tại http://%(host)s:%(port)s/ (dữ liệu: %(store)s)",
                     host=host, port=port, store=store_url))
        log.info("serving the central store on http://%s:%s, records in %s", host, port, store_url)
        if workers > 1:
            central_workers.serve(app, engine, host, port, workers, threads, LISTEN_BACKLOG, behind_proxy=behind_proxy)
            return
        waitress.serve(app, host=host, port=port, threads=threads, ident="fieldapp-central", **options)
        return
    _serve_tls(app, engine, host, port, threads, workers, store_url)


def _serve_tls(app, engine, host: str, port: int, threads: int, workers: int, store_url: str) -> None:
    """Serve over HTTPS with a certificate from DATA_DIR/tls until interrupted: cheroot as the site does, or gunicorn workers."""
    import ipaddress

    from .network import local_addresses
    from .tls import (
        TlsFilesError,
        configure_app_for_https,
        https_server,
        prepare_site_tls,
    )

    try:
        addresses = [str(ipaddress.ip_address(host))] if host not in ("0.0.0.0", "::") else local_addresses()
    except ValueError:
        addresses = local_addresses()
    try:
        site_tls = prepare_site_tls(Path(app.config["DATA_DIR"]), addresses)
    except TlsFilesError as error:
        raise FieldappError("central_tls_failed", value=str(error)) from error
    configure_app_for_https(app)
    server = None
    if workers == 1:
        # Bound before the message, so a port in use fails before the server prints that it is running.
        server = https_server(app, host, port, site_tls, threads)
        server.prepare()
    click.echo(_("Kho dữ liệu trung tâm đang chạy tại https://%(host)s:%(port)s/ (dữ liệu: %(store)s)",
                 host=addresses[0], port=port, store=store_url))
    click.echo(_("Chứng chỉ gốc để điểm khám tin cậy: %(file)s", file=site_tls.ca_path))
    click.echo(_("Dấu vân tay SHA-256 của chứng chỉ %(name)s: %(fingerprint)s", name=site_tls.ca_name,
                 fingerprint=site_tls.fingerprint))
    log.info("serving the central store on https://%s:%s, records in %s", host, port, store_url)
    if server is None:
        from .central import workers as central_workers
        from .tls import LISTEN_BACKLOG

        central_workers.serve(app, engine, host, port, workers, threads, LISTEN_BACKLOG,
                              certificate=(str(site_tls.cert_path), str(site_tls.key_path)))
        return
    try:
        server.serve()
    except KeyboardInterrupt:
        log.info("stopping on keyboard interrupt")
    finally:
        server.stop()


@central.group("site")
def site_group():
    """Enrol, list and revoke the sites that send records."""


@site_group.command("add")
@click.argument("name")
@click.option("--new-code", is_flag=True,
              help="Give an existing site a new one-time code, to enrol the same laptop again after a revocation.")
@with_central
def central_site_add(app, engine, name: str, new_code: bool):
    """Add a site and print its one-time enrolment code, valid 7 days, as a QR code and alone on the last line."""
    import qrcode

    from .central import sites
    from .central.store import write

    with write(engine) as connection:
        site, code = sites.add_site(connection, name, new_code_for_existing=new_code)
    expires = sites.local_time(site["code_expires_at"])
    if new_code:
        click.echo(_("Đã cấp mã đăng ký mới cho điểm khám %(name)s; khóa cũ của máy vẫn dùng được đến khi mã mới được dùng.",
                     name=site["name"]))
    else:
        click.echo(_("Đã thêm điểm khám %(name)s.", name=site["name"]))
    click.echo(_("Trên máy của điểm khám, chạy: fieldapp sync enrol ĐỊA-CHỈ-KHO MÃ"))
    click.echo(_("Mã dùng được một lần, đến %(time)s:", time=expires))
    picture = qrcode.QRCode(border=1)
    picture.add_data(code)
    text = io.StringIO()
    picture.print_ascii(out=text, invert=True)
    click.echo(text.getvalue().rstrip("\n"))
    click.echo(code)


@site_group.command("list")
@with_central
def central_site_list(app, engine):
    """List sites: name, state, highest sequence number received, enrolment time and id."""
    from .central import sites

    states = {"enrolled": _("đã đăng ký"), "revoked": _("đã thu hồi khóa"), "waiting": _("chờ đăng ký"),
              "code_expired": _("mã đăng ký đã hết hạn")}
    with engine.connect() as connection:
        found = sites.list_sites(connection)
    if not found:
        click.echo(_("Chưa có điểm khám nào. Thêm bằng: fieldapp central site add TÊN"))
    for site in found:
        enrolled = sites.local_time(site["enrolled_at"]) if site["enrolled_at"] else "—"
        click.echo(f"{site['name']}\t{states[site['state']]}\t{site['acknowledged_through']}\t{enrolled}\t{site['id']}")


@site_group.command("revoke")
@click.argument("name")
@with_central
def central_site_revoke(app, engine, name: str):
    """Revoke a site's key: the central store rejects its requests until it enrols again with a new code."""
    from .central import sites
    from .central.store import write

    with write(engine) as connection:
        site = sites.revoke(connection, name)
    log.info("site %s revoked", site["id"])
    click.echo(_("Đã thu hồi khóa của điểm khám %(name)s. Để máy đó gửi lại được: "
                 "fieldapp central site add \"%(name)s\" --new-code", name=site["name"]))


@central.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@with_central
def central_import(app, engine, file: str):
    """Apply a site's export file (fieldapp sync export); importing the same file again changes nothing."""
    from .central.receive import import_export

    path = Path(file)
    if not path.is_file():
        raise FieldappError("file_not_found", file=file)
    answers = import_export(engine, path.read_bytes())
    totals = {"stored": 0, "merged": 0, "duplicate": 0}
    for answer in answers:
        for item in answer["records"]:
            totals[item["status"]] += 1
    through = answers[-1]["acknowledged_through"] if answers else None
    click.echo(_("%(file)s: %(batches)s lô, %(stored)s bản ghi mới, %(merged)s bản ghi cập nhật, "
                 "%(duplicate)s bản ghi đã có.", file=path.name, batches=len(answers), **totals))
    if through is not None:
        click.echo(_("Kho đã nhận đến bản ghi số %(seq)s của máy này.", seq=through))


@central.group("package")
def package_group():
    """Round packages that sites fetch with fieldapp sync pull."""


@package_group.command("put")
@click.argument("site_name", metavar="SITE")
@click.argument("file", type=click.Path(dir_okay=False))
@with_central
def central_package_put(app, engine, site_name: str, file: str):
    """Keep FILE (from fieldapp sync package) as SITE's round package, replacing the one put before."""
    from .central import sites
    from .central.store import write

    path = Path(file)
    if not path.is_file():
        raise FieldappError("file_not_found", file=file)
    try:
        body = path.read_text(encoding="utf-8")
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise FieldappError("central_package_invalid", file=path.name) from error
    if not isinstance(document, dict):
        raise FieldappError("central_package_invalid", file=path.name)
    with write(engine) as connection:
        site = sites.site_by_name(connection, site_name)
        if site is None:
            raise FieldappError("central_site_not_found", value=site_name)
        sites.put_package(connection, site["id"], body)
    click.echo(_("Đã lưu gói đợt khám cho điểm khám %(name)s; máy ở điểm khám tải về bằng: fieldapp sync pull",
                 name=site["name"]))


# Reports and exports of the central store.


@central.command("report")
@click.option("--year", type=click.IntRange(2000, 2100), required=True, help="Year of the exams (YYYY).")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Excel file to write (.xlsx).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False),
              help="Also write each table of the report as a CSV file into this folder.")
@with_central
def central_report(app, engine, year: int, out: str, csv_dir: str | None):
    """Write the year's report: coverage, findings with charts, follow-up and the people not yet examined."""
    from .central import excel, tables
    from .central.ward import load

    if not out.lower().endswith(".xlsx"):
        raise click.BadParameter(_("Tên tệp báo cáo phải kết thúc bằng .xlsx: %(file)s", file=out), param_hint="--out")
    with engine.connect() as connection:
        ward = load(connection, year)
    excel.write_report(ward, out)
    click.echo(_("Đã ghi báo cáo năm %(year)s: %(file)s", year=year, file=out))
    if csv_dir:
        written = tables.write_csv_folder(ward, Path(csv_dir))
        click.echo(_("Đã ghi %(count)s bảng CSV vào %(folder)s", count=len(written), folder=csv_dir))
    log.info("central report for %s written", year)


@central.command("export-fhir")
@click.option("--out", type=click.Path(file_okay=False), required=True,
              help="Folder for the FHIR R4 bundles, one VISIT_ID.json per examined visit.")
@click.option("--year", type=click.IntRange(2000, 2100), help="Only the exams of this year (default: every year).")
@with_central
def central_export_fhir(app, engine, out: str, year: int | None):
    """Write one FHIR R4 Bundle per examined visit (Patient, Encounter, Observation, Condition), each validated."""
    from .central import fhir
    from .central.ward import load

    with engine.connect() as connection:
        ward = load(connection, year)
    count = fhir.write_bundles(ward, Path(out))
    click.echo(_("Đã ghi %(count)s gói FHIR vào %(folder)s", count=count, folder=out))
    log.info("%s FHIR bundles written", count)
