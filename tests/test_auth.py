"""Roles on every route, PIN lockout and throttling, the device rule for sign-in, staff accounts, audit rows."""

import concurrent.futures
import json
import re
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import PERSONAS, csrf_token, sign_in
from fieldapp import auth, create_app
from fieldapp.auth import add_staff
from fieldapp.cli import main
from fieldapp.db import DATABASE_NAME, connect, write
from test_devices import paired_phone

PHONE = {"REMOTE_ADDR": "192.168.1.23"}
UNKNOWN = "01a24000-0000-7000-8000-000000000000"
# Roles the conftest personas lack; the matrix signs in as these too.
EXTRA = {"coord": ("coordinator", "3333"), "doc": ("doctor", "4444"), "tv": ("display", "5555")}
ACCOUNTS = {**PERSONAS, **EXTRA}


@pytest.fixture
def accounts(app, db):
    with write(db):
        for username, (role, pin) in EXTRA.items():
            add_staff(db, username, username.title(), role, pin)
    return ACCOUNTS


def post_login(client, username: str, pin: str, **kwargs):
    return client.post("/login", data={"username": username, "pin": pin, "csrf_token": csrf_token(client)}, **kwargs)


def staff_row(db, username: str) -> dict:
    cursor = db.execute("SELECT id, failed_pins, locked_until, active FROM staff WHERE username = ?", [username])
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))


def actions(db) -> list[str]:
    return [row[0] for row in db.execute("SELECT action FROM audit_event ORDER BY rowid").fetchall()]


# Role matrix. Each route lists the personas allowed and the status they get with placeholder ids and
# empty forms (404: unknown id, 400: form rejected). Everyone else gets 403.
# Without a session every guarded route redirects to /login.
# None means any status but 403 or a redirect to /login, because the check-in tests pin those statuses.

ADMIN = {"officer"}
COORDINATION = {"officer", "coord"}
CHECKIN = {"officer", "coord", "reception"}
EVERYONE = {"officer", "coord", "doc", "nurse", "reception"}
# The waiting-room TV's account reaches the board, the home page (a redirect to the board) and sign-out.
SCREEN = COORDINATION | {"tv"}
SIGNED_IN = EVERYONE | {"tv"}
OPEN = "open"

