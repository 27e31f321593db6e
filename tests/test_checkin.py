"""Check-in on the sample ward: what a scan is, whom it finds, visits, walk-ins and school mode."""

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from stdnum import damm

from conftest import SAMPLE_DATE, csrf_token, sample_lists, sign_in, site_app
from fieldapp.cccd_qr import parse_card
from fieldapp.checkin import classify, look_up
from fieldapp.db import DATABASE_NAME, connect, write
from fieldapp.errors import FieldappError
from fieldapp.importer import import_files
from fieldapp.invitations import invite, reissue
from fieldapp.roster import relink, roster_date
from fieldapp.rounds import SiteSpec, create_round, sites
from fieldapp.text import fold
from fieldapp.tokens import new_token, short_code
from fieldapp.visits import Consent, Desk, check_in
from fieldapp.walkins import FILE_NAME

TODAY = dt.date.today()
STATION = SiteSpec("Trạm Y tế phường An Lạc", "12 Lê Lợi", 20)
SCHOOL = SiteSpec("Trường THCS An Lạc", "5 Bạch Đằng", 40, kind="school")
EARLIER = SiteSpec("Nhà văn hóa tổ 3", "3 Trần Phú", 20)
# A made-up card: Hà Nội (001), a man born in the 1900s (digit 0), born 1958 (58).
UNKNOWN_CARD = "001058009999|012345678|NGUYỄN VĂN KHÁCH|05031958|Nam|9 Ngõ Trạm, Phường An Lạc|15082021"
NEW_CARD = "001058009998||Trần Thị Mới|07071990|Nữ|4 Lê Lợi, Phường An Lạc|01022022"


@pytest.fixture(scope="module")
def ward_file(tmp_path_factory) -> Path:
    """The sample ward with today's round (pupils at the school, the rest at the station) and a past round."""
    folder = tmp_path_factory.mktemp("checkin")
    path = folder / DATABASE_NAME
    db = connect(path)
    import_files(db, sample_lists(), SAMPLE_DATE)
    with write(db):
        earlier = create_round(db, "Đợt 0", TODAY - dt.timedelta(days=60), 1, [EARLIER])
        invite(db, earlier, sites(db, earlier)[0]["id"], "group", "1")
        round_id = create_round(db, "Đợt 1", TODAY, 3, [STATION, SCHOOL])
        station, school = sites(db, round_id)
        invite(db, round_id, school["id"], "group", "7")
        invite(db, round_id, station["id"], "all")
    db.conn.close()
    return path


@pytest.fixture
def app(data_dir: Path, ward_file: Path):
    return site_app(data_dir, ward_file)


class Ward:
    """Ids and tokens of the copied sample ward that the tests use."""

    def __init__(self, db):
        self.db = db
        self.round_id, self.earlier_round = (db.execute("SELECT id FROM exam_round WHERE name = ?", [name]).fetchone()[0]
                                             for name in ("Đợt 1", "Đợt 0"))
        self.station, self.school = (site["id"] for site in sites(db, self.round_id))
        self.day = TODAY.isoformat()
        self.desk = Desk(self.round_id, self.station, self.day)

    def invitation(self, where: str, params: list, round_id: str | None = None) -> dict:
        """Return an active invitation of the round whose person matches a WHERE clause on person p."""
        cursor = self.db.execute(
            f"""SELECT i.*, p.full_name, p.birth_date, p.cccd, p.phone FROM invitation i JOIN person p ON p.id = i.person_id
                WHERE i.round_id = ? AND i.status = 'active' AND {where} ORDER BY p.sort_key LIMIT 1""",
            [round_id or self.round_id, *params])
        return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))

    def adult(self, offset: int = 0) -> dict:
        """Return the invitation of an adult at the station (born before 1990), the offset-th by name."""
        cursor = self.db.execute(
            """SELECT i.*, p.full_name, p.birth_date, p.cccd, p.phone FROM invitation i JOIN person p ON p.id = i.person_id
               WHERE i.round_id = ? AND i.site_id = ? AND i.status = 'active' AND p.birth_date < '1990'
               AND p.class_name IS NULL ORDER BY p.sort_key LIMIT 1 OFFSET ?""", [self.round_id, self.station, offset])
        return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))

    def pupil(self) -> dict:
        return self.invitation("i.site_id = ? AND p.birth_date < ?", [self.school, f"{TODAY.year - 8}"])


