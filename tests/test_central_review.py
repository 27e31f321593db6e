"""Review of possible duplicates in the central store, on SQLite and PostgreSQL: the rules, the page, roles, audit.

Two sites send the same person without an ID number (same name and birth date): the store offers the
pair for review. Every test that takes `engine` runs once per database, as in test_central.
"""

import json
import re
from pathlib import Path

import pytest
from conftest import PERSONAS, csrf_token, sign_in
from pgserver import postgres_url  # noqa: F401  (a fixture)
from sqlalchemy import select
from test_central import enrolled_site, person, push

from fieldapp import create_app
from fieldapp.auth import add_staff
from fieldapp.central import people, review, store
from fieldapp.central.schema import metadata, person_link, review_decision
from fieldapp.central.ward import load
from fieldapp.db import DATABASE_NAME, connect, write

SITE_A, SITE_B, SITE_C = "Trạm Y tế phường An Lạc", "Điểm trường Tiểu học Lê Lợi", "Nhà văn hóa tổ dân phố 9"
NAME = "Nguyễn Văn An"
LATER = "2026-10-20T08:00:00+07:00"
EVEN_LATER = "2026-10-21T08:00:00+07:00"
DECIDED_AT = "2026-10-22T02:00:00+00:00"


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


def visit(seq: int, visit_id: str, person_id: str) -> dict:
    payload = {"id": visit_id, "person_id": person_id, "day": "2026-10-15", "site_id": "s1",
               "checked_in_at": "2026-10-15T08:02:00+07:00"}
    return {"seq": seq, "kind": "visit", "id": visit_id, "recorded_at": "2026-10-15T08:02:00+07:00", "payload": payload}


def two_sites(engine, **b_fields):
    """Send "pa" from site A (with one visit) and "pb" from site B: the same name and birth date, no ID numbers."""
    site_a, site_b = enrolled_site(engine, SITE_A), enrolled_site(engine, SITE_B)
    push(engine, site_a, [person(1, "pa"), visit(2, "va", "pa")])
    push(engine, site_b, [person(1, "pb", phone="0987654321", tdp="", class_name="2A", **b_fields)])
    return site_a, site_b


