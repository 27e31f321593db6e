"""The central record store on SQLite and PostgreSQL: enrolment, batches, merges, the API, the commands, a real server.

Every test that takes `engine` or `central_url` runs once per database. PostgreSQL comes from the
throwaway cluster of tests/pgserver.py; without initdb those runs are skipped with the reason.
"""

import concurrent.futures
import datetime as dt
import json
import logging
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from click.testing import CliRunner
from conftest import PERSONAS
from pgserver import postgres_url  # noqa: F401  (a fixture)
from sqlalchemy import func, select, update

from fieldapp import create_app
from fieldapp.auth import add_staff
from fieldapp.central import people, receive, sites, store
from fieldapp.central.schema import batch as batch_table
from fieldapp.central.schema import central_site, metadata, person_history, person_link, record
from fieldapp.central.store import StoreError, write
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect, new_id
from fieldapp.errors import FieldappError
from fieldapp.sync import batches

SERVER_START_SECONDS = 30


@pytest.fixture(params=["sqlite", "postgresql"])
def central_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(central_url: str):
    engine = store.connect(central_url)
    yield engine
    # The PostgreSQL database lives for the whole session: leave it empty for the next test.
    metadata.drop_all(engine)
    engine.dispose()


# Sites, records and signed requests.


def enrolled_site(engine, name: str = "Trạm Y tế An Lạc") -> SimpleNamespace:
    """Add a site, enrol it with a new key and return its id, name and private key."""
    key = batches.new_private_key()
    with write(engine) as connection:
        site, code = sites.add_site(connection, name)
    with write(engine) as connection:
        sites.enrol(connection, code, batches.public_key_text(key))
    return SimpleNamespace(id=site["id"], name=site["name"], key=key)


def person(seq: int, person_id: str, recorded_at: str = "2026-10-15T08:00:00+07:00", **fields) -> dict:
    payload = {"id": person_id, "full_name": "Nguyễn Văn An", "birth_date": "1950-03-02", "sex": "M",
               "cccd": None, "cmnd": None, "phone": "0912345678", "address": "12 Lê Lợi", "tdp": "7",
               "groups": "2", "updated_at": recorded_at}
    payload.update(fields)
    return {"seq": seq, "kind": "person", "id": person_id, "recorded_at": recorded_at, "payload": payload}


def observation(seq: int, record_id: str | None = None, value: float = 128.0,
                recorded_at: str = "2026-10-15T08:31:02+07:00") -> dict:
    record_id = record_id or new_id()
    payload = {"id": record_id, "visit_id": "v1", "person_id": "p1", "item": "sbp", "reading": 1,
               "value_num": value, "unit": "mmHg", "measured_at": recorded_at, "recorded_at": recorded_at}
    return {"seq": seq, "kind": "observation", "id": record_id, "recorded_at": recorded_at, "payload": payload}


def observations(first: int, last: int) -> list[dict]:
    return [observation(seq) for seq in range(first, last + 1)]


def signed(site: SimpleNamespace, value: object) -> tuple[str, bytes, str]:
    body = batches.canonical(value)
    return site.id, body, batches.sign(site.key, body)


def push(engine, site: SimpleNamespace, items: list[dict]) -> dict:
    return receive.receive_batch(engine, *signed(site, batches.make_batch(site.id, items)))


def statuses(answer: dict) -> list[str]:
    return [item["status"] for item in answer["records"]]


def held(engine, kind: str | None = None) -> list[dict]:
    query = select(record).order_by(record.c.kind, record.c.id)
    if kind:
        query = query.where(record.c.kind == kind)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def acknowledged(engine, site: SimpleNamespace) -> int:
    with engine.connect() as connection:
        return connection.execute(select(central_site.c.acknowledged_through)
                                  .where(central_site.c.id == site.id)).scalar_one()


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


# Enrolment.


def test_enrol_code_works_once(engine):
    key = batches.new_private_key()
    with write(engine) as connection:
        site, code = sites.add_site(connection, "Trạm Y tế An Lạc")

    with write(engine) as connection:
        enrolled = sites.enrol(connection, code, batches.public_key_text(key))
    with pytest.raises(StoreError) as again, write(engine) as connection:
        sites.enrol(connection, code, batches.public_key_text(batches.new_private_key()))

    assert enrolled["id"] == site["id"]
    assert again.value.code == "enrol_code_invalid"
    assert again.value.status == 403
    with engine.connect() as connection:
        assert sites.site_by_id(connection, site["id"])["public_key"] == batches.public_key_text(key)


def test_enrol_code_typed_loosely_accepted(engine):
    with write(engine) as connection:
        site, code = sites.add_site(connection, "Trạm Y tế An Lạc")
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")

    with write(engine) as connection:
        enrolled = sites.enrol(connection, typed, batches.public_key_text(batches.new_private_key()))

    assert enrolled["id"] == site["id"]


@pytest.mark.parametrize("spoil, code", [
    ("wrong", "enrol_code_invalid"),
    ("expired", "enrol_code_invalid"),
    ("revoked", "enrol_code_invalid"),
    ("short key", "enrol_key_invalid"),
    ("not base64", "enrol_key_invalid"),
])
def test_enrol_rejected(engine, spoil, code):
    with write(engine) as connection:
        site, issued = sites.add_site(connection, "Trạm Y tế An Lạc")
    public_key = batches.public_key_text(batches.new_private_key())
    if spoil == "wrong":
        issued = sites.new_code()
    elif spoil == "expired":
        with write(engine) as connection:
            connection.execute(update(central_site).values(code_expires_at="2020-01-01T00:00:00+00:00"))
    elif spoil == "revoked":
        with write(engine) as connection:
            sites.revoke(connection, site["name"])
    elif spoil == "short key":
        public_key = "AAAA"
    else:
        public_key = "not base64!"

    with pytest.raises(StoreError) as rejected, write(engine) as connection:
        sites.enrol(connection, issued, public_key)

    assert rejected.value.code == code
    with engine.connect() as connection:
        assert sites.site_by_id(connection, site["id"])["public_key"] is None


