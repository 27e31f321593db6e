"""The site's side of sync: outbox triggers, batches, enrol, push over real HTTP, export, purge and the round package."""

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE, SAMPLE_DATE
from fake_central import FakeCentral, Server, create_app, free_port

from fieldapp import conclusions, observations
from fieldapp import db as db_module
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.errors import FieldappError
from fieldapp.importer import import_files
from fieldapp.invitations import invite, reissue
from fieldapp.migrations import _SYNCED_0008, MIGRATIONS
from fieldapp.roster import relink, remove_file, roster_date
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.sync import batches, client, outbox, package
from fieldapp.sync.purge import purge
from fieldapp.visits import Consent, Desk, check_in
from fieldapp.walkins import FILE_NAME as WALK_IN_FILE

DAY = dt.date(2026, 10, 15)
LISTS = [SAMPLE / "tdp-01-nguoi-cao-tuoi.xlsx", SAMPLE / "cong-ty-lao-dong.xlsx"]
NO_WAIT = client.Retry(attempts=4, sleep=lambda seconds: None)


def rows(db, sql: str, params=()) -> list[dict]:
    cursor = db.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def records(db, kind: str | None = None) -> list[dict]:
    found = outbox.pending(db, 0, 1_000_000)
    return [record for record in found if kind is None or record["kind"] == kind]


@pytest.fixture
def ward(db) -> dict:
    """Two imported lists, a round with everyone invited, three visits with values and one conclusion."""
    import_files(db, LISTS, SAMPLE_DATE)
    with write(db):
        round_id = create_round(db, "Đợt 1", DAY, 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40)])
        site_id = sites(db, round_id)[0]["id"]
        invite(db, round_id, site_id, "all")
    people = rows(db, "SELECT * FROM person ORDER BY sort_key LIMIT 3")
    visits = [check_in(db, Desk(round_id, site_id, DAY.isoformat()), person, Consent())[0] for person in people]
    with write(db):
        for visit in visits:
            observations.record(db, visit, "pulse", 72, unit="/min")
            observations.record(db, visit, "bp_systolic", 128, unit="mmHg")
        conclusions.save(db, visits[0], conclusions.Conclusion(health_class="II", summary="Bình thường"))
    return {"round_id": round_id, "site_id": site_id, "people": people, "visits": visits}


# Migration and triggers.


@pytest.mark.parametrize("table, columns", [(table, columns) for table, _, columns, _ in _SYNCED_0008])
def test_trigger_columns_match_table(db, table, columns):
    found = tuple(row[1] for row in db.execute(f"PRAGMA table_info({table})").fetchall())

    assert found == columns


@pytest.mark.parametrize("kind", batches.KINDS)
def test_latest_record_matches_each_row(db, ward, kind):
    table_rows = {row["id"]: row for row in rows(db, f"SELECT * FROM {kind}")}

    latest = {record["id"]: record["payload"] for record in records(db, kind)}

    assert table_rows
    assert latest == table_rows


def test_record_times_are_utc(db, ward):
    for record in records(db):
        assert dt.datetime.fromisoformat(record["recorded_at"]).utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("table, change, column, expected", [
    ("exam_round", "UPDATE exam_round SET days = 2", "days", 2),
    ("site", "UPDATE site SET display_full_names = 1", "display_full_names", 1),
    ("visit", "UPDATE visit SET consent_by = 'guardian', guardian_name = 'Lê Thị Hoa'", "guardian_name", "Lê Thị Hoa"),
    ("person", "UPDATE person SET phone = '0912345678'", "phone", "0912345678"),
])
def test_update_appends_record_with_new_value(db, ward, table, change, column, expected):
    before = len(records(db, table))
    count = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    with write(db):
        db.execute(change)

    added = records(db, table)[before:]
    assert len(added) == count
    assert {record["payload"][column] for record in added} == {expected}