MATRIX = {
    ("GET", "/"): (SIGNED_IN, 302),
    ("GET", "/roster/"): (EVERYONE, 200),
    ("POST", "/roster/"): (EVERYONE, 200),
    ("GET", "/roster/<person_id>"): (EVERYONE, 404),
    ("GET", "/roster/export.xlsx"): (COORDINATION, 200),
    ("GET", "/imports/"): (COORDINATION, 200),
    ("GET", "/imports/<file_id>"): (COORDINATION, 404),
    ("POST", "/imports/<file_id>/delete"): (COORDINATION, 404),
    ("POST", "/imports/confirm"): (COORDINATION, 400),
    ("POST", "/imports/preview"): (COORDINATION, 400),
    ("GET", "/review/"): (COORDINATION, 200),
    ("POST", "/review/decide"): (COORDINATION, 400),
    ("POST", "/review/undo"): (COORDINATION, 302),
    ("GET", "/crosscheck/"): (COORDINATION, 200),
    ("GET", "/crosscheck/export.xlsx"): (COORDINATION, 200),
    ("GET", "/rounds/"): (COORDINATION, 200),
    ("POST", "/rounds/"): (COORDINATION, 400),
    ("GET", "/rounds/<round_id>"): (COORDINATION, 404),
    ("GET", "/rounds/<round_id>/announcements"): (COORDINATION, 404),
    ("POST", "/rounds/<round_id>/invite"): (COORDINATION, 404),
    ("POST", "/rounds/<round_id>/move"): (COORDINATION, 404),
    ("GET", "/rounds/<round_id>/people"): (COORDINATION, 404),
    ("GET", "/rounds/<round_id>/plans"): (COORDINATION, 404),
    ("POST", "/rounds/<round_id>/plans"): (COORDINATION, 404),
    ("GET", "/rounds/<round_id>/poster"): (COORDINATION, 404),
    ("POST", "/rounds/<round_id>/reprint"): (COORDINATION, 404),
    ("POST", "/rounds/<round_id>/slips"): (COORDINATION, 404),
    ("GET", "/rounds/jobs/<job_id>"): (COORDINATION, 404),
    ("GET", "/rounds/jobs/<job_id>/file"): (COORDINATION, 404),
    ("GET", "/checkin/"): (CHECKIN, None),
    ("POST", "/checkin/desk"): (CHECKIN, None),
    ("GET", "/checkin/person/<person_id>"): (CHECKIN, None),
    ("POST", "/checkin/scan"): (CHECKIN, None),
    ("GET", "/checkin/school"): (CHECKIN, None),
    ("POST", "/checkin/school"): (CHECKIN, None),
    ("POST", "/checkin/search"): (CHECKIN, None),
    ("POST", "/checkin/visit"): (CHECKIN, None),
    ("GET", "/checkin/visit/<visit_id>"): (CHECKIN, None),
    ("GET", "/checkin/walkin"): (CHECKIN, None),
    ("POST", "/checkin/walkin"): (CHECKIN, None),
    ("GET", "/display/"): (SCREEN, 200),
    ("GET", "/display/board"): (SCREEN, 200),
    ("GET", "/display/voice/<task_id>.wav"): (SCREEN, 404),
    ("POST", "/display/site/<site_id>/names"): (COORDINATION, 404),
    ("POST", "/stations/coordinator/visit/<visit_id>/back"): (COORDINATION, 404),
    ("GET", "/display/ticket/<visit_id>"): (CHECKIN, 404),
    ("GET", "/stations/"): ({"officer", "coord", "doc", "nurse"}, 200),
    ("GET", "/stations/desk/<desk_id>"): ({"officer", "coord", "doc", "nurse"}, 404),
    ("POST", "/stations/desk/<desk_id>/call"): ({"officer", "coord", "doc", "nurse"}, 404),
    ("POST", "/stations/desk/<desk_id>/task"): ({"officer", "coord", "doc", "nurse"}, 404),
    ("GET", "/stations/coordinator"): (COORDINATION, 200),
    ("POST", "/stations/coordinator/desk/<desk_id>"): (COORDINATION, 404),
    ("GET", "/stations/coordinator/task/<task_id>/move"): (COORDINATION, 404),
    ("POST", "/stations/coordinator/task/<task_id>/move"): (COORDINATION, 404),
    ("GET", "/stations/visit/<visit_id>/triage"): (EVERYONE, 404),
    ("POST", "/stations/visit/<visit_id>/triage"): (EVERYONE, 404),
    ("GET", "/entry/visit/<visit_id>/<station_code>"): ({"officer", "doc", "nurse"}, 404),
    ("POST", "/entry/visit/<visit_id>/<station_code>"): ({"officer", "doc", "nurse"}, 404),
    ("POST", "/entry/visit/<visit_id>/<station_code>/check"): ({"officer", "doc", "nurse"}, 404),
    ("GET", "/entry/visit/<visit_id>/history/<item>"): ({"officer", "doc", "nurse"}, 404),
    ("GET", "/doctor/visit/<visit_id>/sheet"): ({"officer", "doc", "nurse"}, 404),
    ("GET", "/doctor/visit/<visit_id>/referral"): ({"officer", "doc", "nurse"}, 404),
    ("GET", "/followup/"): ({"officer", "coord", "doc"}, 200),
    ("GET", "/followup/export.xlsx"): ({"officer", "coord", "doc"}, 200),
    ("GET", "/doctor/"): ({"officer", "doc"}, 200),
    ("GET", "/doctor/visit/<visit_id>"): ({"officer", "doc"}, 404),
    ("POST", "/doctor/visit/<visit_id>"): ({"officer", "doc"}, 404),
    ("POST", "/doctor/visit/<visit_id>/finish"): ({"officer", "doc"}, 404),
    ("GET", "/doctor/icd10"): ({"officer", "doc"}, 200),
    ("GET", "/doctor/advice-templates"): ({"officer", "doc"}, 200),
    ("POST", "/doctor/advice-templates"): ({"officer", "doc"}, 400),
    ("GET", "/doctor/advice-templates/<template_id>"): ({"officer", "doc"}, 404),
    ("POST", "/doctor/advice-templates/<template_id>"): ({"officer", "doc"}, 404),
    ("POST", "/doctor/advice-templates/<template_id>/active"): ({"officer", "doc"}, 404),
    ("GET", "/sync/"): (COORDINATION, 200),
    ("GET", "/sync/jobs/<job_id>"): (COORDINATION, 404),
    # Empty forms on a site not enrolled: sync_url_invalid, sync_not_enrolled.
    ("POST", "/sync/enrol"): (ADMIN, 400),
    ("POST", "/sync/push"): (ADMIN, 400),
    ("POST", "/sync/export"): (ADMIN, 400),
    ("GET", "/admin/staff"): (ADMIN, 200),
    ("POST", "/admin/staff"): (ADMIN, 400),
    ("POST", "/admin/staff/<staff_id>/disable"): (ADMIN, 404),
    ("POST", "/admin/staff/<staff_id>/enable"): (ADMIN, 404),
    ("POST", "/admin/staff/<staff_id>/pin"): (ADMIN, 404),
    ("GET", "/admin/devices"): (ADMIN, 200),
    ("POST", "/admin/devices/pair"): (ADMIN, 400),
    ("POST", "/admin/devices/<device_id>/revoke"): (ADMIN, 404),
    ("POST", "/logout"): (SIGNED_IN, 302),
    # Open to everyone, signed in or not.
    ("GET", "/login"): (OPEN, 200),
    ("POST", "/login"): (OPEN, 401),
    ("GET", "/pair/<token>"): (OPEN, 404),
    ("POST", "/lang"): (OPEN, 302),
    ("GET", "/static/<path:filename>"): (OPEN, 200),
    ("GET", "/sw.js"): (OPEN, 200),
    ("GET", "/manifest.webmanifest"): (OPEN, 200),
    ("GET", "/offline"): (OPEN, 200),
}


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}}