def test_add_site_twice_needs_new_code_option(engine):
    with write(engine) as connection:
        first, old_code = sites.add_site(connection, "Trạm Y tế An Lạc")
    with pytest.raises(FieldappError) as exists, write(engine) as connection:
        sites.add_site(connection, "  Trạm Y tế  An Lạc ")

    with write(engine) as connection:
        again, new_code = sites.add_site(connection, "Trạm Y tế An Lạc", new_code_for_existing=True)

    assert exists.value.code == "central_site_exists"
    assert again["id"] == first["id"]
    assert new_code != old_code
    with pytest.raises(StoreError), write(engine) as connection:
        sites.enrol(connection, old_code, batches.public_key_text(batches.new_private_key()))


def test_reenrol_after_revoke_keeps_sequence(engine):
    site = enrolled_site(engine)
    push(engine, site, observations(1, 3))
    with write(engine) as connection:
        sites.revoke(connection, site.name)
        _, code = sites.add_site(connection, site.name, new_code_for_existing=True)
    new_key = batches.new_private_key()
    with write(engine) as connection:
        sites.enrol(connection, code, batches.public_key_text(new_key))
    site.key = new_key

    answer = push(engine, site, observations(4, 5))

    assert statuses(answer) == ["stored", "stored"]
    assert answer["acknowledged_through"] == 5


# Batches.


def test_batch_stored(engine):
    site = enrolled_site(engine)
    items = [person(1, "p1"), *observations(2, 4)]

    answer = push(engine, site, items)

    assert answer == {"acknowledged_through": 4,
                      "records": [{"seq": seq, "status": "stored"} for seq in (1, 2, 3, 4)]}
    rows = held(engine)
    assert [(row["kind"], row["id"], row["seq"], row["site_id"]) for row in rows] == sorted(
        (item["kind"], item["id"], item["seq"], site.id) for item in items)
    assert {row["id"]: json.loads(row["payload"]) for row in rows} == {item["id"]: item["payload"] for item in items}
    assert acknowledged(engine, site) == 4


def test_same_batch_twice_changes_nothing(engine):
    site = enrolled_site(engine)
    batch = batches.make_batch(site.id, [person(1, "p1"), *observations(2, 3)])
    push_signed = signed(site, batch)
    receive.receive_batch(engine, *push_signed)
    before = held(engine)

    again = receive.receive_batch(engine, *push_signed)

    assert statuses(again) == ["duplicate"] * 3
    assert again["acknowledged_through"] == 3
    assert held(engine) == before
    assert count(engine, batch_table) == 1


def test_same_batch_at_once_applied_once(engine):
    site = enrolled_site(engine)
    request = signed(site, batches.make_batch(site.id, [person(1, "p1", cccd="001050012345"), *observations(2, 40)]))

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: receive.receive_batch(engine, *request), range(4)))

    outcomes = sorted(tuple(sorted(set(statuses(answer)))) for answer in answers)
    assert outcomes == [("duplicate",)] * 3 + [("stored",)]
    assert len(held(engine)) == 40
    assert count(engine, batch_table) == 1
    assert links(engine) == {"p1": ("p1", "own")}
    assert acknowledged(engine, site) == 40


def test_old_batch_replayed_changes_nothing(engine):
    site = enrolled_site(engine)
    first = observations(1, 3)
    push(engine, site, first)
    push(engine, site, observations(4, 6))
    before = held(engine)

    replay = push(engine, site, first)

    assert statuses(replay) == ["duplicate"] * 3
    assert replay["acknowledged_through"] == 6
    assert held(engine) == before
    assert acknowledged(engine, site) == 6


def test_overlapping_batch_applies_only_new_records(engine):
    site = enrolled_site(engine)
    items = observations(1, 5)
    push(engine, site, items[:3])

    answer = push(engine, site, items[1:])

    assert statuses(answer) == ["duplicate", "duplicate", "stored", "stored"]
    assert answer["acknowledged_through"] == 5
    assert len(held(engine)) == 5


def test_sequence_gap_answers_expected_seq(engine):
    site = enrolled_site(engine)
    push(engine, site, observations(1, 2))

    with pytest.raises(StoreError) as gap:
        push(engine, site, observations(5, 6))

    assert gap.value.code == "sequence_gap"
    assert gap.value.status == 409
    assert gap.value.extra == {"expected_seq": 3}
    assert len(held(engine)) == 2
    assert acknowledged(engine, site) == 2


def test_batch_altered_before_signing_rejected_by_hash(engine):
    site = enrolled_site(engine)
    batch = batches.make_batch(site.id, observations(1, 2))
    batch["records"][1]["payload"]["value_num"] = 180.0

    with pytest.raises(StoreError) as rejected:
        receive.receive_batch(engine, *signed(site, batch))

    assert (rejected.value.code, rejected.value.status) == ("batch_hash", 400)
    assert held(engine) == []
    assert acknowledged(engine, site) == 0