@pytest.fixture
def ward(db) -> Ward:
    return Ward(db)


@pytest.fixture
def desk_client(app, ward):
    """Reception signed in, with the station chosen as this desk's site."""
    client = app.test_client()
    sign_in(client, "reception")
    client.csrf = csrf_token(client, "/checkin/")
    response = client.post("/checkin/desk", data={"site_id": ward.station, "csrf_token": client.csrf})
    assert response.status_code == 302
    return client


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.csrf, **data})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# Classification: pure, no database.

# A fixed token whose 6th and 7th digits differ, so swapping them is always a typing mistake.
TOKEN = "91" + "123456789012345678901" + damm.calc_check_digit("91" + "123456789012345678901")


@pytest.mark.parametrize(("text", "kind"), [
    (TOKEN, "token"),
    (short_code(TOKEN), "token"),
    (short_code(TOKEN).replace(" ", "-"), "token"),
    (f"  {TOKEN}\n", "token"),
    (TOKEN[:-2] + str((int(TOKEN[-2]) + 1) % 10) + TOKEN[-1], "mistyped"),
    (TOKEN[:5] + TOKEN[6] + TOKEN[5] + TOKEN[7:], "mistyped"),
    (TOKEN[:-1], "mistyped"),
    (short_code(TOKEN)[:-2], "mistyped"),
    (UNKNOWN_CARD, "card"),
    (NEW_CARD, "card"),
    ("8934563138164", "foreign"),
    ("https://zalo.me/g/abcdef", "foreign"),
    ("0912345678", "foreign"),
    ("001058009999", "foreign"),
    ("001058009999|x|Nguyễn Văn A|31021958|Nam|Hà Nội|01012021", "foreign"),
    ("a|b|c", "foreign"),
    ("", "empty"),
    ("  - ", "empty"),
])
def test_classify_table(text, kind):
    scan = classify(text)

    assert scan.kind == kind


def test_classify_marks_typed_short_code():
    scan = classify(short_code(TOKEN))

    assert scan.typed
    assert scan.token == TOKEN


@pytest.mark.parametrize(("text", "field", "expected"), [
    (UNKNOWN_CARD, "cccd", "001058009999"),
    (UNKNOWN_CARD, "cmnd", "012345678"),
    (UNKNOWN_CARD, "full_name", "Nguyễn Văn Khách"),
    (UNKNOWN_CARD, "sex", "M"),
    (NEW_CARD, "cmnd", None),
    (NEW_CARD, "sex", "F"),
    (NEW_CARD, "issued", dt.date(2022, 2, 1)),
    (UNKNOWN_CARD.rsplit("|", 1)[0], "issued", None),
])
def test_card_fields(text, field, expected):
    card = parse_card(text)

    assert getattr(card, field) == expected


def test_card_birth_date():
    card = parse_card(UNKNOWN_CARD)

    assert card.birth.iso() == "1958-03-05"


@pytest.mark.parametrize("text", [
    "",
    "001058009999|012345678|Nguyễn Văn A|05031958|Nam",
    "00105800999|012345678|Nguyễn Văn A|05031958|Nam|Hà Nội|01012021",
    "001058009999|0123|Nguyễn Văn A|05031958|Nam|Hà Nội|01012021",
    "001058009999|012345678|Nguyễn Văn A|05031958|Khác|Hà Nội|01012021",
    "001058009999|012345678|123|05031958|Nam|Hà Nội|01012021",
])
def test_card_rejects_malformed(text):
    assert parse_card(text) is None


# Lookups against the sample ward.