def concrete(rule: str) -> str:
    if rule == "/static/<path:filename>":
        return "/static/css/app.css"
    return re.sub(r"<[^>]+>", UNKNOWN, rule)


def test_matrix_lists_every_route(app):
    routes = app_routes(app)

    assert routes - set(MATRIX) == set(), "add the new route to MATRIX with the roles it allows"
    assert set(MATRIX) - routes == set()


@pytest.mark.parametrize("persona", [None, *ACCOUNTS])
def test_role_matrix(app, accounts, persona):
    client = app.test_client()
    if persona:
        assert post_login(client, persona, ACCOUNTS[persona][1]).status_code == 302
    token = csrf_token(client)
    # Sign-out last, so the other requests run in the session.
    routes = sorted(app_routes(app), key=lambda route: (route == ("POST", "/logout"), route))

    for method, rule in routes:
        allowed, status = MATRIX[(method, rule)]
        response = client.open(concrete(rule), method=method, data={"csrf_token": token} if method == "POST" else None)
        response.close()
        to_login = response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
        if allowed != OPEN and persona is None:
            assert to_login, f"{method} {rule}"
        elif allowed != OPEN and persona not in allowed:
            assert response.status_code == 403, f"{method} {rule} as {persona}"
        elif status is None:
            assert response.status_code != 403, f"{method} {rule} as {persona}"
            assert not to_login, f"{method} {rule} as {persona}"
        else:
            assert response.status_code == status, f"{method} {rule} as {persona}"