def test_batch_altered_in_transit_rejected_by_signature(engine):
    site = enrolled_site(engine)
    site_id, body, signature = signed(site, batches.make_batch(site.id, observations(1, 2)))
    altered = body.replace(b'"value_num":128.0', b'"value_num":180.0', 1)

    with pytest.raises(StoreError) as rejected:
        receive.receive_batch(engine, site_id, altered, signature)

    assert altered != body
    assert (rejected.value.code, rejected.value.status) == ("signature", 401)
    assert held(engine) == []


@pytest.mark.parametrize("spoil, code, status", [
    ("other key", "signature", 401),
    ("no signature", "signature", 401),
    ("garbled signature", "signature", 401),
    ("unknown site", "unknown_site", 401),
    ("revoked", "site_revoked", 403),
])
def test_batch_from_wrong_sender_rejected(engine, spoil, code, status):
    site = enrolled_site(engine)
    site_id, body, signature = signed(site, batches.make_batch(site.id, observations(1, 2)))
    if spoil == "other key":
        signature = batches.sign(batches.new_private_key(), body)
    elif spoil == "no signature":
        signature = None
    elif spoil == "garbled signature":
        signature = "%%%"
    elif spoil == "unknown site":
        site_id = new_id()
    else:
        with write(engine) as connection:
            sites.revoke(connection, site.name)

    with pytest.raises(StoreError) as rejected:
        receive.receive_batch(engine, site_id, body, signature)

    assert (rejected.value.code, rejected.value.status) == (code, status)
    assert held(engine) == []


def spoil_batch(batch: dict, how: str) -> dict:
    if how == "format":
        batch["format"] = "fieldapp-batch/0"
    elif how == "empty":
        batch.update(records=[], hash=batches.content_hash([]))
    elif how == "order":
        batch["records"].reverse()
        batch["hash"] = batches.content_hash(batch["records"])
    elif how == "range":
        batch["last_seq"] = 9
    elif how == "kind":
        batch["records"][0]["kind"] = "staff"
        batch["hash"] = batches.content_hash(batch["records"])
    elif how == "id with tab":
        batch["records"][0]["id"] = "a\tb"
        batch["hash"] = batches.content_hash(batch["records"])
    elif how == "seq as text":
        batch["records"][0]["seq"] = "1"
        batch["hash"] = batches.content_hash(batch["records"])
    elif how == "bad time":
        batch["records"][0]["recorded_at"] = "15/10/2026"
        batch["hash"] = batches.content_hash(batch["records"])
    elif how == "other site":
        batch["site_id"] = new_id()
    elif how == "no site":
        del batch["site_id"]
    return batch


@pytest.mark.parametrize("how, code", [
    ("format", "batch_format"),
    ("empty", "batch_empty"),
    ("order", "batch_order"),
    ("range", "batch_range"),
    ("kind", "batch_record"),
    ("id with tab", "batch_record"),
    ("seq as text", "batch_record"),
    ("bad time", "batch_record"),
    ("other site", "batch_format"),
    ("no site", "batch_format"),
])
def test_malformed_batch_rejected(engine, how, code):
    site = enrolled_site(engine)
    batch = spoil_batch(batches.make_batch(site.id, observations(1, 2)), how)

    with pytest.raises(StoreError) as rejected:
        receive.receive_batch(engine, *signed(site, batch))

    assert (rejected.value.code, rejected.value.status) == (code, 400)
    assert held(engine) == []


def test_body_not_json_rejected(engine):
    site = enrolled_site(engine)
    body = b"not json"

    with pytest.raises(StoreError) as rejected:
        receive.receive_batch(engine, site.id, body, batches.sign(site.key, body))

    assert rejected.value.code == "batch_format"


def test_observation_same_id_later_is_duplicate(engine):
    site = enrolled_site(engine)
    first = observation(1, "o1", value=128.0)
    push(engine, site, [first])

    answer = push(engine, site, [observation(2, "o1", value=150.0)])

    assert statuses(answer) == ["duplicate"]
    assert json.loads(held(engine, "observation")[0]["payload"])["value_num"] == 128.0
    assert acknowledged(engine, site) == 2


def change(seq: int, kind: str, record_id: str, recorded_at: str, **payload) -> dict:
    return {"seq": seq, "kind": kind, "id": record_id, "recorded_at": recorded_at, "payload": {"id": record_id, **payload}}


def test_changed_record_newer_replaces_whole(engine):
    site = enrolled_site(engine)
    push(engine, site, [change(1, "invitation", "i1", "2026-10-01T08:00:00+07:00", status="active", date="2026-10-15")])

    answer = push(engine, site, [change(2, "invitation", "i1", "2026-10-02T08:00:00+07:00", status="void")])

    assert statuses(answer) == ["merged"]
    row = held(engine, "invitation")[0]
    assert json.loads(row["payload"]) == {"id": "i1", "status": "void"}
    assert row["recorded_at"] == "2026-10-02T08:00:00+07:00"
    assert row["seq"] == 1


def test_changed_record_from_other_site_older_kept_out(engine):
    site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
    push(engine, site_a, [change(1, "visit", "v1", "2026-10-15T10:00:00+07:00", consent_by="self")])

    answer = push(engine, site_b, [change(1, "visit", "v1", "2026-10-15T09:00:00+07:00", consent_by=None)])

    assert statuses(answer) == ["merged"]
    assert json.loads(held(engine, "visit")[0]["payload"])["consent_by"] == "self"


