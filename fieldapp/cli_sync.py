"""Commands for sync: enrol with the central store, push, status, export to a file, pull and make the round package, purge."""

from pathlib import Path

import click
from flask_babel import gettext as _

from .cliapp import with_app

CA_HELP = "PEM file of the CA that signed the central store's certificate (default: the one given at enrol, "\
          "else the system's CA store)."


def register(main: click.Group) -> None:
    """Add the sync commands to the fieldapp command."""
    main.add_command(sync_group)


@click.group("sync")
def sync_group():
    """Send this site's records to the central store or to a file; pull the round package; purge old data."""


def _notify(attempt: int, reason: str) -> None:
    click.echo(_("Chưa kết nối được (%(reason)s); thử lại lần %(attempt)s...", reason=reason, attempt=attempt), err=True)


def _retry(attempts: int | None = None):
    from .sync.client import Retry

    return Retry(notify=_notify) if attempts is None else Retry(attempts=attempts, notify=_notify)


def _audit(db, action: str, detail: dict) -> None:
    from .auth import audit
    from .db import write

    with write(db):
        audit(db, action, detail={**detail, "via": "command"})


@sync_group.command("enrol")
@click.argument("url")
@click.argument("code")
@click.option("--ca", type=click.Path(dir_okay=False), help=CA_HELP)
@with_app
def sync_enrol(app, db, url: str, code: str, ca: str | None):
    """Enrol this site with the central store at URL using the one-time enrolment CODE.

    Plain http:// is accepted only for a central store on this machine (127.0.0.1, ::1, localhost).
    """
    from .sync import client

    data_dir = Path(app.config["DATA_DIR"])
    site = client.enrol(db, data_dir, url, code, ca=ca, retry=_retry())
    _audit(db, "sync_enrolled", {"site_id": site["site_id"]})
    click.echo(_("Đã đăng ký máy này với kho dữ liệu trung tâm %(url)s: điểm '%(name)s', mã điểm %(site)s.",
                 url=client.check_url(url), name=site["name"], site=site["site_id"]))
    click.echo(_("Khóa của máy được lưu ở %(path)s; sao lưu cả thư mục dữ liệu.", path=data_dir / client.KEY_FILE))


@sync_group.command("push")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 10_000),
              help="Records per batch (one HTTPS request each).")
@click.option("--ca", type=click.Path(dir_okay=False), help=CA_HELP)
@with_app
def sync_push(app, db, batch_size: int, ca: str | None):
    """Send every record the central store does not hold yet; an interrupted push resumes where it stopped."""
    from .sync import client

    site = client.enrolment(db, Path(app.config["DATA_DIR"]), ca)

    def progress(batch: dict, acknowledged: int) -> None:
        click.echo(_("Đã gửi bản ghi %(first)s–%(last)s; kho đã nhận đến bản ghi số %(ack)s.",
                     first=batch["first_seq"], last=batch["last_seq"], ack=acknowledged))

    with client.connect(site, _retry()) as central:
        result = client.push(db, central, batch_size, progress)
    _audit(db, "sync_pushed", {"records": result.sent, "acknowledged_through": result.acknowledged_through})
    click.echo(_("Xong: đã gửi %(sent)s bản ghi (%(dup)s bản ghi kho đã có từ trước); kho dữ liệu trung tâm đã "
                 "nhận đến bản ghi số %(ack)s; còn %(unsent)s bản ghi chưa gửi.", sent=result.sent,
                 dup=result.duplicates, ack=result.acknowledged_through, unsent=result.unsent))


@sync_group.command("status")
@click.option("--ca", type=click.Path(dir_okay=False), help=CA_HELP)
@with_app
def sync_status(app, db, ca: str | None):
    """Show the enrolment and how many records are not sent yet, then request the central store's acknowledged_through."""
    from .sync import client, outbox

    settings = outbox.state(db)
    _echo_counts(outbox.counts(db))
    if outbox.SITE_ID not in settings:
        click.echo(_("Máy này chưa đăng ký với kho dữ liệu trung tâm (fieldapp sync enrol ĐỊA-CHỈ MÃ)."))
        return
    click.echo(_("Điểm '%(name)s' (mã %(site)s), kho dữ liệu trung tâm %(url)s, đăng ký lúc %(at)s.",
                 name=settings.get(outbox.SITE_NAME, ""), site=settings[outbox.SITE_ID],
                 url=settings[outbox.CENTRAL_URL], at=settings.get(outbox.ENROLLED_AT, "")))

    site = client.enrolment(db, Path(app.config["DATA_DIR"]), ca)
    # Fewer attempts than a push: an officer checking the status is waiting at the screen.
    with client.connect(site, _retry(attempts=3)) as central:
        acknowledged = client.central_acknowledged(db, central)
    click.echo(_("Kho dữ liệu trung tâm trả lời: đã nhận đến bản ghi số %(ack)s.", ack=acknowledged))
    _echo_counts(outbox.counts(db))