def links(engine) -> dict[str, tuple[str, str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(select(person_link.c.person_id, person_link.c.central_person_id,
                                         person_link.c.reason, person_link.c.review_with)).all()
    return {person_id: (central, reason, other) for person_id, central, reason, other in rows}


def waiting(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return review.candidate_pairs(connection)


def decide(engine, decision: str, person_id: str = "pb", other_id: str = "pa") -> bool:
    with store.write(engine) as connection:
        return review.decide(connection, person_id, other_id, decision, "staff-1", DECIDED_AT)


def undo(engine, person_id: str = "pb", other_id: str = "pa") -> bool:
    with store.write(engine) as connection:
        return review.undo(connection, person_id, other_id)


def people_counted(engine) -> int:
    with engine.connect() as connection:
        return len(load(connection, 2026).people)


# The rules with decisions.


def test_pair_offered_without_id_numbers(engine):
    two_sites(engine)

    assert waiting(engine) == [("pb", "pa")]
    assert people_counted(engine) == 2


def test_same_links_person_to_other(engine):
    two_sites(engine)

    assert decide(engine, "same")

    assert links(engine) == {"pa": ("pa", "own", None), "pb": ("pa", "reviewed_same", "pa")}
    assert waiting(engine) == []
    assert people_counted(engine) == 1
    with engine.connect() as connection:
        assert people.central_people(connection) == {"pa": "pa", "pb": "pa"}
        assert store.central_person_of(connection, "pb") == "pa"


def test_same_recorded_with_who_and_when(engine):
    two_sites(engine)

    decide(engine, "same")

    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(select(review_decision)).mappings()]
    assert rows == [{"person_id": "pb", "other_id": "pa", "decision": "same", "name_key": "nguyen van an|1950-03-02",
                     "decided_by": "staff-1", "decided_at": DECIDED_AT}]


@pytest.mark.parametrize("fields", [
    {"phone": "0911111111"},
    {"full_name": "Nguyễn Văn Ân"},
    {"birth_date": "1950"},
])
def test_same_holds_after_later_edit(engine, fields):
    _site_a, site_b = two_sites(engine)
    decide(engine, "same")

    push(engine, site_b, [person(2, "pb", LATER, **fields)])

    assert links(engine)["pb"] == ("pa", "reviewed_same", "pa")
    assert people_counted(engine) == 1


def test_same_ends_when_cccds_differ(engine):
    site_a, site_b = two_sites(engine)
    decide(engine, "same")

    push(engine, site_a, [person(3, "pa", LATER, cccd="001050012345")])
    push(engine, site_b, [person(2, "pb", LATER, cccd="001050099999")])

    assert links(engine)["pb"] == ("pb", "own", None)
    assert people_counted(engine) == 2


def test_cccd_match_wins_over_review_merge(engine):
    _site_a, site_b = two_sites(engine)
    decide(engine, "same")
    site_c = enrolled_site(engine, SITE_C)
    push(engine, site_c, [person(1, "pc", full_name="Nguyễn Văn Ánh", cccd="001050012345")])

    push(engine, site_b, [person(2, "pb", LATER, cccd="001050012345")])

    assert links(engine)["pb"] == ("pc", "id_number", None)


def test_merge_brings_id_number_members(engine):
    two_sites(engine, cccd="001050012345")
    site_c = enrolled_site(engine, SITE_C)
    push(engine, site_c, [person(1, "pc", cccd="001050012345")])
    assert links(engine)["pc"] == ("pb", "id_number", None)

    decide(engine, "same")

    with engine.connect() as connection:
        assert people.central_people(connection) == {"pa": "pa", "pb": "pa", "pc": "pa"}
    assert people_counted(engine) == 1


def test_different_keeps_both(engine):
    two_sites(engine)

    assert decide(engine, "different")

    assert links(engine)["pb"] == ("pb", "reviewed_different", "pa")
    assert links(engine)["pa"][:2] == ("pa", "reviewed_different")
    assert waiting(engine) == []
    assert people_counted(engine) == 2


def test_different_not_offered_after_other_edits(engine):
    site_a, site_b = two_sites(engine)
    decide(engine, "different")

    push(engine, site_b, [person(2, "pb", LATER, phone="0911111111")])
    push(engine, site_a, [person(3, "pa", LATER, address="14 Lê Lợi")])

    assert waiting(engine) == []


def test_different_offered_again_after_birth_date_change(engine):
    site_a, site_b = two_sites(engine)
    decide(engine, "different")

    push(engine, site_b, [person(2, "pb", LATER, birth_date="1950-03-12")])
    apart = waiting(engine)
    push(engine, site_a, [person(3, "pa", EVEN_LATER, birth_date="1950-03-12")])

    assert apart == []
    assert waiting(engine) == [("pa", "pb")]


def test_third_person_offered_with_each_in_turn(engine):
    two_sites(engine)
    decide(engine, "different")
    site_c = enrolled_site(engine, SITE_C)

    push(engine, site_c, [person(1, "pc")])
    first = waiting(engine)
    decide(engine, "different", "pc", "pa")

    assert first == [("pc", "pa")]
    assert waiting(engine) == [("pc", "pb")]


def test_pair_linked_both_ways_listed_once(engine):
    site_a, _site_b = two_sites(engine)

    push(engine, site_a, [person(3, "pa", LATER, phone="0911111111")])

    assert links(engine)["pa"] == ("pa", "review", "pb")
    assert waiting(engine) == [("pa", "pb")]


def test_undo_same_offers_pair_again(engine):
    two_sites(engine)
    decide(engine, "same")

    assert undo(engine)

    assert waiting(engine) == [("pb", "pa")]
    assert people_counted(engine) == 2
    with engine.connect() as connection:
        assert connection.execute(select(review_decision)).all() == []


def test_undo_different_offers_pair_again(engine):
    two_sites(engine)
    decide(engine, "different")

    assert undo(engine, "pa", "pb")

    assert len(waiting(engine)) == 1
    assert set(waiting(engine)[0]) == {"pa", "pb"}


def test_decide_pair_not_waiting_changes_nothing(engine):
    two_sites(engine)
    decide(engine, "same")

    again = decide(engine, "different")
    unknown = decide(engine, "same", "pa", "pb")

    assert (again, unknown) == (False, False)
    assert links(engine)["pb"] == ("pa", "reviewed_same", "pa")


def test_undo_without_decision_returns_false(engine):
    two_sites(engine)

    assert undo(engine) is False


def test_pairs_fill_both_sides(engine):
    two_sites(engine)

    with engine.connect() as connection:
        [pair] = review.pairs(connection)

    assert (pair.person.person_id, pair.other.person_id) == ("pb", "pa")
    assert (pair.person.sites, pair.other.sites) == ([SITE_B], [SITE_A])
    assert (pair.person.visits, pair.other.visits) == (0, 1)
    assert (pair.person.phone_end, pair.other.phone_end) == (("321", False), ("678", False))
    assert pair.person.id_number is None
    assert pair.person.birth_precision == "day"
    assert not pair.same_site


def test_pairs_skip_other_person_removed(engine):
    site_a, _site_b = two_sites(engine)

    push(engine, site_a, [{"seq": 3, "kind": "person", "id": "pa", "recorded_at": LATER,
                           "payload": {"id": "pa", "removed": True}}])

    with engine.connect() as connection:
        assert review.pairs(connection) == []
        assert review.waiting_count(connection) == 0


# The page.


@pytest.fixture
def central_app(tmp_path: Path, central_url: str, engine):
    app = create_app({"ROLE": "central", "DATA_DIR": str(tmp_path / "central"), "CENTRAL_DATABASE": central_url,
                      "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})
    app.extensions["central_engine"] = engine
    db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
    with write(db):
        for username, (role, pin) in PERSONAS.items():
            add_staff(db, username, username.title(), role, pin)
        add_staff(db, "coord", "Coord", "coordinator", "3333")
    db.conn.close()
    return app


def signed_in(app, persona: str = "officer"):
    client = app.test_client()
    if persona == "coord":
        response = client.post("/login", data={"username": "coord", "pin": "3333", "csrf_token": csrf_token(client)})
        assert response.status_code == 302
    else:
        sign_in(client, persona)
    return client


def post(client, path: str, headers: dict | None = None, **form):
    return client.post(path, data={"csrf_token": csrf_token(client, "/central/review/"), **form}, headers=headers)


def compare_rows(page: str) -> dict[str, tuple[str, str]]:
    """Return {row label: (first person's value, second person's value)} of the first pair's table."""
    table = page.split('<table class="compare">', 1)[1].split("</table>", 1)[0]
    rows = {}
    for label, first, second in re.findall(r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td><td>(.*?)</td>', table, re.DOTALL):
        rows[_text(label)] = (_text(first), _text(second))
    return rows


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html.replace("<br>", " ")).split())


def audit_rows(app, action: str) -> list[tuple[str | None, dict]]:
    db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
    rows = db.execute("SELECT subject, detail FROM audit_event WHERE action = ? ORDER BY rowid", [action]).fetchall()
    db.conn.close()
    return [(subject, json.loads(detail)) for subject, detail in rows]


def coverage_total(client) -> str:
    page = client.get("/central/coverage?year=2026").get_data(as_text=True)
    return re.search(r"(\d+) người trong danh sách", page).group(1)


def test_page_shows_pair_side_by_side(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)

    page = client.get("/central/review/").get_data(as_text=True)

    assert "Chờ xem xét (1 cặp)" in page
    assert compare_rows(page) == {
        "Họ và tên": (NAME, NAME),
        "Ngày sinh": ("02/03/1950", "02/03/1950"),
        "Giới": ("Nam", "Nam"),
        "Tổ dân phố / lớp khác nhau": ("Lớp 2A", "Tổ dân phố 7"),
        "Điện thoại khác nhau": ("số cuối 321", "số cuối 678"),
        "CCCD/CMND": ("Chưa có", "Chưa có"),
        "Điểm khám gửi về": (SITE_B, SITE_A),
        "Số lần đến khám": ("0", "1"),
    }
    assert "0987654321" not in page
    assert 'name="person_id" value="pb"' in page
    assert 'name="other_id" value="pa"' in page


@pytest.mark.parametrize("fields, shown", [
    ({"cccd": "001050012345"}, "CCCD số cuối 2345"),
    ({"cmnd": "012345678"}, "CMND số cuối 5678"),
])
def test_page_masks_id_number(central_app, engine, fields, shown):
    two_sites(engine, **fields)
    client = signed_in(central_app)

    page = client.get("/central/review/").get_data(as_text=True)

    assert compare_rows(page)["CCCD/CMND khác nhau"] == (shown, "Chưa có")
    assert next(iter(fields.values())) not in page


@pytest.mark.parametrize("born, note", [("1950", "1950 (chỉ biết năm sinh)"),
                                        ("1950-03", "03/1950 (chỉ biết tháng và năm sinh)")])
def test_page_shows_birth_date_precision(central_app, engine, born, note):
    site_a, site_b = enrolled_site(engine, SITE_A), enrolled_site(engine, SITE_B)
    push(engine, site_a, [person(1, "pa", birth_date=born)])
    push(engine, site_b, [person(1, "pb", birth_date=born)])
    client = signed_in(central_app)

    page = client.get("/central/review/").get_data(as_text=True)

    assert compare_rows(page)["Ngày sinh"] == (note, note)


def test_page_warns_pair_from_one_site(central_app, engine):
    site_a = enrolled_site(engine, SITE_A)
    push(engine, site_a, [person(1, "pa"), person(2, "pb")])
    client = signed_in(central_app)

    page = client.get("/central/review/").get_data(as_text=True)

    assert "Cả hai hồ sơ do cùng một điểm khám gửi về" in page


def test_page_without_pairs_says_so(central_app):
    client = signed_in(central_app)

    page = client.get("/central/review/").get_data(as_text=True)

    assert "Không có cặp nào chờ xem xét." in page
    assert "Chưa có quyết định nào." in page


def test_merge_counts_one_person_in_coverage(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)
    before = coverage_total(client)

    response = post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same")

    page = client.get("/central/review/").get_data(as_text=True)
    assert response.status_code == 303
    assert (before, coverage_total(client)) == ("2", "1")
    assert "Chờ xem xét (0 cặp)" in page
    assert "Đã gộp hai hồ sơ thành một người." in page
    decided = page.split("Đã quyết định", 1)[1]
    assert f"{NAME} ({SITE_B}) và {NAME} ({SITE_A}): cùng một người" in _text(decided)
    assert "người quyết định: Officer" in decided


def test_different_keeps_two_in_coverage(central_app, engine):
    _site_a, site_b = two_sites(engine)
    client = signed_in(central_app)
    coverage_total(client)

    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="different")
    push(engine, site_b, [person(2, "pb", LATER, phone="0911111111")])

    page = client.get("/central/review/").get_data(as_text=True)
    assert coverage_total(client) == "2"
    assert "Chờ xem xét (0 cặp)" in page
    assert "hai người khác nhau" in page.split("Đã quyết định", 1)[1]


def test_undo_from_page_puts_pair_back(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)
    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same")
    merged = coverage_total(client)

    response = post(client, "/central/review/undo", person_id="pb", other_id="pa")

    page = client.get("/central/review/").get_data(as_text=True)
    assert response.status_code == 303
    assert (merged, coverage_total(client)) == ("1", "2")
    assert "Chờ xem xét (1 cặp)" in page
    assert "Chưa có quyết định nào." in page


def test_htmx_decision_swaps_card_for_undo(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)

    response = post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same",
                    headers={"HX-Request": "true"})

    card = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert card.lstrip().startswith('<section class="card">')
    assert f"{NAME} ({SITE_B}) và {NAME} ({SITE_A}): cùng một người" in _text(card)
    assert 'action="/central/review/undo"' in card
    assert "<html" not in card


def test_htmx_undo_swaps_card_back_to_pair(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)
    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="different",
         headers={"HX-Request": "true"})

    response = post(client, "/central/review/undo", person_id="pb", other_id="pa", headers={"HX-Request": "true"})

    card = response.get_data(as_text=True)
    assert compare_rows(card)["Họ và tên"] == (NAME, NAME)
    assert 'value="same"' in card
    assert 'value="different"' in card