def test_token_finds_person(ward):
    invitation = ward.adult()

    outcome = look_up(ward.db, invitation["token"], ward.desk)

    assert outcome.result == "person"
    assert outcome.person["id"] == invitation["person_id"]
    assert outcome.code is None


def test_short_code_finds_person(ward):
    invitation = ward.adult()

    outcome = look_up(ward.db, short_code(invitation["token"]), ward.desk)

    assert outcome.person["id"] == invitation["person_id"]


def test_void_token_refused(ward):
    invitation = ward.adult()
    with write(ward.db):
        reissue(ward.db, invitation["id"])

    outcome = look_up(ward.db, invitation["token"], ward.desk)

    assert outcome.result == "refused"
    assert outcome.code == "checkin_token_void"


def test_reissued_token_accepted(ward):
    invitation = ward.adult()
    with write(ward.db):
        new_id = reissue(ward.db, invitation["id"])
    token = ward.db.execute("SELECT token FROM invitation WHERE id = ?", [new_id]).fetchone()[0]

    outcome = look_up(ward.db, token, ward.desk)

    assert outcome.result == "person"


def test_other_round_token_refused(ward):
    invitation = ward.invitation("1 = 1", [], round_id=ward.earlier_round)

    outcome = look_up(ward.db, invitation["token"], ward.desk)

    assert outcome.result == "refused"
    assert outcome.code == "checkin_token_other_round"


def test_unknown_token_refused(ward):
    outcome = look_up(ward.db, new_token(), ward.desk)

    assert outcome.result == "refused"
    assert outcome.code == "checkin_token_unknown"


def test_mistyped_code_refused(ward):
    token = ward.adult()["token"]
    wrong = token[:-2] + str((int(token[-2]) + 1) % 10) + token[-1]

    outcome = look_up(ward.db, wrong, ward.desk)

    assert outcome.code == "checkin_code_mistyped"


def test_short_code_missing_digits_refused(ward):
    outcome = look_up(ward.db, short_code(ward.adult()["token"])[:-1], ward.desk)

    assert outcome.code == "checkin_code_length"


def test_other_site_needs_confirmation(ward):
    invitation = ward.pupil()

    outcome = look_up(ward.db, invitation["token"], ward.desk)

    assert outcome.result == "person"
    assert outcome.code == "checkin_other_site"
    assert outcome.needs_confirmation


def test_card_finds_person(ward):
    invitation = ward.invitation("p.cccd IS NOT NULL AND i.site_id = ?", [ward.station])
    card = f"{invitation['cccd']}||{invitation['full_name']}|01011950|Nam|Hà Nội|01012021"

    outcome = look_up(ward.db, card, ward.desk)

    assert outcome.person["id"] == invitation["person_id"]


def test_unknown_card_offers_walk_in(ward):
    outcome = look_up(ward.db, UNKNOWN_CARD, ward.desk)

    assert outcome.result == "walkin"
    assert outcome.card.full_name == "Nguyễn Văn Khách"


@pytest.mark.parametrize("text", ["8934563138164", "https://example.org/qr", "0912345678", "001058009999"])
def test_foreign_code_never_finds_person(ward, text):
    outcome = look_up(ward.db, text, ward.desk)

    assert outcome.result == "ignored"
    assert outcome.person is None
    assert outcome.code == "checkin_not_ours"


def test_checked_in_person_opens_visit(ward):
    invitation = ward.adult()
    person = {"id": invitation["person_id"], "birth_date": invitation["birth_date"], "groups": ""}
    visit, _ = check_in(ward.db, ward.desk, person, Consent("self"), invitation["id"])

    outcome = look_up(ward.db, invitation["token"], ward.desk)

    assert outcome.result == "visit"
    assert outcome.visit["id"] == visit["id"]


# Visits: queue numbers, plans, consent and concurrency.

def _person(db, person_id: str) -> dict:
    cursor = db.execute("SELECT id, birth_date, groups, parent_name FROM person WHERE id = ?", [person_id])
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))