def test_same_record_twice_in_one_batch(engine):
    site = enrolled_site(engine)
    items = [person(1, "p1", phone="0900000001"), person(2, "p1", "2026-10-15T09:00:00+07:00", phone="0900000002")]

    answer = push(engine, site, items)

    assert statuses(answer) == ["stored", "merged"]
    assert json.loads(held(engine, "person")[0]["payload"])["phone"] == "0900000002"


# People across sites.


def payload_of(engine, person_id: str) -> dict:
    return next(json.loads(row["payload"]) for row in held(engine, "person") if row["id"] == person_id)


def history(engine) -> list[dict]:
    query = select(person_history.c.person_id, person_history.c.field, person_history.c.kept_value,
                   person_history.c.other_value, person_history.c.kept_site, person_history.c.other_site,
                   person_history.c.recorded_at).order_by(person_history.c.id)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


def test_person_edits_of_one_site_leave_no_history(engine):
    site = enrolled_site(engine)
    push(engine, site, [person(1, "p1", "2026-10-15T08:00:00+07:00")])

    answer = push(engine, site, [person(2, "p1", "2026-10-15T09:00:00+07:00", phone="0900000002")])

    assert statuses(answer) == ["merged"]
    assert payload_of(engine, "p1")["phone"] == "0900000002"
    assert history(engine) == []


def test_person_older_edit_kept_in_history(engine):
    site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
    push(engine, site_a, [person(1, "p1", "2026-10-15T08:00:00+07:00", phone="0900000001"),
                          person(2, "p1", "2026-10-15T10:00:00+07:00", phone="0900000003")])

    answer = push(engine, site_b, [person(1, "p1", "2026-10-15T09:00:00+07:00", phone="0900000002")])

    assert statuses(answer) == ["merged"]
    assert payload_of(engine, "p1")["phone"] == "0900000003"
    assert history(engine) == [{"person_id": "p1", "field": "phone", "kept_value": "0900000003",
                                "other_value": "0900000002", "kept_site": site_a.id, "other_site": site_b.id,
                                "recorded_at": "2026-10-15T09:00:00+07:00"}]


def test_person_newer_edit_from_other_site_wins(engine):
    site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
    push(engine, site_a, [person(1, "p1", "2026-10-15T08:00:00+07:00", phone="0900000001", address="12 Lê Lợi")])

    push(engine, site_b, [person(1, "p1", "2026-10-15T11:00:00+07:00", phone="0900000002", address="12 Lê Lợi")])

    merged = payload_of(engine, "p1")
    assert (merged["phone"], merged["address"]) == ("0900000002", "12 Lê Lợi")
    assert [(row["field"], row["kept_value"], row["other_value"], row["kept_site"], row["other_site"])
            for row in history(engine)] == [("phone", "0900000002", "0900000001", site_b.id, site_a.id)]


def test_person_merge_same_whichever_arrives_first(tmp_path):
    results = []
    for order, folder in (("a first", "one"), ("b first", "two")):
        engine = store.connect(f"sqlite:///{tmp_path / folder}.db")
        site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
        edits = {site_a.id: [person(1, "p1", "2026-10-15T08:00:00+07:00", phone="0900000001", tdp="7")],
                 site_b.id: [person(1, "p1", "2026-10-15T09:00:00+07:00", phone="0900000002", tdp="7")]}
        sites_in_order = [site_a, site_b] if order == "a first" else [site_b, site_a]
        for site in sites_in_order:
            push(engine, site, edits[site.id])
        merged = payload_of(engine, "p1")
        results.append((merged["phone"], merged["tdp"]))
        engine.dispose()

    assert results == [("0900000002", "7"), ("0900000002", "7")]


def test_person_removal_marks_removed_and_keeps_details(engine):
    site = enrolled_site(engine)
    push(engine, site, [person(1, "p1", cccd="001050012345")])

    push(engine, site, [change(2, "person", "p1", "2026-10-16T08:00:00+07:00", removed=True)])

    merged = payload_of(engine, "p1")
    assert merged["removed"] is True
    assert merged["full_name"] == "Nguyễn Văn An"
    with engine.connect() as connection:
        assert connection.execute(select(person_link).where(person_link.c.person_id == "p1")).first() is None


def links(engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(person_link.c.person_id, person_link.c.central_person_id,
                                         person_link.c.reason)).all()
    return {person_id: (central, reason) for person_id, central, reason in rows}


def test_people_of_two_sites_merged_by_cccd(engine):
    site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
    push(engine, site_a, [person(1, "pa", cccd="001050012345")])

    push(engine, site_b, [person(1, "pb", full_name="Nguyễn Văn Ân", cccd="001050012345")])

    assert links(engine) == {"pa": ("pa", "own"), "pb": ("pa", "id_number")}
    with engine.connect() as connection:
        assert store.central_person_of(connection, "pb") == "pa"
        assert store.central_person_of(connection, "pa") == "pa"
        assert people.central_people(connection) == {"pa": "pa", "pb": "pa"}


def test_same_cccd_from_two_sites_at_once_linked(engine):
    site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
    numbers = [f"0010500{n:05d}" for n in range(300)]
    requests = [signed(site, batches.make_batch(site.id, [person(seq, f"{prefix}{seq}", cccd=number)
                                                         for seq, number in enumerate(numbers, start=1)]))
                for site, prefix in ((site_a, "pa"), (site_b, "pb"))]

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda request: receive.receive_batch(engine, *request), requests))

    found = links(engine)
    for seq in range(1, len(numbers) + 1):
        pair = (found[f"pa{seq}"], found[f"pb{seq}"])
        assert {central for central, _reason in pair} in ({f"pa{seq}"}, {f"pb{seq}"}), pair