def test_htmx_undo_pair_no_longer_alike(central_app, engine):
    _site_a, site_b = two_sites(engine)
    client = signed_in(central_app)
    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same")
    push(engine, site_b, [person(2, "pb", LATER, birth_date="1950-03-12")])

    response = post(client, "/central/review/undo", person_id="pb", other_id="pa", headers={"HX-Request": "true"})

    assert "không còn cùng họ tên và ngày sinh" in response.get_data(as_text=True)
    assert links(engine)["pb"] == ("pb", "own", None)


def test_htmx_decision_on_decided_pair_reported(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)
    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same")

    response = post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same",
                    headers={"HX-Request": "true"})

    assert "Cặp này không còn chờ xem xét" in response.get_data(as_text=True)


def test_decision_twice_reported_not_applied(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)
    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same")

    response = post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="different")

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert response.status_code == 303
    assert "Cặp này không còn chờ xem xét" in page
    assert links(engine)["pb"] == ("pa", "reviewed_same", "pa")


@pytest.mark.parametrize("form", [
    {"person_id": "pb", "other_id": "pa", "decision": "maybe"},
    {"person_id": "pb", "other_id": "", "decision": "same"},
    {"person_id": "", "other_id": "pa", "decision": "same"},
])
def test_decide_rejects_incomplete_form(central_app, engine, form):
    two_sites(engine)
    client = signed_in(central_app)

    response = post(client, "/central/review/decide", **form)

    assert response.status_code == 400
    assert waiting(engine) == [("pb", "pa")]