def test_queue_numbers_start_at_one(ward):
    people = [_person(ward.db, ward.adult(offset)["person_id"]) for offset in range(3)]

    numbers = [check_in(ward.db, ward.desk, person, Consent("self"))[0]["queue_number"] for person in people]

    assert numbers == [1, 2, 3]


def test_queue_numbers_per_site(ward):
    school_desk = Desk(ward.round_id, ward.school, ward.day)
    check_in(ward.db, ward.desk, _person(ward.db, ward.adult(0)["person_id"]), Consent("self"))

    visit, _ = check_in(ward.db, school_desk, _person(ward.db, ward.adult(1)["person_id"]), Consent("self"))

    assert visit["queue_number"] == 1


def test_visit_plan_kind_for_adult(ward):
    person = _person(ward.db, ward.adult()["person_id"])

    visit, _ = check_in(ward.db, ward.desk, person, Consent("self"))

    assert visit["plan_kind"] == "adult"


def test_visit_plan_kind_for_pupil(ward):
    person = _person(ward.db, ward.pupil()["person_id"])

    visit, _ = check_in(ward.db, ward.desk, person, Consent("guardian", "Nguyễn Văn Bố", child_assent=True))

    assert visit["plan_kind"] == "pupil"


def test_child_needs_guardian(ward):
    person = _person(ward.db, ward.pupil()["person_id"])

    with pytest.raises(FieldappError) as raised:
        check_in(ward.db, ward.desk, person, Consent("self"))

    assert raised.value.code == "checkin_guardian_missing"


def test_child_from_seven_needs_assent(ward):
    person = _person(ward.db, ward.pupil()["person_id"])

    with pytest.raises(FieldappError) as raised:
        check_in(ward.db, ward.desk, person, Consent("guardian", "Nguyễn Văn Bố"))

    assert raised.value.code == "checkin_assent_missing"