@pytest.mark.parametrize("a_fields, b_fields, expected", [
    ({"cmnd": "012345678"}, {"cmnd": "012345678"}, ("pa", "id_number")),
    ({"cccd": "001050012345", "cmnd": "012345678"}, {"cmnd": "012345678"}, ("pa", "id_number")),
    ({"cccd": "001050012345"}, {"cccd": "001050099999"}, ("pb", "own")),
    ({}, {}, ("pb", "review")),
    ({"cccd": "001050012345"}, {}, ("pb", "review")),
    ({}, {"birth_date": "1951-03-02"}, ("pb", "own")),
])
def test_people_of_two_sites_linked_by_rule(engine, a_fields, b_fields, expected):
    site_a, site_b = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")
    push(engine, site_a, [person(1, "pa", **a_fields)])

    push(engine, site_b, [person(1, "pb", **b_fields)])

    assert links(engine)["pb"] == expected
    with engine.connect() as connection:
        candidates = people.review_candidates(connection)
    assert candidates == ([{"person_id": "pb", "review_with": "pa"}] if expected[1] == "review" else [])


def test_removed_central_person_hands_over_to_member(engine):
    site_a, site_b, site_c = (enrolled_site(engine, name) for name in ("Trạm A", "Trạm B", "Trạm C"))
    push(engine, site_a, [person(1, "pa", cccd="001050012345")])
    push(engine, site_b, [person(1, "pb", cccd="001050012345")])
    push(engine, site_c, [person(1, "pc", cccd="001050012345")])

    push(engine, site_a, [change(2, "person", "pa", "2026-10-16T08:00:00+07:00", removed=True)])

    assert links(engine) == {"pb": ("pb", "own"), "pc": ("pb", "id_number")}


# Reading records for reports, status and packages.


def test_records_yields_payloads_with_site(engine):
    site = enrolled_site(engine)
    items = [observation(1, "o1", recorded_at="2025-12-31T23:00:00+07:00"),
             observation(2, "o2", recorded_at="2026-01-01T00:30:00+07:00")]
    push(engine, site, items)

    with engine.connect() as connection:
        every = list(store.records(connection, "observation"))
        in_2026 = list(store.records(connection, "observation", year=2026))
        persons = list(store.records(connection, "person"))

    assert every == [{**items[0]["payload"], "_site_id": site.id}, {**items[1]["payload"], "_site_id": site.id}]
    assert [item["id"] for item in in_2026] == ["o2"]
    assert persons == []


def test_status_returns_acknowledged_through(engine):
    site = enrolled_site(engine)
    push(engine, site, observations(1, 4))

    answer = receive.status(engine, *signed(site, {"site_id": site.id, "at": "2026-10-15T17:00:00+07:00"}))

    assert answer == {"acknowledged_through": 4}


def test_status_for_other_site_in_body_rejected(engine):
    site, other = enrolled_site(engine, "Trạm A"), enrolled_site(engine, "Trạm B")

    with pytest.raises(StoreError) as rejected:
        receive.status(engine, *signed(site, {"site_id": other.id, "at": "2026-10-15T17:00:00+07:00"}))

    assert rejected.value.code == "batch_format"


def test_package_put_then_fetched(engine):
    site = enrolled_site(engine)
    request = signed(site, {"site_id": site.id, "at": "2026-10-15T17:00:00+07:00"})
    with pytest.raises(StoreError) as missing:
        receive.round_package(engine, *request)
    with write(engine) as connection:
        sites.put_package(connection, site.id, '{"format": "first"}')
        sites.put_package(connection, site.id, '{"format": "second"}')

    body = receive.round_package(engine, *request)

    assert (missing.value.code, missing.value.status) == ("no_package", 404)
    assert body == '{"format": "second"}'


# Export files.


def export_file(site: SimpleNamespace, batch_list: list[dict]) -> bytes:
    document = {"format": receive.EXPORT_FORMAT, "site_id": site.id, "batches": batch_list}
    document["signature"] = batches.sign(site.key, batches.canonical(document))
    return json.dumps(document).encode()


def test_import_file_twice_changes_nothing(engine):
    site = enrolled_site(engine)
    data = export_file(site, [batches.make_batch(site.id, observations(1, 3)),
                              batches.make_batch(site.id, [person(4, "p1")])])

    first = receive.import_export(engine, data)
    before = held(engine)
    second = receive.import_export(engine, data)

    assert [statuses(answer) for answer in first] == [["stored"] * 3, ["stored"]]
    assert [statuses(answer) for answer in second] == [["duplicate"] * 3, ["duplicate"]]
    assert held(engine) == before
    assert acknowledged(engine, site) == 4


@pytest.mark.parametrize("spoil, code", [
    ("altered", "central_import_signature"),
    ("revoked", "central_import_site_revoked"),
    ("unknown site", "central_import_site_unknown"),
    ("not json", "central_import_unreadable"),
    ("other format", "central_import_unreadable"),
    ("gap", "central_import_sequence_gap"),
    ("bad batch", "central_import_batch_invalid"),
])
def test_import_file_rejected(engine, spoil, code):
    site = enrolled_site(engine)
    first = 5 if spoil == "gap" else 1
    batch = batches.make_batch(site.id, observations(first, first + 1))
    if spoil == "bad batch":
        batch["hash"] = "0" * 64
    data = export_file(site, [batch])
    if spoil == "altered":
        data = data.replace(b"128.0", b"180.0", 1)
    elif spoil == "revoked":
        with write(engine) as connection:
            sites.revoke(connection, site.name)
    elif spoil == "unknown site":
        data = export_file(SimpleNamespace(id=new_id(), key=site.key), [batch])
    elif spoil == "not json":
        data = b"PK\x03\x04"
    elif spoil == "other format":
        data = json.dumps({"format": "fieldapp-export/9", "batches": []}).encode()

    with pytest.raises(FieldappError) as rejected:
        receive.import_export(engine, data)

    assert rejected.value.code == code
    assert held(engine) == []