@pytest.mark.parametrize("path", ["/central/review/decide", "/central/review/undo"])
def test_post_without_csrf_token_rejected(central_app, engine, path):
    two_sites(engine)
    decide(engine, "different")
    client = signed_in(central_app)

    response = client.post(path, data={"person_id": "pb", "other_id": "pa", "decision": "same"})

    assert response.status_code == 400
    assert links(engine)["pb"] == ("pb", "reviewed_different", "pa")


ROUTES = [("GET", "/central/review/", {}),
          ("POST", "/central/review/decide", {"person_id": "pb", "other_id": "pa", "decision": "same"}),
          ("POST", "/central/review/undo", {"person_id": "pb", "other_id": "pa"})]


@pytest.mark.parametrize("persona, expected", [
    ("officer", [200, 303, 303]),
    ("coord", [200, 303, 303]),
    ("nurse", [403, 403, 403]),
    ("reception", [403, 403, 403]),
])
def test_roles(central_app, engine, persona, expected):
    two_sites(engine)
    client = signed_in(central_app, persona)
    token = csrf_token(client, "/login")

    statuses = [client.open(path, method=method, data={"csrf_token": token, **form} if form else None).status_code
                for method, path, form in ROUTES]

    assert statuses == expected


def test_roles_refused_change_nothing(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app, "nurse")

    client.post("/central/review/decide", data={"csrf_token": csrf_token(client, "/login"), "person_id": "pb",
                                                "other_id": "pa", "decision": "same"})

    assert waiting(engine) == [("pb", "pa")]