def _race(path: Path, desk: Desk, people: list[dict]) -> list[dict]:
    """Check people in from one thread each, each with its own connection, all released at once."""
    barrier = threading.Barrier(len(people))
    visits: list = [None] * len(people)
    errors: list = []

    def worker(index: int, person: dict) -> None:
        db = connect(path)
        try:
            barrier.wait()
            visits[index] = check_in(db, desk, person, Consent("self"))[0]
        except Exception as error:  # reported below, so a failing thread fails the test
            errors.append(error)
        finally:
            db.conn.close()

    threads = [threading.Thread(target=worker, args=(index, person)) for index, person in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return visits


def test_same_person_twice_one_visit(ward, data_dir):
    person = _person(ward.db, ward.adult()["person_id"])

    visits = _race(data_dir / DATABASE_NAME, ward.desk, [person, person])

    stored = ward.db.execute("SELECT count(*) FROM visit WHERE person_id = ?", [person["id"]]).fetchone()[0]
    assert visits[0]["id"] == visits[1]["id"]
    assert stored == 1


def test_different_people_distinct_numbers(ward, data_dir):
    people = [_person(ward.db, ward.adult(offset)["person_id"]) for offset in range(8)]

    visits = _race(data_dir / DATABASE_NAME, ward.desk, people)

    assert sorted(visit["queue_number"] for visit in visits) == list(range(1, 9))


# Pages.

def test_scan_page_shows_form(desk_client):
    response = desk_client.get("/checkin/")

    assert response.status_code == 200
    assert 'inputmode="numeric"' in text_of(response)
    assert 'autocomplete="off"' in text_of(response)


def test_scan_page_needs_reception(app):
    client = app.test_client()
    sign_in(client, "nurse")

    response = client.get("/checkin/")

    assert response.status_code == 403


def test_two_sites_ask_for_desk(app):
    client = app.test_client()
    sign_in(client, "reception")

    response = client.get("/checkin/")

    assert "Chọn điểm khám của bàn đón tiếp này" in text_of(response)


def test_scan_shows_name_to_confirm(desk_client, ward):
    invitation = ward.adult()

    response = post(desk_client, "/checkin/scan", code=invitation["token"])

    assert invitation["full_name"] in text_of(response)
    assert 'name="consent"' in text_of(response)


def test_scan_fragment_for_htmx(desk_client, ward):
    response = desk_client.post("/checkin/scan", data={"csrf_token": desk_client.csrf, "code": ward.adult()["token"]},
                                headers={"HX-Request": "true"})

    assert "<html" not in text_of(response)
    assert 'data-outcome="found"' in text_of(response)


def test_check_in_assigns_queue_number(desk_client, ward):
    invitation = ward.adult()

    response = post(desk_client, "/checkin/visit", person_id=invitation["person_id"], consent="1", consent_by="self")

    page = text_of(response)
    assert response.status_code == 200
    assert 'data-outcome="ok"' in page
    assert re.search(r"Số thứ tự</span> <strong>1</strong>", page)
    assert "Đến trước: Chiều cao" in page


def test_check_in_links_invitation(desk_client, ward):
    invitation = ward.adult()

    post(desk_client, "/checkin/visit", person_id=invitation["person_id"], consent="1", consent_by="self")

    stored = ward.db.execute("SELECT invitation_id, consent_by FROM visit WHERE person_id = ?",
                             [invitation["person_id"]]).fetchone()
    assert stored == (invitation["id"], "self")


def test_check_in_needs_consent(desk_client, ward):
    invitation = ward.adult()

    response = post(desk_client, "/checkin/visit", person_id=invitation["person_id"], consent_by="self")

    assert response.status_code == 400
    assert "Chưa ghi nhận sự đồng ý" in text_of(response)


def test_second_scan_opens_visit(desk_client, ward):
    invitation = ward.adult()
    post(desk_client, "/checkin/visit", person_id=invitation["person_id"], consent="1", consent_by="self")

    response = post(desk_client, "/checkin/scan", code=invitation["token"])

    assert "đã được đón tiếp hôm nay, số thứ tự 1" in text_of(response)
    assert ward.db.execute("SELECT count(*) FROM visit").fetchone()[0] == 1


def test_void_token_page_says_reissued(desk_client, ward):
    invitation = ward.adult()
    with write(ward.db):
        reissue(ward.db, invitation["id"])

    response = post(desk_client, "/checkin/scan", code=invitation["token"])

    assert "đã bị hủy vì đã cấp lại giấy mời mới" in text_of(response)
    assert 'data-outcome="bad"' in text_of(response)


def test_foreign_code_page_notice(desk_client):
    response = post(desk_client, "/checkin/scan", code="8934563138164")

    assert "không phải giấy mời hay thẻ căn cước" in text_of(response)
    assert 'data-outcome="ignored"' in text_of(response)


def test_other_site_refused_unconfirmed(desk_client, ward):
    pupil = ward.pupil()

    response = post(desk_client, "/checkin/visit", person_id=pupil["person_id"], consent="1", consent_by="guardian",
                    guardian_name="Nguyễn Văn Bố", child_assent="1")

    assert response.status_code == 422
    assert ward.db.execute("SELECT count(*) FROM visit").fetchone()[0] == 0


def test_other_site_allowed_confirmed(desk_client, ward):
    pupil = ward.pupil()

    response = post(desk_client, "/checkin/visit", person_id=pupil["person_id"], consent="1", consent_by="guardian",
                    guardian_name="Nguyễn Văn Bố", child_assent="1", confirm_site="1")

    assert response.status_code == 200
    assert ward.db.execute("SELECT child_assent FROM visit").fetchone()[0] == 1


def test_search_by_name_and_year(desk_client, ward):
    invitation = ward.adult()
    words = invitation["full_name"].split()
    query = f"{words[0]} {words[-1]} {invitation['birth_date'][:4]}"

    response = post(desk_client, "/checkin/search", q=query)

    assert invitation["full_name"] in text_of(response)
    assert f"/checkin/person/{invitation['person_id']}" in text_of(response)


def test_search_without_tones(desk_client, ward):
    invitation = ward.adult()

    response = post(desk_client, "/checkin/search", q=f"{fold(invitation['full_name'])} {invitation['birth_date'][:4]}")

    assert invitation["full_name"] in text_of(response)


def test_search_by_id_last_digits(desk_client, ward):
    invitation = ward.invitation("p.cccd IS NOT NULL", [])

    response = post(desk_client, "/checkin/search", q=invitation["cccd"][-6:])

    assert invitation["full_name"] in text_of(response)


def test_search_by_phone_last_digits(desk_client, ward):
    invitation = ward.invitation("p.phone IS NOT NULL", [])

    response = post(desk_client, "/checkin/search", q=invitation["phone"][-6:])

    assert invitation["full_name"] in text_of(response)


# Walk-ins.

def test_unknown_card_prefills_walk_in(desk_client):
    response = post(desk_client, "/checkin/scan", code=UNKNOWN_CARD)

    page = text_of(response)
    assert 'value="Nguyễn Văn Khách"' in page
    assert 'value="05/03/1958"' in page
    assert 'value="001058009999"' in page


def _walk_in(client, **fields):
    data = {"full_name": "Trần Thị Mới", "sex": "Nữ", "birth": "07/07/1990", "cccd": "001190009998",
            "phone": "0912 345 678", "address": "4 Lê Lợi", "group": "4", "consent": "1", "consent_by": "self"}
    data.update(fields)
    return post(client, "/checkin/walkin", **data)


def test_walk_in_joins_roster(desk_client, ward):
    response = _walk_in(desk_client)

    person = ward.db.execute("SELECT id, groups, phone FROM person WHERE cccd = '001190009998'").fetchone()
    assert response.status_code == 200
    assert person is not None
    assert person[1] == "4"
    assert person[2] == "0912345678"


def test_walk_in_checked_in(desk_client, ward):
    response = _walk_in(desk_client)

    person_id = ward.db.execute("SELECT id FROM person WHERE cccd = '001190009998'").fetchone()[0]
    assert 'data-outcome="ok"' in text_of(response)
    assert ward.db.execute("SELECT count(*) FROM visit WHERE person_id = ?", [person_id]).fetchone()[0] == 1


def test_walk_in_stored_as_list_row(desk_client, ward):
    _walk_in(desk_client)

    kind = ward.db.execute("SELECT kind FROM source_file WHERE name = ?", [FILE_NAME]).fetchone()
    rows = ward.db.execute("SELECT count(*) FROM source_row WHERE file_name = ?", [FILE_NAME]).fetchone()[0]
    assert kind == ("list",)
    assert rows == 1


def test_walk_in_survives_relink(desk_client, ward):
    _walk_in(desk_client)
    before = ward.db.execute("SELECT id FROM person WHERE cccd = '001190009998'").fetchone()[0]

    with write(ward.db):
        relink(ward.db, roster_date(ward.db))

    after = ward.db.execute("SELECT id FROM person WHERE cccd = '001190009998'").fetchone()
    assert after == (before,)


def test_walk_in_of_listed_person_merges(desk_client, ward):
    invitation = ward.invitation("p.cccd IS NOT NULL AND i.site_id = ? AND p.birth_date < '1990'", [ward.station])
    people = ward.db.execute("SELECT count(*) FROM person").fetchone()[0]

    _walk_in(desk_client, full_name=invitation["full_name"], cccd=invitation["cccd"],
             birth=invitation["birth_date"][:4], sex="", group="")

    visit_person = ward.db.execute("SELECT person_id FROM visit").fetchone()
    assert ward.db.execute("SELECT count(*) FROM person").fetchone()[0] == people
    assert visit_person == (invitation["person_id"],)


def test_walk_in_scan_finds_them_next(desk_client, ward):
    _walk_in(desk_client, cccd="001058009999", full_name="Nguyễn Văn Khách", birth="05/03/1958", sex="Nam")

    response = post(desk_client, "/checkin/scan", code=UNKNOWN_CARD)

    assert "đã được đón tiếp hôm nay" in text_of(response)


@pytest.mark.parametrize(("fields", "message"), [
    ({"full_name": ""}, "Thiếu họ tên"),
    ({"birth": "31/02/1990"}, "Ngày sinh &#39;31/02/1990&#39; không hợp lệ"),
    ({"cccd": "12345"}, "không đủ 12"),
    ({"phone": "12"}, "Số điện thoại &#39;12&#39; không hợp lệ"),
    ({"sex": "", "cccd": ""}, "Chưa chọn giới tính"),
    ({"consent": ""}, "Chưa ghi nhận sự đồng ý"),
    ({"birth": str(TODAY.year - 5), "consent_by": "self"}, "cần họ tên cha, mẹ"),
])
def test_walk_in_problems(desk_client, ward, fields, message):
    response = _walk_in(desk_client, **fields)

    assert response.status_code == 400
    assert message in text_of(response)
    assert ward.db.execute("SELECT count(*) FROM source_row WHERE file_name = ?", [FILE_NAME]).fetchone()[0] == 0


# School mode.

@pytest.fixture
def school_client(desk_client, ward):
    post(desk_client, "/checkin/desk", site_id=ward.school)
    return desk_client


def _class_of(ward) -> tuple[str, list[str]]:
    class_name = ward.db.execute(
        """SELECT p.class_name FROM person p JOIN invitation i ON i.person_id = p.id
           WHERE i.site_id = ? AND p.class_name != '' ORDER BY p.class_name LIMIT 1""", [ward.school]).fetchone()[0]
    people = [row[0] for row in ward.db.execute("SELECT id FROM person WHERE class_name = ? ORDER BY sort_key",
                                                 [class_name]).fetchall()]
    return class_name, people


def test_school_lists_class(school_client, ward):
    class_name, people = _class_of(ward)

    response = school_client.get(f"/checkin/school?class={class_name}")

    assert text_of(response).count('name="person_id"') == len(people)


def test_school_checks_in_ticked(school_client, ward):
    class_name, people = _class_of(ward)
    present = people[:-2]

    response = school_client.post("/checkin/school", data={
        "csrf_token": school_client.csrf, "class": class_name, "person_id": present, "teacher": "Lê Thị Cô",
        "consent": "1"})

    stored = ward.db.execute("SELECT person_id, queue_number, consent_by FROM visit ORDER BY queue_number").fetchall()
    assert response.status_code == 200
    assert {row[0] for row in stored} == set(present)
    assert [row[1] for row in stored] == list(range(1, len(present) + 1))
    assert {row[2] for row in stored} == {"guardian"}


def test_school_needs_teacher_consent(school_client, ward):
    class_name, people = _class_of(ward)

    response = school_client.post("/checkin/school", data={
        "csrf_token": school_client.csrf, "class": class_name, "person_id": people, "teacher": ""})

    assert response.status_code == 400
    assert ward.db.execute("SELECT count(*) FROM visit").fetchone()[0] == 0


def test_school_needs_a_pupil(school_client, ward):
    class_name, _ = _class_of(ward)

    response = post(school_client, "/checkin/school", **{"class": class_name, "teacher": "Lê Thị Cô", "consent": "1"})

    assert "Chưa chọn học sinh nào" in text_of(response)


def test_school_twice_keeps_numbers(school_client, ward):
    class_name, people = _class_of(ward)
    data = {"csrf_token": school_client.csrf, "class": class_name, "person_id": people[:3], "teacher": "Lê Thị Cô",
            "consent": "1"}
    school_client.post("/checkin/school", data=data)

    school_client.post("/checkin/school", data=dict(data, person_id=people[:4]))

    numbers = [row[0] for row in ward.db.execute("SELECT queue_number FROM visit ORDER BY queue_number").fetchall()]
    assert numbers == [1, 2, 3, 4]