@pytest.mark.parametrize(("persona", "home"), [("tv", "/display/"), ("doc", "/roster/")])
def test_sign_in_lands_on_role_home(app, accounts, persona, home):
    client = app.test_client()

    response = post_login(client, persona, ACCOUNTS[persona][1])
    again = client.get("/")

    assert urlsplit(response.headers["Location"]).path == home
    assert urlsplit(again.headers["Location"]).path == home


def test_display_account_sees_no_menu(app, accounts):
    client = app.test_client()
    post_login(client, "tv", ACCOUNTS["tv"][1])

    board = client.get("/display/").get_data(as_text=True)
    forbidden = client.get("/roster/")

    assert "Hôm nay không có điểm khám nào mở." in board
    assert forbidden.status_code == 403
    assert "<nav>" not in forbidden.get_data(as_text=True)
    assert 'href="/">Về màn hình gọi số</a>' in forbidden.get_data(as_text=True)


def test_forbidden_page_hides_board_link(app, accounts):
    client = app.test_client()
    post_login(client, "doc", ACCOUNTS["doc"][1])

    forbidden = client.get("/rounds/")

    assert forbidden.status_code == 403
    assert "Về màn hình gọi số" not in forbidden.get_data(as_text=True)


def test_require_role_lets_site_admin_pass(app, accounts):
    client = app.test_client()
    sign_in(client, "officer")

    response = client.get("/rounds/")

    assert response.status_code == 200


# PIN lockout.


def test_five_wrong_pins_lock_account(client, db, clock):
    for _ in range(4):
        assert post_login(client, "nurse", "0000").status_code == 401

    response = post_login(client, "nurse", "0000")

    page = response.get_data(as_text=True)
    assert response.status_code == 423
    assert "Tài khoản bị khóa đến" in page
    assert "quản trị viên đặt lại mã PIN" in page
    assert staff_row(db, "nurse")["locked_until"] == "2026-03-02T01:15:00+00:00"


def test_locked_account_refuses_right_pin(client, clock):
    for _ in range(5):
        post_login(client, "nurse", "0000")
    clock.advance(minutes=14, seconds=59)

    response = post_login(client, "nurse", "1357")

    assert response.status_code == 423
    assert client.get("/roster/").status_code == 302


def test_lock_ends_after_period(client, db, clock):
    for _ in range(5):
        post_login(client, "nurse", "0000")
    clock.advance(minutes=15)

    response = post_login(client, "nurse", "1357")

    assert response.status_code == 302
    assert staff_row(db, "nurse")["locked_until"] is None
    assert client.get("/roster/").status_code == 200


def test_success_resets_failure_count(client, db, clock):
    for _ in range(4):
        post_login(client, "nurse", "0000")
    post_login(client, "nurse", "1357")
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    for _ in range(4):
        response = post_login(client, "nurse", "0000")

    assert response.status_code == 401
    assert staff_row(db, "nurse")["failed_pins"] == 4


def test_lockout_audited_by_id(client, db, clock):
    nurse_id = staff_row(db, "nurse")["id"]

    for _ in range(5):
        post_login(client, "nurse", "0000")

    locked = db.execute("SELECT subject FROM audit_event WHERE action = 'account_locked'").fetchall()
    assert locked == [(nurse_id,)]
    assert actions(db).count("sign_in_failed") == 5


def test_pin_reset_unlocks(app, officer, db, clock):
    phone = app.test_client()
    for _ in range(5):
        post_login(phone, "nurse", "0000")
    nurse_id = staff_row(db, "nurse")["id"]

    officer.post(f"/admin/staff/{nurse_id}/pin", data={"pin": "97531", "csrf_token": officer.csrf})

    assert staff_row(db, "nurse")["locked_until"] is None
    assert post_login(phone, "nurse", "97531").status_code == 302