# The HTTP API inside the central app.


@pytest.fixture
def central_app(tmp_path: Path, central_url: str, engine):
    app = create_app({"ROLE": "central", "DATA_DIR": str(tmp_path / "central"), "CENTRAL_DATABASE": central_url,
                      "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})
    app.extensions["central_engine"] = engine
    with app.app_context():
        db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
        add_staff(db, "officer", "Officer", *PERSONAS["officer"])
        db.conn.close()
    return app


def api_post(client, path: str, site: SimpleNamespace | None, value: object, **headers):
    body = batches.canonical(value)
    if site is not None:
        headers.update({"X-Fieldapp-Site": site.id, "X-Fieldapp-Signature": batches.sign(site.key, body)})
    return client.post(path, data=body, headers=headers, content_type="application/json")


def test_api_needs_no_csrf_or_sign_in(central_app, engine):
    client = central_app.test_client()
    with write(engine) as connection:
        site_row, code = sites.add_site(connection, "Trạm Y tế An Lạc")
    key = batches.new_private_key()

    enrolled = api_post(client, "/api/enrol", None, {"code": code, "public_key": batches.public_key_text(key)})
    site = SimpleNamespace(id=site_row["id"], key=key)
    pushed = api_post(client, "/api/batches", site, batches.make_batch(site.id, observations(1, 2)))
    status = api_post(client, "/api/status", site, {"site_id": site.id, "at": "2026-10-15T17:00:00+07:00"})

    assert (enrolled.status_code, enrolled.get_json()) == (200, {"site_id": site.id, "name": "Trạm Y tế An Lạc"})
    assert pushed.status_code == 200
    assert pushed.get_json()["acknowledged_through"] == 2
    assert pushed.get_data() == batches.canonical(pushed.get_json())
    assert status.get_json() == {"acknowledged_through": 2}


@pytest.mark.parametrize("path, value, status, answer", [
    ("/api/enrol", {"code": "0000-0000-0000-0000", "public_key": "AAAA"}, 400, {"error": "enrol_key_invalid"}),
    ("/api/enrol", {"public_key": "AAAA"}, 403, {"error": "enrol_code_invalid"}),
    ("/api/status", {"site_id": "x"}, 401, {"error": "unknown_site"}),
    ("/api/batches", {"format": "fieldapp-batch/1"}, 401, {"error": "unknown_site"}),
    ("/api/package", {"site_id": "x"}, 401, {"error": "unknown_site"}),
])
def test_api_errors_are_json(central_app, path, value, status, answer):
    response = api_post(central_app.test_client(), path, None, value)

    assert (response.status_code, response.get_json()) == (status, answer)


def test_api_gap_answers_expected_seq(central_app, engine):
    site = enrolled_site(engine)

    response = api_post(central_app.test_client(), "/api/batches", site, batches.make_batch(site.id, observations(3, 4)))

    assert (response.status_code, response.get_json()) == (409, {"error": "sequence_gap", "expected_seq": 1})


def test_api_body_over_limit_rejected(central_app, engine, monkeypatch):
    from fieldapp.central import api

    monkeypatch.setattr(api, "BODY_MAX_BYTES", 1000)
    site = enrolled_site(engine)

    response = api_post(central_app.test_client(), "/api/batches", site, batches.make_batch(site.id, observations(1, 20)))

    assert response.status_code == 413
    assert response.get_json()["error"] == "batch_too_large"
    assert held(engine) == []


def test_api_logs_one_line_per_batch_without_payloads(central_app, engine, caplog):
    site = enrolled_site(engine)
    items = [person(1, "p1", full_name="Trần Thị Bình", cccd="001190012345"), *observations(2, 3)]

    with caplog.at_level(logging.INFO, logger="fieldapp.central.receive"):
        api_post(central_app.test_client(), "/api/batches", site, batches.make_batch(site.id, items))

    lines = [entry.getMessage() for entry in caplog.records if entry.name == "fieldapp.central.receive"]
    assert len(lines) == 1
    assert f"site {site.id} seq 1-3: 3 stored, 0 merged, 0 duplicate" in lines[0]
    assert "Bình" not in lines[0]
    assert "001190012345" not in lines[0]


def test_api_logs_rejection_with_site_and_code(central_app, engine, caplog):
    site = enrolled_site(engine)
    body = batches.canonical(batches.make_batch(site.id, observations(1, 2)))
    headers = {"X-Fieldapp-Site": site.id, "X-Fieldapp-Signature": batches.sign(batches.new_private_key(), body)}
    forged = {"X-Fieldapp-Site": "x\x1b[31mred", "X-Fieldapp-Signature": "AAAA"}

    with caplog.at_level(logging.WARNING, logger="fieldapp.central.api"):
        client = central_app.test_client()
        client.post("/api/batches", data=body, headers=headers, content_type="application/json")
        client.post("/api/batches", data=body, headers=forged, content_type="application/json")

    lines = [entry.getMessage() for entry in caplog.records if entry.name == "fieldapp.central.api"]
    assert lines == [f"/api/batches from site {site.id} rejected: signature",
                     "/api/batches from site x?[31mred rejected: unknown_site"]


def test_central_pages_need_sign_in(central_app):
    client = central_app.test_client()

    anonymous = client.get("/central/")
    login = client.get("/login")
    home = client.get("/")

    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].endswith("/login")
    assert login.status_code == 200
    assert "Đăng nhập" in login.get_data(as_text=True)
    assert home.headers["Location"].endswith("/login")


def test_central_sign_in_lands_on_central_page(central_app):
    client = central_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    signed_in = client.post("/login", data={"username": "officer", "pin": PERSONAS["officer"][1], "csrf_token": token})
    home = client.get("/")
    index = client.get("/central/")

    assert signed_in.headers["Location"].endswith("/central/")
    assert home.headers["Location"].endswith("/central/")
    assert index.status_code == 200
    assert "Kho dữ liệu trung tâm" in index.get_data(as_text=True)
    assert client.get("/roster/").status_code == 404


# Commands.


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, [str(arg) for arg in args], env=env, catch_exceptions=False)