@pytest.mark.parametrize("change", [
    "UPDATE exam_round SET days = days, title = title",
    "UPDATE site SET name = name",
    "UPDATE visit SET consent_by = consent_by",
    "UPDATE person SET full_name = full_name",
    "UPDATE person SET updated_at = '2030-01-01T00:00:00+00:00'",
    "UPDATE invitation SET printed_at = '2026-10-01T00:00:00+00:00'",
])
def test_update_without_change_appends_nothing(db, ward, change):
    before = outbox.last_seq(db)

    with write(db):
        db.execute(change)

    assert outbox.last_seq(db) == before


def test_reissue_appends_void_and_new_invitation(db, ward):
    old = rows(db, "SELECT * FROM invitation WHERE status = 'active' LIMIT 1")[0]
    before = outbox.last_seq(db)

    with write(db):
        new_id = reissue(db, old["id"])

    added = outbox.pending(db, before, 10)
    assert [(record["id"], record["payload"]["status"]) for record in added] == [(old["id"], "void"), (new_id, "active")]
    assert added[0]["payload"]["replaced_by"] == new_id


def test_relink_unchanged_appends_nothing(db, ward):
    before = outbox.last_seq(db)

    with write(db):
        people = relink(db, roster_date(db))

    assert people == db.execute("SELECT count(*) FROM person").fetchone()[0]
    assert outbox.last_seq(db) == before


def test_relink_after_change_appends_changed_person_only(db, ward):
    person = ward["people"][0]
    with write(db):
        db.execute("UPDATE source_row SET phone = '0987654321', parent_phone = NULL WHERE person_id = ?", [person["id"]])
    before = outbox.last_seq(db)

    with write(db):
        relink(db, roster_date(db))

    added = outbox.pending(db, before, 10)
    assert [record["id"] for record in added] == [person["id"]]
    assert added[0]["payload"]["phone"] == "0987654321"


def test_removed_list_recorded_as_removals(db, ward):
    listed = {row[0] for row in db.execute(
        "SELECT person_id FROM source_row WHERE file_name = ?", [LISTS[1].name]).fetchall()}
    with write(db):
        remove_file(db, LISTS[1].name, roster_date(db))
    remaining = {row[0] for row in db.execute("SELECT id FROM person").fetchall()}
    before = outbox.last_seq(db)

    with write(db):
        removed = outbox.record_removals(db)

    added = outbox.pending(db, before, 10_000)
    assert removed == len(listed - remaining) > 0
    assert {record["id"] for record in added} == listed - remaining
    assert all(record["payload"] == {"id": record["id"], "removed": True} for record in added)
    with write(db):
        assert outbox.record_removals(db) == 0


def test_paused_write_appends_nothing(db, ward):
    before = outbox.last_seq(db)

    with write(db), outbox.paused(db):
        db.execute("UPDATE site SET capacity = capacity + 1")

    assert outbox.last_seq(db) == before
    assert outbox.PAUSED not in outbox.state(db)


def test_migration_seeds_rows_stored_before(data_dir, monkeypatch):
    path = data_dir / "old.db"
    monkeypatch.setattr(db_module, "MIGRATIONS", [m for m in MIGRATIONS if m[0] != "0008_outbox"])
    old = connect(path)
    with write(old):
        create_round(old, "Đợt cũ", DAY, 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40)])
    old.conn.close()
    monkeypatch.setattr(db_module, "MIGRATIONS", MIGRATIONS)

    upgraded = connect(path)

    assert [record["kind"] for record in records(upgraded)] == ["exam_round", "site"]
    assert records(upgraded)[0]["payload"]["name"] == "Đợt cũ"
    upgraded.conn.close()


# Batches and counts.


def test_pending_makes_valid_batches(db, ward):
    first = outbox.pending(db, 0, 50)
    second = outbox.pending(db, 50, 50)

    for part in (first, second):
        batches.check_batch(batches.make_batch("site-1", part))
    assert [record["seq"] for record in first + second] == list(range(1, 101))