def test_lock_applies_to_new_session(app, clock):
    for _ in range(5):
        post_login(app.test_client(), "nurse", "0000")

    response = post_login(app.test_client(), "nurse", "1357")

    assert response.status_code == 423


@pytest.mark.parametrize("username", ["NURSE", " Nurse "])
def test_lock_applies_to_username_case(client, clock, username):
    for _ in range(5):
        post_login(client, "nurse", "0000")

    response = post_login(client, username, "1357")

    assert response.status_code == 423


def test_lock_survives_restart(app, data_dir, clock):
    for _ in range(5):
        post_login(app.test_client(), "nurse", "0000")
    restarted = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "SIGN_IN_FAILURE_DELAY": 0})

    response = post_login(restarted.test_client(), "nurse", "1357")

    assert response.status_code == 423


def test_parallel_wrong_pins_lock_after_five(app, db, clock):
    # Twelve guesses at once from twelve sessions at the laptop, which is never throttled. Only five count
    # as failures before the lock, and the lock rejects the other seven.
    def guess(pin: str) -> int:
        return post_login(app.test_client(), "nurse", pin).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(guess, [f"{9000 + index}" for index in range(12)]))

    logged = actions(db)
    assert statuses == [401] * 4 + [423] * 8
    assert logged.count("sign_in_failed") == 5
    assert logged.count("account_locked") == 1
    assert logged.count("sign_in_refused") == 7
    assert post_login(app.test_client(), "nurse", "1357").status_code == 423


# Throttling per device or address.


def test_phone_refused_after_ten_failures(app, db, clock):
    phone = paired_phone(app, db)
    for index in range(10):
        post_login(phone, f"nobody{index}", "0000")

    response = post_login(phone, "reception", "1111")

    assert response.status_code == 429
    assert "tạm dừng đăng nhập đến" in response.get_data(as_text=True)
    assert "throttled" in db.execute("SELECT detail FROM audit_event WHERE action = 'sign_in_refused'").fetchone()[0]


def test_phone_may_retry_after_window(app, db, clock):
    phone = paired_phone(app, db)
    for index in range(10):
        post_login(phone, f"nobody{index}", "0000")
    clock.advance(minutes=10)

    response = post_login(phone, "reception", "1111")

    assert response.status_code == 302


def test_laptop_never_throttled(client, clock):
    for index in range(12):
        post_login(client, f"nobody{index}", "0000")

    response = post_login(client, "reception", "1111")

    assert response.status_code == 302


def test_rapid_failures_wait_configured_delay(app, client, clock, monkeypatch):
    waits = []
    monkeypatch.setattr(auth.time, "sleep", waits.append)
    app.config["SIGN_IN_FAILURE_DELAY"] = 0.5

    for index in range(4):
        post_login(client, f"nobody{index}", "0000")

    assert waits == [0.5, 0.5]


# The device rule: loopback signs in without a device, any other address needs a paired one.


def test_phone_without_device_refused(client, db):
    response = post_login(client, "reception", "1111", environ_base=PHONE)

    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "chưa được ghép" in page
    assert client.get("/roster/", environ_base=PHONE).status_code == 302
    assert actions(db) == ["sign_in_refused"]


def test_phone_refused_before_pin_checked(client, db):
    post_login(client, "reception", "0000", environ_base=PHONE)

    assert staff_row(db, "reception")["failed_pins"] == 0


def test_phone_login_page_explains_pairing(client):
    page = client.get("/login", environ_base=PHONE).get_data(as_text=True)

    assert "Ghép điện thoại mới" in page
    assert 'name="pin"' not in page


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_loopback_signs_in_without_device(client, address):
    response = post_login(client, "reception", "1111", environ_base={"REMOTE_ADDR": address})

    assert response.status_code == 302