def test_site_add_prints_code_alone_on_last_line(tmp_path, central_url, engine):
    result = invoke("central", "site", "add", "Trạm Y tế An Lạc", "--data-dir", tmp_path / "c", "--database", central_url)

    code = result.output.rstrip("\n").splitlines()[-1]
    assert result.exit_code == 0
    assert len(code) == 19
    assert "█" in result.output
    with write(engine) as connection:
        enrolled = sites.enrol(connection, code, batches.public_key_text(batches.new_private_key()))
    assert enrolled["name"] == "Trạm Y tế An Lạc"


def test_site_commands_list_and_revoke(tmp_path):
    folder = tmp_path / "c"
    invoke("central", "site", "add", "Trạm A", "--data-dir", folder)
    invoke("central", "site", "add", "Trạm B", "--data-dir", folder)

    revoked = invoke("central", "site", "revoke", "Trạm B", "--data-dir", folder)
    listed = invoke("central", "site", "list", "--data-dir", folder)
    missing = invoke("central", "site", "revoke", "Trạm C", "--data-dir", folder)

    assert revoked.exit_code == 0
    assert [line.split("\t")[:3] for line in listed.output.splitlines()] == [
        ["Trạm A", "chờ đăng ký", "0"], ["Trạm B", "đã thu hồi khóa", "0"]]
    assert missing.exit_code == 1
    assert "Kho không có điểm khám nào tên 'Trạm C'." in missing.output


def test_site_add_existing_name_fails_without_new_code(tmp_path):
    folder = tmp_path / "c"
    invoke("central", "site", "add", "Trạm A", "--data-dir", folder)

    again = invoke("central", "site", "add", "Trạm A", "--data-dir", folder)
    renewed = invoke("central", "site", "add", "Trạm A", "--new-code", "--data-dir", folder)

    assert again.exit_code == 1
    assert "Kho đã có điểm khám tên 'Trạm A'." in again.output
    assert renewed.exit_code == 0


def test_import_command_twice(tmp_path, central_url, engine):
    site = enrolled_site(engine)
    path = tmp_path / "export.json"
    path.write_bytes(export_file(site, [batches.make_batch(site.id, [person(1, "p1"), *observations(2, 3)])]))

    first = invoke("central", "import", path, "--data-dir", tmp_path / "c", "--database", central_url)
    second = invoke("central", "import", path, "--data-dir", tmp_path / "c", "--database", central_url)

    assert first.exit_code == 0
    assert "export.json: 1 lô, 3 bản ghi mới, 0 bản ghi cập nhật, 0 bản ghi đã có." in first.output
    assert "0 bản ghi mới, 0 bản ghi cập nhật, 3 bản ghi đã có." in second.output
    assert len(held(engine)) == 3


def test_import_command_altered_file_fails(tmp_path, central_url, engine):
    site = enrolled_site(engine)
    path = tmp_path / "export.json"
    path.write_bytes(export_file(site, [batches.make_batch(site.id, observations(1, 2))]).replace(b"128.0", b"120.0"))

    result = invoke("central", "import", path, "--data-dir", tmp_path / "c", "--database", central_url)

    assert result.exit_code == 1
    assert "Chữ ký của tệp không khớp" in result.output
    assert held(engine) == []


def test_package_put_command(tmp_path, central_url, engine):
    site = enrolled_site(engine)
    good, bad = tmp_path / "package.json", tmp_path / "bad.json"
    good.write_text('{"format": "fieldapp-package/1", "rounds": []}', encoding="utf-8")
    bad.write_text("[1, 2]", encoding="utf-8")

    put = invoke("central", "package", "put", site.name, good, "--data-dir", tmp_path / "c", "--database", central_url)
    refused = invoke("central", "package", "put", site.name, bad, "--data-dir", tmp_path / "c", "--database", central_url)

    assert put.exit_code == 0
    assert refused.exit_code == 1
    assert "Tệp bad.json không phải gói đợt khám." in refused.output
    with engine.connect() as connection:
        assert sites.package_for(connection, site.id) == good.read_text(encoding="utf-8")


def test_database_unreachable_reported_without_password(tmp_path):
    port = free_port()

    result = invoke("central", "site", "list", "--data-dir", tmp_path / "c",
                    "--database", f"postgresql://fieldapp:secret-word@127.0.0.1:{port}/central")

    assert result.exit_code == 1
    assert "Không kết nối được cơ sở dữ liệu postgresql+psycopg://fieldapp:***@127.0.0.1" in result.output
    assert "secret-word" not in result.output