def _echo_counts(counts) -> None:
    click.echo(_("Dữ liệu cần gửi: %(total)s bản ghi, số mới nhất %(last)s; kho đã nhận đến số %(ack)s; "
                 "còn %(unsent)s bản ghi chưa gửi.", total=counts.total, last=counts.last_seq,
                 ack=counts.acknowledged_through, unsent=counts.unsent))


@sync_group.command("export")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write (JSON), for example on a USB stick.")
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 10_000), help="Records per batch.")
@with_app
def sync_export(app, db, out: str, batch_size: int):
    """Write every unsent record to one signed file, for `fieldapp central import` where there is no internet."""
    from .sync import client

    site = client.enrolment(db, Path(app.config["DATA_DIR"]))
    result = client.export(db, site, Path(out), batch_size)
    if not result.batches:
        click.echo(_("Không có bản ghi nào chưa gửi, nên không ghi tệp."))
        return
    _audit(db, "sync_exported", {"records": result.records, "first_seq": result.first_seq,
                                 "last_seq": result.last_seq})
    click.echo(_("Đã ghi %(n)s bản ghi (số %(first)s–%(last)s, %(batches)s lô) vào %(file)s.", n=result.records,
                 first=result.first_seq, last=result.last_seq, batches=result.batches, file=out))
    click.echo(_("Tệp có dữ liệu sức khỏe: chỉ đưa cho người quản lý kho dữ liệu trung tâm để nhập bằng "
                 "fieldapp central import. Các bản ghi được đánh dấu đã gửi khi fieldapp sync push hoặc "
                 "fieldapp sync status thấy kho đã nhận."))


@sync_group.command("pull")
@click.option("--ca", type=click.Path(dir_okay=False), help=CA_HELP)
@with_app
def sync_pull(app, db, ca: str | None):
    """Fetch this site's round package from the central store: round, sites, station plans, invited people, staff."""
    from .db import write
    from .sync import client, package

    site = client.enrolment(db, Path(app.config["DATA_DIR"]), ca)
    with client.connect(site, _retry()) as central:
        fetched = client.pull(central)
    with write(db):
        counts = package.apply(db, fetched)
    _audit(db, "sync_package_pulled", counts)
    click.echo(_("Đã tải gói đợt khám '%(round)s': %(sites)s điểm khám, %(invitations)s giấy mời, %(people)s người, "
                 "%(staff)s tài khoản.", **counts))


@sync_group.command("package")
@click.option("--round", "round_name", required=True, help="Name of the round.")
@click.option("--site", "site_names", multiple=True,
              help="Only the people invited to this exam site of the round (repeatable; default: every site).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="File to write (JSON).")
@with_app
def sync_package(app, db, round_name: str, site_names: tuple[str, ...], out: str):
    """Write the round package for a site laptop, for `fieldapp central package put` on the central store."""
    from .sync import package

    built = package.build(db, round_name, site_names)
    package.write_file(built, Path(out))
    counts = package.summary(built)
    _audit(db, "sync_package_written", counts)
    click.echo(_("Đã ghi gói đợt khám '%(round)s' vào %(file)s: %(sites)s điểm khám, %(invitations)s giấy mời, "
                 "%(people)s người, %(staff)s tài khoản.", file=out, **counts))
    click.echo(_("Tệp có dữ liệu cá nhân và mã băm của mã PIN: chỉ gửi cho người quản lý kho dữ liệu trung tâm."))


@sync_group.command("purge")
@click.option("--days", type=click.IntRange(min=1), envvar="FIELDAPP_SYNC_RETENTION_DAYS",
              help="Retention period in days (env FIELDAPP_SYNC_RETENTION_DAYS; default: not set, nothing is purged).")
@with_app
def sync_purge(app, db, days: int | None):
    """Clear names, ID numbers, phones and addresses of people examined more than N days ago, once the central store has them."""
    from .db import write
    from .sync.purge import purge

    days = days or app.config.get("SYNC_RETENTION_DAYS")
    if not days:
        click.echo(_("Chưa đặt thời hạn giữ dữ liệu (--days hoặc FIELDAPP_SYNC_RETENTION_DAYS), nên không xóa gì."))
        return
    with write(db):
        result = purge(db, int(days))
    _audit(db, "sync_purged", {"people": result.people, "cutoff": result.cutoff})
    click.echo(_("Đã xóa dữ liệu cá nhân của %(people)s người khám trước ngày %(cutoff)s mà kho dữ liệu trung tâm "
                 "đã nhận; xóa tên người giám hộ ở %(visits)s lượt khám và xóa %(records)s bản ghi đã gửi.",
                 people=result.people, cutoff=result.cutoff, visits=result.visits, records=result.outbox_records))