def test_laptop_session_ends_on_phone(client, db):
    sign_in(client, "reception")

    response = client.get("/roster/", environ_base=PHONE)

    assert urlsplit(response.headers["Location"]).path == "/login"
    assert client.get("/roster/").status_code == 302
    assert "device_missing" in db.execute("SELECT detail FROM audit_event WHERE action = 'session_ended'").fetchone()[0]


@pytest.mark.parametrize(
    ("address", "expected"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("192.168.1.23", False), ("10.0.0.1", False), ("", False), ("not-an-address", False)],
)
def test_is_loopback(address, expected):
    assert auth.is_loopback(address) is expected


# Sessions end when the account is disabled.


def test_disabled_staff_signed_out(app, officer, db):
    nurse = app.test_client()
    sign_in(nurse, "nurse")
    nurse_id = staff_row(db, "nurse")["id"]

    officer.post(f"/admin/staff/{nurse_id}/disable", data={"csrf_token": officer.csrf})

    assert nurse.get("/roster/").status_code == 302
    assert staff_row(db, "nurse")["active"] == 0


def test_disabled_staff_cannot_sign_in(client, db):
    with write(db):
        db.execute("UPDATE staff SET active = 0 WHERE username = 'nurse'")

    response = post_login(client, "nurse", "1357")

    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mã PIN không đúng" in response.get_data(as_text=True)


def test_enable_restores_sign_in(app, officer, db):
    nurse_id = staff_row(db, "nurse")["id"]
    officer.post(f"/admin/staff/{nurse_id}/disable", data={"csrf_token": officer.csrf})

    officer.post(f"/admin/staff/{nurse_id}/enable", data={"csrf_token": officer.csrf})

    assert post_login(app.test_client(), "nurse", "1357").status_code == 302


def test_admin_cannot_disable_self(officer, db):
    officer_id = staff_row(db, "officer")["id"]

    response = officer.post(f"/admin/staff/{officer_id}/disable", data={"csrf_token": officer.csrf})

    assert response.status_code == 400
    assert "Không thể khóa tài khoản đang đăng nhập" in response.get_data(as_text=True)
    assert staff_row(db, "officer")["active"] == 1


# Staff accounts on the admin page.


def create_form(officer, **fields) -> dict:
    form = {"display_name": "Nguyễn Thị Lan", "username": "Lan.NT", "role": "doctor", "pin": "482913",
            "csrf_token": officer.csrf}
    form.update(fields)
    return form


def test_staff_created(app, officer, db):
    response = officer.post("/admin/staff", data=create_form(officer))

    assert response.status_code == 302
    row = db.execute("SELECT display_name, role, active FROM staff WHERE username = 'lan.nt'").fetchone()
    assert row == ("Nguyễn Thị Lan", "doctor", 1)
    assert post_login(app.test_client(), "lan.nt", "482913").status_code == 302


def test_staff_page_lists_accounts(officer):
    page = officer.get("/admin/staff").get_data(as_text=True)

    assert "Officer" in page
    assert "Bàn khám" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pin", "123", "Mã PIN phải gồm 4 đến 12 chữ số."),
        ("pin", "1234567890123", "Mã PIN phải gồm 4 đến 12 chữ số."),
        ("pin", "12a4", "Mã PIN phải gồm 4 đến 12 chữ số."),
        ("username", "nurse", "Tên đăng nhập &#39;nurse&#39; đã có."),
        ("username", "lan nt", "Tên đăng nhập &#39;lan nt&#39; không hợp lệ."),
        ("role", "boss", "Vai trò &#39;boss&#39; không hợp lệ."),
        ("display_name", "  ", "Tài khoản cần có họ tên người dùng"),
    ],
)
def test_staff_form_rejects(officer, db, field, value, message):
    response = officer.post("/admin/staff", data=create_form(officer, **{field: value}))

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM staff").fetchone()[0] == len(PERSONAS)