def test_database_from_environment(tmp_path):
    database = tmp_path / "elsewhere.db"

    invoke("central", "site", "add", "Trạm A", "--data-dir", tmp_path / "c",
           env={"FIELDAPP_CENTRAL_DATABASE": f"sqlite:///{database}"})

    assert database.is_file()
    assert not (tmp_path / "c" / "central.db").exists()


# A real `fieldapp central serve` process.


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(data_dir: Path, database: str, log: Path, *options: str) -> tuple[subprocess.Popen, int]:
    """Start `fieldapp central serve` on a free port; fail with its output if it exits or never listens."""
    port = free_port()
    command = [sys.executable, "-m", "fieldapp.cli", "central", "serve", "--data-dir", str(data_dir),
               "--database", database, "--port", str(port), *options]
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "FIELDAPP_LANG": "vi"})
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"central serve exited with code {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    pytest.fail(f"central serve did not listen on port {port}:\n{log.read_text(errors='replace')}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def http_post(client: httpx.Client, path: str, site: SimpleNamespace | None, value: object) -> httpx.Response:
    body = batches.canonical(value)
    headers = {"Content-Type": "application/json"}
    if site is not None:
        headers.update({"X-Fieldapp-Site": site.id, "X-Fieldapp-Signature": batches.sign(site.key, body)})
    return client.post(path, content=body, headers=headers)


def test_server_enrol_push_revoke(tmp_path, central_url, engine):
    data_dir, log = tmp_path / "central", tmp_path / "server.log"
    added = invoke("central", "site", "add", "Trạm Y tế An Lạc", "--data-dir", data_dir, "--database", central_url)
    code = added.output.rstrip("\n").splitlines()[-1]
    server, port = start_server(data_dir, central_url, log)
    key = batches.new_private_key()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            enrolled = http_post(client, "/api/enrol", None, {"code": code, "public_key": batches.public_key_text(key)})
            site = SimpleNamespace(id=enrolled.json()["site_id"], key=key)
            items = [person(1, "p1", cccd="001050012345"), *observations(2, 5)]
            first = http_post(client, "/api/batches", site, batches.make_batch(site.id, items))
            again = http_post(client, "/api/batches", site, batches.make_batch(site.id, items))
            reused = http_post(client, "/api/enrol", None, {"code": code, "public_key": batches.public_key_text(key)})
            invoke("central", "site", "revoke", "Trạm Y tế An Lạc", "--data-dir", data_dir, "--database", central_url)
            after_revoke = http_post(client, "/api/batches", site, batches.make_batch(site.id, observations(6, 7)))
    finally:
        stop_server(server)

    assert enrolled.status_code == 200
    assert (first.status_code, first.json()["acknowledged_through"]) == (200, 5)
    assert [item["status"] for item in first.json()["records"]] == ["stored"] * 5
    assert [item["status"] for item in again.json()["records"]] == ["duplicate"] * 5
    assert (reused.status_code, reused.json()) == (403, {"error": "enrol_code_invalid"})
    assert (after_revoke.status_code, after_revoke.json()) == (403, {"error": "site_revoked"})
    assert len(held(engine)) == 5
    assert acknowledged(engine, site) == 5
    output = log.read_text(errors="replace")
    assert f"batch from site {site.id} seq 1-5: 5 stored, 0 merged, 0 duplicate" in output
    assert "001050012345" not in output


def test_server_tls_uses_own_ca(tmp_path):
    data_dir, log = tmp_path / "central", tmp_path / "server.log"
    server, port = start_server(data_dir, f"sqlite:///{tmp_path / 'central.db'}", log, "--tls")
    try:
        trust = ssl.create_default_context(cafile=str(data_dir / "tls" / "ca.pem"))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trust, timeout=30) as client:
            response = http_post(client, "/api/status", None, {"site_id": "x"})
    finally:
        stop_server(server)

    assert (response.status_code, response.json()) == (401, {"error": "unknown_site"})
    assert "Chứng chỉ gốc để điểm khám tin cậy" in log.read_text(errors="replace")


def test_enrol_code_expires_after_seven_days(engine):
    with write(engine) as connection:
        site, _code = sites.add_site(connection, "Trạm A")

    issued = dt.datetime.fromisoformat(site["code_expires_at"]) - dt.datetime.now(dt.UTC)

    assert dt.timedelta(days=6, hours=23) < issued <= dt.timedelta(days=7)


def sign_in_through_proxy(client: httpx.Client, forwarded_for: str) -> httpx.Response:
    """Sign in as the officer with the headers a TLS-terminating proxy adds; return the POST's response."""
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https"}
    page = client.get("/login", headers=headers)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    # The session cookie is Secure, so the client would not send it back over plain HTTP by itself.
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    return client.post("/login", data={"username": "officer", "pin": PERSONAS["officer"][1], "csrf_token": token},
                       headers={**headers, "Cookie": cookie})


def test_server_behind_proxy_sees_browser_address(tmp_path):
    data_dir, log = tmp_path / "central", tmp_path / "server.log"
    invoke("user", "add", "officer", "--role", "site_admin", "--pin", PERSONAS["officer"][1], "--data-dir", data_dir)
    server, port = start_server(data_dir, f"sqlite:///{tmp_path / 'central.db'}", log, "--behind-proxy")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            remote = sign_in_through_proxy(client, "203.0.113.5")
            local = sign_in_through_proxy(client, "127.0.0.1")
    finally:
        stop_server(server)

    assert remote.status_code == 403, (remote.headers, remote.text[:300])
    assert local.status_code == 302
    assert local.headers["location"].endswith("/central/")
