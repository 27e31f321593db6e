"""Build one exam day at a site, fast, with the site's own stores: the sync fault tests and bench/sync_bench.py use it.

Every row is written by the site's modules (import, round, invitations, visits, observations, conclusions),
so the outbox triggers append the same records a real day appends. Check-in skips the station queues,
which are not synced. Readings are drawn from a seeded generator, so the same arguments give the same values
(ids and times still differ between runs).
"""

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from fieldapp import conclusions, observations
from fieldapp.clinical import catalogue
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.importer import import_files
from fieldapp.invitations import invite
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.visits import ASSENT_AGE, CHILD_AGE, Consent, Desk, age_on, record_visit

# Children under 2 are measured lying down (WHO Anthro: recumbent length below 731 days).
LYING_BELOW_YEARS = 2
FINDINGS = {
    "finding_internal_medicine": ("Tim đều, phổi không ran.", "Tim đều, phổi ran ẩm đáy phổi phải."),
    "finding_surgery": ("Chưa phát hiện bệnh lý ngoại khoa.", "Sẹo mổ cũ vùng bụng, liền tốt."),
    "finding_eye": ("Kết mạc không viêm.", "Đục thủy tinh thể mắt trái."),
    "finding_ent": ("Tai mũi họng bình thường.", "Amidan sưng nhẹ."),
    "finding_dental": ("Răng miệng sạch.", "Nhiều cao răng."),
    "finding_dermatology": ("Da không tổn thương.", "Viêm da cơ địa ở hai cẳng tay."),
}
DIAGNOSES = ({"code": "I10", "label": "Tăng huyết áp vô căn (nguyên phát)"},
             {"code": "E11", "label": "Đái tháo đường type 2"},
             {"code": "H25", "label": "Đục thủy tinh thể tuổi già"},
             {"code": "K02", "label": "Sâu răng"})


@dataclass(frozen=True)
class DayCounts:
    """What a built day contains: people in the roster, visits, observations, conclusions and outbox records."""

    people: int
    visits: int
    observations: int
    conclusions: int
    outbox: int


def readings(rng: random.Random, age: int) -> list[tuple[str, int, float | str]]:
    """Return 30 (item, reading, value) rows of a plausible periodic exam for a person of an age in years."""
    systolic = [round(rng.gauss(118 + 0.6 * max(age - 30, 0), 14)) for _ in range(3)]
    diastolic = [round(rng.gauss(76 + 0.2 * max(age - 30, 0), 9)) for _ in range(3)]
    height = rng.gauss(158, 8) if age >= 18 else 55 + 6.5 * age + rng.gauss(0, 4)
    weight = max(3.0, rng.gauss(58, 10) if age >= 18 else 3.5 + 2.6 * age + rng.gauss(0, 1.5))
    vision = [rng.choice((10, 10, 9, 8, 7, 5)) for _ in range(2)]
    rows = [("bp_systolic", n + 1, max(80, min(220, value))) for n, value in enumerate(systolic)]
    rows += [("bp_diastolic", n + 1, max(45, min(130, value))) for n, value in enumerate(diastolic)]
    rows += [
        ("pulse", 1, round(rng.gauss(78, 10))),
        ("respiration_rate", 1, round(rng.gauss(18, 2))),
        ("spo2", 1, rng.choice((99, 98, 98, 97, 96))),
        ("temperature_c", 1, round(rng.gauss(36.6, 0.3), 1)),
        ("length_cm" if age < LYING_BELOW_YEARS else "height_cm", 1, round(height, 1)),
        ("weight_kg", 1, round(weight, 1)),
        ("waist_cm", 1, round(weight * 1.3 + rng.gauss(5, 4), 1)),
        ("glucose_fasting_mmol", 1, round(max(3.5, rng.gauss(5.6, 1.2)), 1)),
        ("hba1c_percent", 1, round(max(4.2, rng.gauss(5.6, 0.6)), 1)),
        ("vision_right", 1, vision[0]),
        ("vision_left", 1, vision[1]),
        ("vision_right_glasses", 1, 10),
        ("vision_left_glasses", 1, 10),
        ("hearing_right_m", 1, rng.choice((5.0, 5.0, 4.0, 3.0))),
        ("hearing_left_m", 1, rng.choice((5.0, 5.0, 4.0, 2.0))),
        ("dental", 1, rng.choice(("normal", "normal", "caries", "caries,gingivitis", "missing_teeth"))),
        ("spine", 1, rng.choice(("normal", "normal", "normal", "scoliosis"))),
        ("spine_note", 1, "Khám tư thế đứng."),
    ]
    rows += [(item, 1, texts[0] if rng.random() < 0.8 else texts[1]) for item, texts in FINDINGS.items()]
    return rows