def test_mark_sent_counts_and_resets(db, ward):
    last = outbox.last_seq(db)

    with write(db):
        outbox.mark_sent(db, last)
    sent = outbox.counts(db)
    with write(db):
        outbox.mark_sent(db, 10)
    reset = outbox.counts(db)

    assert (sent.total, sent.unsent, sent.acknowledged_through) == (last, 0, last)
    assert (reset.unsent, reset.acknowledged_through) == (last - 10, 10)


# URLs and enrolment.


@pytest.mark.parametrize("url, expected", [
    ("https://kho.example.vn/", "https://kho.example.vn"),
    ("https://10.0.0.5:9443", "https://10.0.0.5:9443"),
    ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
    ("http://localhost:9000/", "http://localhost:9000"),
    ("http://[::1]:9000", "http://[::1]:9000"),
])
def test_check_url_accepts(url, expected):
    assert client.check_url(url) == expected


@pytest.mark.parametrize("url, code", [
    ("http://192.168.1.5:9000", "sync_url_insecure"),
    ("http://kho.example.vn", "sync_url_insecure"),
    ("http://127.0.0.2:9000", "sync_url_insecure"),
    ("http://localhost.example.vn", "sync_url_insecure"),
    ("ftp://kho.example.vn", "sync_url_invalid"),
    ("kho.example.vn", "sync_url_invalid"),
    ("https://", "sync_url_invalid"),
])
def test_check_url_rejects(url, code):
    with pytest.raises(FieldappError) as raised:
        client.check_url(url)

    assert raised.value.code == code


@pytest.fixture
def central():
    state = FakeCentral()
    server = Server(create_app(state))
    state.url = server.url
    yield state
    server.stop()


def enrol(db, data_dir: Path, central: FakeCentral, name: str = "Trạm Y tế An Lạc") -> client.Enrolment:
    client.enrol(db, data_dir, central.url, central.new_code(name), retry=NO_WAIT)
    return client.enrolment(db, data_dir)


def test_enrol_keeps_private_key_and_state(db, data_dir, central):
    site = enrol(db, data_dir, central)

    key_file = data_dir / client.KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert central.sites[site.site_id]["public_key"] == batches.public_key_text(site.key)
    assert outbox.state(db)[outbox.CENTRAL_URL] == central.url
    assert site.site_name == "Trạm Y tế An Lạc"


def test_enrol_wrong_code_rejected(db, data_dir, central):
    with pytest.raises(FieldappError) as raised:
        client.enrol(db, data_dir, central.url, "sai-ma", retry=NO_WAIT)

    assert raised.value.code == "sync_enrol_code_invalid"
    assert not (data_dir / client.KEY_FILE).exists()
    assert outbox.SITE_ID not in outbox.state(db)


def test_enrol_plain_http_elsewhere_sends_nothing(db, data_dir, central):
    with pytest.raises(FieldappError) as raised:
        client.enrol(db, data_dir, "http://192.168.1.5:9000", central.new_code("X"), retry=NO_WAIT)

    assert raised.value.code == "sync_url_insecure"
    assert central.paths == []


def test_commands_need_enrolment(db, data_dir):
    with pytest.raises(FieldappError) as raised:
        client.enrolment(db, data_dir)

    assert raised.value.code == "sync_not_enrolled"


# Push.


def push(db, site: client.Enrolment, retry: client.Retry = NO_WAIT, batch_size: int = 40) -> client.PushResult:
    with client.connect(site, retry) as central:
        return client.push(db, central, batch_size)


def held_by(central: FakeCentral, site_id: str) -> list[dict]:
    return [record for (owner, _), record in sorted(central.records.items()) if owner == site_id]