def test_not_signed_in_sent_to_sign_in(central_app, engine):
    two_sites(engine)
    client = central_app.test_client()
    token = csrf_token(client, "/login")

    responses = [client.open(path, method=method, data={"csrf_token": token, **form} if form else None)
                 for method, path, form in ROUTES]

    assert [response.status_code for response in responses] == [302, 302, 302]
    assert all(response.headers["Location"].endswith("/login") for response in responses)
    assert waiting(engine) == [("pb", "pa")]


def test_audit_rows_hold_ids_only(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)

    client.get("/central/review/")
    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="same")
    post(client, "/central/review/undo", person_id="pb", other_id="pa")

    assert audit_rows(central_app, "central_review_viewed")[0] == (None, {"pairs": [["pb", "pa"]]})
    assert audit_rows(central_app, "central_review_decided") == [
        ("pb", {"person_id": "pb", "other_id": "pa", "decision": "same"})]
    assert audit_rows(central_app, "central_review_undone") == [("pb", {"person_id": "pb", "other_id": "pa"})]
    db = connect(Path(central_app.config["DATA_DIR"]) / DATABASE_NAME)
    details = " ".join(row[0] for row in db.execute("SELECT detail FROM audit_event").fetchall())
    db.conn.close()
    assert "Nguyễn" not in details
    assert "0987654321" not in details


def test_index_counts_pairs_waiting(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app)

    page = client.get("/central/").get_data(as_text=True)

    assert "1 cặp chờ xem xét" in page
    assert page.count('href="/central/review/"') == 2


def test_staff_names_shown_for_coordinator_decision(central_app, engine):
    two_sites(engine)
    client = signed_in(central_app, "coord")

    post(client, "/central/review/decide", person_id="pb", other_id="pa", decision="different")

    page = client.get("/central/review/").get_data(as_text=True)
    assert "người quyết định: Coord" in page