def conclusion_for(rng: random.Random, values: dict[str, float | str]) -> conclusions.Conclusion:
    """Return a doctor's conclusion that follows the person's readings: class, diagnoses, advice, referral."""
    diagnoses = []
    if values["bp_systolic"] >= 140:
        diagnoses.append(DIAGNOSES[0])
    if values["glucose_fasting_mmol"] >= 7.0:
        diagnoses.append(DIAGNOSES[1])
    if rng.random() < 0.05:
        diagnoses.append(rng.choice(DIAGNOSES[2:]))
    referred = bool(diagnoses) and rng.random() < 0.5
    return conclusions.Conclusion(
        findings={"internal_medicine": str(values["finding_internal_medicine"]), "eye": str(values["finding_eye"])},
        diagnoses=diagnoses,
        health_class="III" if diagnoses else rng.choice(("I", "II", "II")),
        summary="Có bệnh cần theo dõi." if diagnoses else "Sức khỏe bình thường.",
        advice="Ăn giảm muối, vận động 30 phút mỗi ngày, tái khám sau 1 tháng." if diagnoses else "Khám lại sau 1 năm.",
        referral_place="Trung tâm Y tế quận" if referred else "",
        referral_reason="Khám chuyên khoa" if referred else "",
    )


def build_day(folder: Path, lists: list[Path], list_date: dt.date, day: dt.date, people: int,
              seed: int = 1) -> DayCounts:
    """Import lists into the data folder, open a one-day round, invite everyone and examine `people` of them.

    Call inside an app context. People are examined in roster order, all of them when the roster has fewer
    than `people`. Each gets 30 observations and a conclusion, and every tenth a corrected blood pressure.
    """
    rng = random.Random(seed)
    items = catalogue()
    db = connect(folder / DATABASE_NAME)
    try:
        import_files(db, lists, list_date)
        with write(db):
            round_id = create_round(db, "Đợt khám định kỳ", day, 1, [SiteSpec("Trạm Y tế phường", "12 Lê Lợi", 400)])
            site_id = sites(db, round_id)[0]["id"]
            invite(db, round_id, site_id, "all")
        desk = Desk(round_id, site_id, day.isoformat())
        cursor = db.execute("SELECT * FROM person ORDER BY sort_key LIMIT ?", [people])
        names = [column[0] for column in cursor.description]
        chosen = [dict(zip(names, row)) for row in cursor.fetchall()]
        with write(db):
            for number, person in enumerate(chosen):
                _examine(db, rng, items, desk, person, correct=number % 10 == 0)
        counts = DayCounts(
            people=db.execute("SELECT count(*) FROM person").fetchone()[0],
            visits=db.execute("SELECT count(*) FROM visit").fetchone()[0],
            observations=db.execute("SELECT count(*) FROM observation").fetchone()[0],
            conclusions=db.execute("SELECT count(*) FROM conclusion").fetchone()[0],
            outbox=db.execute("SELECT count(*) FROM outbox").fetchone()[0],
        )
    finally:
        db.conn.close()
    return counts


def _examine(db, rng: random.Random, items: dict, desk: Desk, person: dict, correct: bool) -> None:
    age = age_on(person.get("birth_date"), desk.day)
    # A person without a birth date gets an adult's readings.
    age = 40 if age is None else age
    consent = Consent() if age >= CHILD_AGE else Consent("guardian", "Phụ huynh", child_assent=age >= ASSENT_AGE)
    visit, _ = record_visit(db, desk, person, consent)
    values = {}
    for item, reading, value in readings(rng, age):
        observations.record(db, visit, item, value, reading=reading, unit=items[item].unit)
        values.setdefault(item, value)
    if correct:
        first = observations.current_row(db, visit["id"], "bp_systolic", 1)
        observations.correct(db, first["id"], first["value_num"] + 2, reason="Đo lại sau khi nghỉ 5 phút")
    conclusions.save(db, visit, conclusion_for(rng, values))