def test_push_sends_every_record_once(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    total = outbox.last_seq(db)

    result = push(db, site)

    assert held_by(central, site.site_id) == records(db)
    assert central.stored == total
    assert (result.sent, result.acknowledged_through, result.unsent) == (total, total, 0)
    assert result.batches == -(-total // 40)
    assert outbox.counts(db).unsent == 0


def test_push_again_sends_only_new_records(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    push(db, site)
    with write(db):
        observations.record(db, ward["visits"][1], "weight_kg", 61.5, unit="kg")

    result = push(db, site)

    assert (result.sent, result.batches) == (1, 1)
    assert held_by(central, site.site_id)[-1]["payload"]["value_num"] == 61.5
    assert central.stored == outbox.last_seq(db)


@pytest.mark.parametrize("faults", [
    ["503"],
    ["drop"],
    ["apply_then_drop"],
    ["apply_then_drop", "drop", "503"],
])
def test_push_survives_failures_on_the_way(db, data_dir, ward, central, faults):
    site = enrol(db, data_dir, central)
    central.faults = [None, *faults]
    retries = []

    result = push(db, site, client.Retry(attempts=5, sleep=lambda s: None, notify=lambda n, why: retries.append(n)))

    assert held_by(central, site.site_id) == records(db)
    assert central.stored == outbox.last_seq(db)
    assert result.unsent == 0
    assert retries == list(range(2, len(faults) + 2))


def test_push_gives_up_and_marks_nothing(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    central.faults = ["503"] * 4

    with pytest.raises(FieldappError) as raised:
        push(db, site)

    assert raised.value.code == "sync_unreachable"
    assert raised.value.fields["field"] == NO_WAIT.attempts
    assert outbox.counts(db).unsent == outbox.last_seq(db)


def test_push_to_stopped_central_then_resumes(db, data_dir, ward):
    state = FakeCentral()
    server = Server(create_app(state))
    state.url = server.url
    site = enrol(db, data_dir, state)
    state.faults = [None, "drop"] + ["503"] * 3
    with pytest.raises(FieldappError):
        push(db, site)
    sent_before = outbox.counts(db)

    result = push(db, site)
    server.stop()

    assert 0 < sent_before.acknowledged_through < outbox.last_seq(db)
    assert held_by(state, site.site_id) == records(db)
    assert result.sent == outbox.last_seq(db) - sent_before.acknowledged_through


def test_push_refused_connection_is_unreachable(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    closed = client.Enrolment(site.site_id, site.site_name, f"http://127.0.0.1:{free_port()}", site.key, site.verify)

    with pytest.raises(FieldappError) as raised:
        push(db, closed)

    assert raised.value.code == "sync_unreachable"


def test_push_resends_after_sequence_gap(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    central.status_offset = 30

    result = push(db, site)

    assert held_by(central, site.site_id) == records(db)
    assert result.acknowledged_through == outbox.last_seq(db)


def test_push_resends_what_a_restored_central_lost(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    push(db, site)
    central.acknowledged[site.site_id] = 25
    for key in [key for key in central.records if key[1] > 25]:
        del central.records[key]

    result = push(db, site)

    assert result.sent == outbox.last_seq(db) - 25
    assert held_by(central, site.site_id) == records(db)


def test_push_central_ahead_rejected(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    central.status_offset = outbox.last_seq(db) + 5

    with pytest.raises(FieldappError) as raised:
        push(db, site)

    assert raised.value.code == "sync_central_ahead"


@pytest.mark.parametrize("spoil, code", [
    ("revoke", "sync_site_revoked"),
    ("other_key", "sync_key_rejected"),
    ("unknown_site", "sync_key_rejected"),
])
def test_push_with_bad_key_rejected(db, data_dir, ward, central, spoil, code):
    site = enrol(db, data_dir, central)
    if spoil == "revoke":
        central.sites[site.site_id]["revoked"] = True
    elif spoil == "other_key":
        site = client.Enrolment(site.site_id, site.site_name, site.url, batches.new_private_key(), site.verify)
    else:
        site = client.Enrolment("no-such-site", site.site_name, site.url, site.key, site.verify)

    with pytest.raises(FieldappError) as raised:
        push(db, site)

    assert raised.value.code == code
    assert central.stored == 0
    assert outbox.counts(db).unsent == outbox.last_seq(db)


def test_push_after_purged_records_lost_rejected(db, data_dir, ward, central):
    site = enrol(db, data_dir, central)
    push(db, site)
    with write(db):
        db.execute("DELETE FROM outbox WHERE seq = 1")
    central.acknowledged[site.site_id] = 0

    with pytest.raises(FieldappError) as raised:
        push(db, site)

    assert raised.value.code == "sync_records_missing"


def test_push_over_https_with_central_ca(db, data_dir, ward, tmp_path):
    from fieldapp.tls import prepare_site_tls

    state = FakeCentral()
    central_tls = prepare_site_tls(tmp_path / "central", ["127.0.0.1"], "central")
    server = Server(create_app(state), central_tls)
    try:
        with pytest.raises(FieldappError) as untrusted:
            client.enrol(db, data_dir, server.url, state.new_code("Trạm"), retry=NO_WAIT)
        client.enrol(db, data_dir, server.url, state.new_code("Trạm"), ca=central_tls.ca_path, retry=NO_WAIT)
        site = client.enrolment(db, data_dir)
        result = push(db, site, batch_size=2000)
    finally:
        server.stop()

    assert untrusted.value.code == "sync_tls_failed"
    assert (data_dir / client.CA_FILE).read_bytes() == central_tls.ca_path.read_bytes()
    assert result.unsent == 0
    assert len(held_by(state, site.site_id)) == outbox.last_seq(db)


# Export.


def read_export(path: Path, site: client.Enrolment) -> dict:
    document = json.loads(path.read_text(encoding="utf-8"))
    signature = document.pop("signature")
    batches.verify(batches.public_key_text(site.key), batches.canonical(document), signature)
    return document


def test_export_writes_signed_unsent_batches(db, data_dir, ward, central, tmp_path):
    site = enrol(db, data_dir, central)
    out = tmp_path / "usb" / "an-lac.json"
    out.parent.mkdir()

    result = client.export(db, site, out, batch_size=40)

    document = read_export(out, site)
    for batch in document["batches"]:
        batches.check_batch(batch)
    exported = [record for batch in document["batches"] for record in batch["records"]]
    assert document["format"] == client.EXPORT_FORMAT
    assert document["site_id"] == site.site_id
    assert exported == records(db)
    assert (result.records, result.first_seq, result.last_seq) == (len(exported), 1, outbox.last_seq(db))
    assert outbox.counts(db).unsent == outbox.last_seq(db)


def test_export_after_push_holds_only_the_rest(db, data_dir, ward, central, tmp_path):
    site = enrol(db, data_dir, central)
    push(db, site)
    with write(db):
        observations.record(db, ward["visits"][2], "weight_kg", 48.0, unit="kg")
    out = tmp_path / "rest.json"

    result = client.export(db, site, out)

    document = read_export(out, site)
    assert [record["seq"] for batch in document["batches"] for record in batch["records"]] == [outbox.last_seq(db)]
    assert result.batches == 1


def test_export_altered_file_fails_verification(db, data_dir, ward, central, tmp_path):
    site = enrol(db, data_dir, central)
    out = tmp_path / "an-lac.json"
    client.export(db, site, out)
    document = json.loads(out.read_text(encoding="utf-8"))
    document["batches"][0]["records"][0]["payload"]["name"] = "Đợt khác"
    out.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(batches.BatchError):
        read_export(out, site)


def test_export_nothing_unsent_writes_no_file(db, data_dir, ward, central, tmp_path):
    site = enrol(db, data_dir, central)
    push(db, site)
    out = tmp_path / "empty.json"

    result = client.export(db, site, out)

    assert result.batches == 0
    assert not out.exists()


# Purge.


def acknowledge_all(db) -> None:
    with write(db):
        outbox.mark_sent(db, outbox.last_seq(db))


def test_purge_clears_personal_data_of_old_acknowledged_visits(db, ward):
    acknowledge_all(db)
    person = ward["people"][0]
    with write(db):
        db.execute("UPDATE visit SET guardian_name = 'Lê Thị Hoa' WHERE person_id = ?", [person["id"]])
    acknowledge_all(db)
    observation_count = db.execute("SELECT count(*) FROM observation").fetchone()[0]
    before = outbox.last_seq(db)

    with write(db):
        result = purge(db, 30, today=DAY + dt.timedelta(days=60))

    purged = rows(db, "SELECT * FROM person WHERE id = ?", [person["id"]])[0]
    assert result.people == 3
    assert result.visits == 1
    assert purged["full_name"] == f"Đã xóa {person['id']}"
    assert [purged[column] for column in ("cccd", "cmnd", "phone", "address", "parent_name", "parent_phone")] == [None] * 6
    assert (purged["birth_date"], purged["sex"], purged["groups"]) == (person["birth_date"], person["sex"], person["groups"])
    source = rows(db, "SELECT * FROM source_row WHERE person_id = ?", [person["id"]])
    assert len(source) == 1
    assert (source[0]["cccd"], source[0]["phone"], source[0]["raw"]) == (None, None, "[]")
    assert db.execute("SELECT guardian_name FROM visit WHERE person_id = ?", [person["id"]]).fetchone()[0] is None
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == observation_count
    assert outbox.last_seq(db) == before
    assert not [record for record in records(db) if person["id"] in (record["id"], record["payload"].get("person_id"))]


def test_purge_then_relink_appends_nothing(db, ward):
    acknowledge_all(db)
    with write(db):
        purge(db, 30, today=DAY + dt.timedelta(days=60))
    people = {row[0] for row in db.execute("SELECT id FROM person").fetchall()}
    before = outbox.last_seq(db)

    with write(db):
        relink(db, roster_date(db))
        removals = outbox.record_removals(db)

    assert {row[0] for row in db.execute("SELECT id FROM person").fetchall()} == people
    assert (outbox.last_seq(db), removals) == (before, 0)


@pytest.mark.parametrize("days_later, retention, expected", [
    (60, 30, 3),
    (60, 59, 3),
    (60, 60, 0),
    (10, 30, 0),
])
def test_purge_only_after_retention(db, ward, days_later, retention, expected):
    acknowledge_all(db)

    with write(db):
        result = purge(db, retention, today=DAY + dt.timedelta(days=days_later))

    assert result.people == expected


def test_purge_skips_people_with_unsent_records(db, ward):
    acknowledge_all(db)
    with write(db):
        observations.record(db, ward["visits"][1], "weight_kg", 61.5, unit="kg")

    with write(db):
        result = purge(db, 30, today=DAY + dt.timedelta(days=60))

    assert result.people == 2
    kept = db.execute("SELECT full_name FROM person WHERE id = ?", [ward["people"][1]["id"]]).fetchone()[0]
    assert kept == ward["people"][1]["full_name"]


def test_purge_nothing_before_enrolment(db, ward):
    with write(db):
        result = purge(db, 1, today=DAY + dt.timedelta(days=400))

    assert result.people == 0


# The round package.


@pytest.fixture
def laptop(tmp_path):
    folder = tmp_path / "laptop"
    folder.mkdir()
    database = connect(folder / DATABASE_NAME)
    yield database
    database.conn.close()


def test_package_round_trip_keeps_people_and_ids(db, ward, laptop):
    built = package.build(db, "Đợt 1")

    with write(laptop):
        counts = package.apply(laptop, json.loads(batches.canonical(built)))

    station_people = {row[0] for row in db.execute("SELECT id FROM person").fetchall()}
    assert {row[0] for row in laptop.execute("SELECT id FROM person").fetchall()} == station_people
    assert counts == {"round": "Đợt 1", "sites": 1, "invitations": len(station_people), "people": len(station_people),
                      "staff": 3}
    assert rows(laptop, "SELECT * FROM invitation ORDER BY id") == rows(
        db, "SELECT * FROM invitation WHERE status = 'active' ORDER BY id")
    assert rows(laptop, "SELECT username, role, pin_hash FROM staff ORDER BY username") == rows(
        db, "SELECT username, role, pin_hash FROM staff ORDER BY username")
    assert outbox.last_seq(laptop) == 0


def test_package_pulled_twice_changes_nothing(db, ward, laptop):
    built = json.loads(batches.canonical(package.build(db, "Đợt 1")))
    with write(laptop):
        package.apply(laptop, built)
    people = rows(laptop, "SELECT * FROM person ORDER BY id")

    with write(laptop):
        package.apply(laptop, built)

    assert rows(laptop, "SELECT id, full_name, cccd FROM person ORDER BY id") == [
        {key: person[key] for key in ("id", "full_name", "cccd")} for person in people]
    assert outbox.last_seq(laptop) == 0


def test_package_for_one_site_holds_its_people(db, ward):
    with write(db):
        round_id = create_round(db, "Đợt 2", DAY, 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40),
                                                       SiteSpec("Công ty", "1 Lê Lợi", 40)])
        company = next(site for site in sites(db, round_id) if site["name"] == "Công ty")
        invite(db, round_id, company["id"], "list", LISTS[1].name)

    built = package.build(db, "Đợt 2", ("Công ty",))

    listed = {row[0] for row in db.execute("SELECT person_id FROM source_row WHERE file_name = ?", [LISTS[1].name])}
    assert [site["name"] for site in built["sites"]] == ["Công ty"]
    assert {row["person_id"] for row in built["source_rows"]} == listed


def test_package_unknown_site_rejected(db, ward):
    with pytest.raises(FieldappError) as raised:
        package.build(db, "Đợt 1", ("Trường học",))

    assert raised.value.code == "site_not_found"


def test_package_merging_local_person_sends_it(db, ward, laptop):
    built = json.loads(batches.canonical(package.build(db, "Đợt 1")))
    listed = rows(db, "SELECT * FROM source_row WHERE person_id = ? LIMIT 1", [ward["people"][0]["id"]])[0]
    with write(laptop):
        laptop["source_file"].insert({"id": "walk-in-file", "name": WALK_IN_FILE, "sha256": "x", "kind": "list",
                                      "imported_at": "2026-10-14T00:00:00+00:00",
                                      "report": json.dumps({"as_of": SAMPLE_DATE.isoformat()})})
        # Two walk-in rows of the same person without an address: the merged person keeps their id.
        for row_no in (1, 2):
            laptop["source_row"].insert({**listed, "id": f"walk-in-{row_no}", "file_id": "walk-in-file",
                                         "file_name": WALK_IN_FILE, "row_no": row_no, "address": None,
                                         "person_id": "walk-in-person"})
        relink(laptop, roster_date(laptop))
    before = outbox.last_seq(laptop)

    with write(laptop):
        package.apply(laptop, built)

    added = outbox.pending(laptop, before, 100)
    assert [record["id"] for record in added] == ["walk-in-person"]
    assert added[0]["payload"]["address"] == listed["address"]


@pytest.mark.parametrize("broken, value", [
    ({"format": "other"}, "other"),
    ({"format": package.FORMAT}, "round, sites, station_plans, invitations, source_rows, link_decisions, staff"),
    ([], "list"),
])
def test_package_check_rejects(broken, value):
    with pytest.raises(FieldappError) as raised:
        package.check(broken)

    assert raised.value.code == "sync_package_invalid"
    assert raised.value.fields["value"] == value


def test_pull_fetches_and_stores_package(db, ward, central, tmp_path):
    laptop_dir = tmp_path / "laptop-pull"
    laptop_dir.mkdir()
    laptop_db = connect(laptop_dir / DATABASE_NAME)
    site = enrol(laptop_db, laptop_dir, central, "Điểm trường")
    central.packages[site.site_id] = json.loads(batches.canonical(package.build(db, "Đợt 1")))

    with client.connect(site, NO_WAIT) as session:
        fetched = client.pull(session)
    with write(laptop_db):
        package.apply(laptop_db, fetched)

    assert laptop_db.execute("SELECT name FROM exam_round").fetchone()[0] == "Đợt 1"
    assert laptop_db.execute("SELECT count(*) FROM person").fetchone()[0] == db.execute(
        "SELECT count(*) FROM person").fetchone()[0]
    laptop_db.conn.close()


def test_pull_without_package_rejected(db, data_dir, central):
    site = enrol(db, data_dir, central)

    with client.connect(site, NO_WAIT) as session, pytest.raises(FieldappError) as raised:
        client.pull(session)

    assert raised.value.code == "sync_no_package"


# Commands.


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


def test_cli_enrol_push_status_export(db, data_dir, ward, central, tmp_path):
    enrolled = invoke("sync", "enrol", central.url, central.new_code("Trạm Y tế An Lạc"), "--data-dir", data_dir)
    pushed = invoke("sync", "push", "--batch-size", 50, "--data-dir", data_dir)
    status = invoke("sync", "status", "--data-dir", data_dir)
    exported = invoke("sync", "export", "--out", tmp_path / "x.json", "--data-dir", data_dir)

    last = outbox.last_seq(db)
    assert enrolled.exit_code == 0, enrolled.output
    assert "Đã đăng ký máy này với kho dữ liệu trung tâm" in enrolled.output
    assert pushed.exit_code == 0, pushed.output
    assert f"kho dữ liệu trung tâm đã nhận đến bản ghi số {last}; còn 0 bản ghi chưa gửi." in pushed.output
    assert "Đã gửi bản ghi 1–50; kho đã nhận đến bản ghi số 50." in pushed.output
    assert f"Kho dữ liệu trung tâm trả lời: đã nhận đến bản ghi số {last}." in status.output
    assert "Không có bản ghi nào chưa gửi, nên không ghi tệp." in exported.output
    assert db.execute("SELECT count(*) FROM audit_event WHERE action = 'sync_pushed'").fetchone()[0] == 1


def test_cli_enrol_plain_http_elsewhere_fails(data_dir):
    result = CliRunner().invoke(main, ["sync", "enrol", "http://192.168.1.5:9000", "abcd", "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    assert "chỉ được dùng khi kho dữ liệu trung tâm chạy trên chính máy này" in result.output


def test_cli_push_not_enrolled_fails(data_dir):
    result = CliRunner().invoke(main, ["sync", "push", "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    assert "Máy này chưa đăng ký với kho dữ liệu trung tâm." in result.output


def test_cli_purge_without_retention_purges_nothing(db, ward):
    acknowledge_all(db)

    result = CliRunner().invoke(main, ["sync", "purge", "--data-dir", str(db_path_folder(db))],
                                env={"FIELDAPP_SYNC_RETENTION_DAYS": ""})

    assert result.exit_code == 0
    assert "nên không xóa gì" in result.output
    assert db.execute("SELECT count(*) FROM sync_purged").fetchone()[0] == 0


def test_cli_purge_with_days(db, ward):
    acknowledge_all(db)

    result = invoke("sync", "purge", "--days", 1, "--data-dir", db_path_folder(db))

    assert result.exit_code == 0, result.output
    assert "Đã xóa dữ liệu cá nhân của 3 người" in result.output


def test_cli_package_file_private(db, ward, tmp_path):
    out = tmp_path / "goi.json"

    result = invoke("sync", "package", "--round", "Đợt 1", "--out", out, "--data-dir", db_path_folder(db))

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert package.read_file(out)["round"]["name"] == "Đợt 1"


def db_path_folder(db) -> Path:
    return Path(db.execute("PRAGMA database_list").fetchone()[2]).parent

