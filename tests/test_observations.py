"""The observation and conclusion stores: values kept as versions, corrections with a reason, nothing overwritten."""

import datetime as dt

import pytest

from fieldapp import conclusions, observations
from fieldapp.db import new_id, write
from fieldapp.errors import FieldappError
from fieldapp.observations import Author
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.visits import Consent, Desk, check_in

DAY = dt.date(2026, 10, 15)
NURSE = Author("staff-nurse", "device-1")


def add_person(db, full_name: str = "Nguyễn Văn An", sex: str = "M", birth_date: str = "1960-05-01") -> dict:
    person = {"id": new_id(), "full_name": full_name, "sort_key": full_name, "search_key": full_name.lower(),
              "sex": sex, "birth_date": birth_date, "groups": "2", "updated_at": "2026-10-01T00:00:00"}
    with write(db):
        db["person"].insert(person)
    return person


@pytest.fixture
def visit(db) -> dict:
    with write(db):
        round_id = create_round(db, "Đợt 1", DAY, 1, [SiteSpec("Trạm Y tế", "12 Lê Lợi", 40)])
    desk = Desk(round_id, sites(db, round_id)[0]["id"], DAY.isoformat())
    visit, _ = check_in(db, desk, add_person(db), Consent())
    return visit


def test_record_stores_number_with_author(db, visit):
    with write(db):
        observation_id = observations.record(db, visit, "pulse", 72, unit="/min", author=NURSE)

    row = observations.get(db, observation_id)
    assert row["value_num"] == 72.0
    assert row["value_text"] is None
    assert row["staff_id"] == "staff-nurse"
    assert row["device_id"] == "device-1"
    assert row["person_id"] == visit["person_id"]
    assert row["source"] == "form"


def test_record_same_value_twice_stores_once(db, visit):
    with write(db):
        first = observations.record(db, visit, "pulse", 72)
        again = observations.record(db, visit, "pulse", 72.0)

    assert again == first
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 1


def test_record_other_value_without_reason_rejected(db, visit):
    with write(db):
        observations.record(db, visit, "pulse", 72)

    with pytest.raises(FieldappError) as raised, write(db):
        observations.record(db, visit, "pulse", 80)

    assert raised.value.code == "observation_needs_reason"
    assert db.execute("SELECT count(*) FROM observation").fetchone()[0] == 1


def test_correction_keeps_both_versions(db, visit):
    with write(db):
        first = observations.record(db, visit, "weight_kg", 56.0)
        second = observations.correct(db, first, 65.0, reason="Gõ nhầm", author=NURSE)

    versions = observations.history(db, visit["id"], "weight_kg")
    assert [v["value_num"] for v in versions] == [56.0, 65.0]
    assert versions[1]["supersedes"] == first
    assert versions[1]["reason"] == "Gõ nhầm"
    assert observations.current_row(db, visit["id"], "weight_kg")["id"] == second
    assert observations.corrected_items(db, visit["id"]) == {("weight_kg", 1)}


def test_correcting_old_version_rejected(db, visit):
    with write(db):
        first = observations.record(db, visit, "weight_kg", 56.0)
        observations.correct(db, first, 65.0, reason="Gõ nhầm")

    with pytest.raises(FieldappError) as raised, write(db):
        observations.correct(db, first, 60.0, reason="Đo lại")

    assert raised.value.code == "observation_not_current"


def test_correction_without_reason_rejected(db, visit):
    with write(db):
        first = observations.record(db, visit, "weight_kg", 56.0)

    with pytest.raises(FieldappError) as raised, write(db):
        observations.correct(db, first, 65.0, reason="  ")

    assert raised.value.code == "observation_needs_reason"


def test_readings_are_separate_values(db, visit):
    with write(db):
        observations.record(db, visit, "bp_systolic", 128, reading=1)
        observations.record(db, visit, "bp_systolic", 124, reading=2)

    current = observations.current(db, visit["id"])
    assert [(row["reading"], row["value_num"]) for row in current] == [(1, 128.0), (2, 124.0)]


def test_text_value_stored_as_text(db, visit):
    with write(db):
        observations.record(db, visit, "finding_dental", "Sâu răng 36")

    row = observations.current_row(db, visit["id"], "finding_dental")
    assert observations.value_of(row) == "Sâu răng 36"


def test_conclusion_correction_needs_current_version(db, visit):
    with write(db):
        first = conclusions.save(db, visit, conclusions.Conclusion(summary="Tăng huyết áp", health_class="II"))

    with pytest.raises(FieldappError) as stale, write(db):
        conclusions.save(db, visit, conclusions.Conclusion(summary="Bình thường"), reason="Xem lại")
    with pytest.raises(FieldappError) as unexplained, write(db):
        conclusions.save(db, visit, conclusions.Conclusion(summary="Bình thường"), replaces=first)
    with write(db):
        second = conclusions.save(db, visit, conclusions.Conclusion(summary="Bình thường"), reason="Đo lại huyết áp",
                                  replaces=first)

    assert stale.value.code == "conclusion_not_current"
    assert unexplained.value.code == "conclusion_needs_reason"
    assert conclusions.current(db, visit["id"])["id"] == second
    assert [c["summary"] for c in conclusions.history(db, visit["id"])] == ["Tăng huyết áp", "Bình thường"]


def test_conclusion_stores_diagnoses_and_findings(db, visit):
    conclusion = conclusions.Conclusion(findings={"internal_medicine": "Tim đều", "eye": " "},
                                        diagnoses=[{"code": "I10", "label": "Tăng huyết áp vô căn"}],
                                        health_class="III", next_exam_date="2027-10-15")
    with write(db):
        conclusions.save(db, visit, conclusion, author=NURSE)

    stored = conclusions.current(db, visit["id"])
    assert stored["findings"] == {"internal_medicine": "Tim đều"}
    assert stored["diagnoses"] == [{"code": "I10", "label": "Tăng huyết áp vô căn"}]
    assert stored["health_class"] == "III"
    assert stored["staff_id"] == "staff-nurse"


def test_conclusion_unknown_health_class_rejected(db, visit):
    with pytest.raises(ValueError), write(db):
        conclusions.save(db, visit, conclusions.Conclusion(health_class="VI"))