def test_pin_reset_rejects_short_pin(officer, db):
    nurse_id = staff_row(db, "nurse")["id"]

    response = officer.post(f"/admin/staff/{nurse_id}/pin", data={"pin": "12", "csrf_token": officer.csrf})

    assert response.status_code == 400
    assert post_login(officer.application.test_client(), "nurse", "1357").status_code == 302


# Audit rows carry ids, never names, usernames or PINs.


def test_audit_rows_hold_no_names(app, officer, db, clock):
    officer.post("/admin/staff", data=create_form(officer))
    lan_id = staff_row(db, "lan.nt")["id"]
    officer.post(f"/admin/staff/{lan_id}/pin", data={"pin": "555666", "csrf_token": officer.csrf})
    officer.post(f"/admin/staff/{lan_id}/disable", data={"csrf_token": officer.csrf})
    stranger = app.test_client()
    for _ in range(5):
        post_login(stranger, "nurse", "864200")
    post_login(stranger, "ghost", "864200")
    phone = paired_phone(app, db)
    device_id = db.execute("SELECT id FROM device").fetchone()[0]
    post_login(phone, "reception", "1111")
    officer.post(f"/admin/devices/{device_id}/revoke", data={"csrf_token": officer.csrf})
    phone.get("/roster/")

    rows = db.execute("SELECT action, subject, detail FROM audit_event").fetchall()
    text = json.dumps(rows, ensure_ascii=False).lower()
    logged = {row[0] for row in rows}
    assert {"staff_created", "staff_pin_reset", "staff_disabled", "sign_in_failed", "account_locked", "pairing_started",
            "device_paired", "sign_in", "device_revoked", "session_ended"} <= logged
    for secret in ("lan.nt", "nguyễn thị lan", "nurse", "ghost", "reception", "officer", "482913", "555666", "864200",
                   "điện thoại"):
        assert secret not in text, secret


# The `fieldapp user` commands.


def invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args], catch_exceptions=False)


@pytest.fixture
def folder(tmp_path):
    invoke("user", "add", "--data-dir", tmp_path, "lan", "--role", "doctor", "--name", "Lan", "--pin", "4821")
    return tmp_path


def cli_staff(folder, username: str) -> tuple:
    db = connect(folder / DATABASE_NAME)
    row = db.execute("SELECT active, failed_pins, locked_until FROM staff WHERE username = ?", [username]).fetchone()
    db.conn.close()
    return row


def test_user_list(folder):
    result = invoke("user", "list", "--data-dir", folder)

    assert result.exit_code == 0
    assert "lan\tdoctor\tLan" in result.output


def test_user_pin_unlocks(folder):
    db = connect(folder / DATABASE_NAME)
    with write(db):
        db.execute("UPDATE staff SET failed_pins = 3, locked_until = '2999-01-01T00:00:00+00:00'")
    db.conn.close()

    result = invoke("user", "pin", "--data-dir", folder, "lan", "--pin", "7777")

    assert result.exit_code == 0
    assert cli_staff(folder, "lan") == (1, 0, None)


def test_user_pin_rejects_short_pin(folder):
    result = invoke("user", "pin", "--data-dir", folder, "lan", "--pin", "12")

    assert result.exit_code == 1
    assert "4 đến 12 chữ số" in result.output


def test_user_disable(folder):
    result = invoke("user", "disable", "--data-dir", folder, "lan")

    assert result.exit_code == 0
    assert cli_staff(folder, "lan")[0] == 0


def test_user_disable_unknown(folder):
    result = invoke("user", "disable", "--data-dir", folder, "tuan")

    assert result.exit_code == 1
    assert "Không tìm thấy tài khoản 'tuan'" in result.output


def test_user_add_rejects_taken_username(folder):
    result = invoke("user", "add", "--data-dir", folder, "LAN", "--role", "doctor", "--pin", "4821")

    assert result.exit_code == 2
    assert "đã có" in result.output
