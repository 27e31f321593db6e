"""Pairing phones by QR, the device cookie, last-seen times, revocation, and where phones reach the site."""

import re

import pytest
from conftest import csrf_token, sign_in

from fieldapp import device_views
from fieldapp.devices import DEVICE_COOKIE, hash_secret

PHONE = {"REMOTE_ADDR": "192.168.1.23"}
DEVICE_NAME = "Điện thoại đón tiếp 1"


def start_pairing(admin, name: str = DEVICE_NAME):
    """Ask for a pairing QR as a signed-in admin; return the response and the token it shows."""
    response = admin.post("/admin/devices/pair", data={"name": name, "csrf_token": csrf_token(admin, "/admin/devices")})
    found = re.search(r"/pair/([A-Za-z0-9_-]+)", response.get_data(as_text=True))
    return response, found.group(1) if found else None


def paired_phone(app, db, name: str = DEVICE_NAME):
    """Return a test client on a Wi-Fi address whose device was paired by the officer."""
    admin = app.test_client()
    sign_in(admin, "officer")
    _, token = start_pairing(admin, name)
    phone = app.test_client()
    phone.environ_base.update(PHONE)
    assert phone.get(f"/pair/{token}").status_code == 302
    return phone


def phone_sign_in(phone, persona: str = "reception", pin: str = "1111"):
    return phone.post("/login", data={"username": persona, "pin": pin, "csrf_token": csrf_token(phone)})


def device_row(db) -> dict:
    cursor = db.execute("SELECT * FROM device")
    return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))


# The pairing page.


def test_pairing_page_shows_qr_and_token(officer, db):
    response, token = start_pairing(officer)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<svg" in page
    assert f"<code>{token}</code>" in page
    assert response.headers["Cache-Control"] == "no-store"


def test_pairing_token_stored_hashed(officer, db):
    _, token = start_pairing(officer)

    stored = db.execute("SELECT token_hash, device_name, expires_at FROM pairing_token").fetchall()
    assert stored[0][0] == hash_secret(token)
    assert token not in repr(stored)
    assert stored[0][1] == DEVICE_NAME


def test_pairing_needs_device_name(officer, db):
    response, _ = start_pairing(officer, "   ")

    assert response.status_code == 400
    assert "Thiết bị cần có tên." in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM pairing_token").fetchone()[0] == 0


# The laptop's addresses as network.local_addresses() orders them: the first private one is not --host.
LAPTOP_ADDRESSES = ["192.168.1.10", "192.168.1.5", "127.0.0.1"]
LOOPBACK_WARNING = "Điện thoại chưa vào được fieldapp: máy chủ chỉ nhận kết nối từ chính máy tính này"


@pytest.fixture
def laptop(monkeypatch):
    monkeypatch.setattr(device_views, "local_addresses", lambda: LAPTOP_ADDRESSES)


@pytest.mark.parametrize(("serve_host", "site_url", "expected"), [
    # Not started by `fieldapp serve`, or listening on every interface: a loopback host becomes the first address.
    (None, "https://127.0.0.1:8443", "https://192.168.1.10:8443"),
    ("0.0.0.0", "https://127.0.0.1:8443", "https://192.168.1.10:8443"),
    ("0.0.0.0", "http://localhost:8000", "http://192.168.1.10:8000"),
    ("::", "https://[::1]:8443", "https://192.168.1.10:8443"),
    ("0.0.0.0", "http://192.168.1.5:8000", "http://192.168.1.5:8000"),
    (None, "http://192.168.1.10:8000", "http://192.168.1.10:8000"),
    # Listening on loopback only: no phone can reach it, so the QR keeps an address that works on the laptop.
    ("127.0.0.1", "https://127.0.0.1:8443", "https://127.0.0.1:8443"),
    ("localhost", "http://localhost:8000", "http://localhost:8000"),
    # Listening on one address: only that one works.
    ("192.168.1.5", "https://127.0.0.1:8443", "https://192.168.1.5:8443"),
    ("192.168.1.5", "https://192.168.1.5:8443", "https://192.168.1.5:8443"),
    ("192.168.1.5", "https://laptop.local:8443", "https://192.168.1.5:8443"),
    ("fd00::5", "https://[::1]:8443", "https://[fd00::5]:8443"),
])
def test_pairing_url_host(app, laptop, serve_host, site_url, expected):
    app.config["SERVE_HOST"] = serve_host

    with app.test_request_context("/admin/devices", base_url=site_url):
        url = device_views.pairing_url("abc")

    assert url == f"{expected}/pair/abc"


@pytest.mark.parametrize(("serve_host", "host", "expected"), [
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.1", "localhost", True),
    ("localhost", "[::1]", True),
    # Behind a reverse proxy the browser reached the site by another name.
    ("127.0.0.1", "site.example", False),
    ("0.0.0.0", "127.0.0.1", False),
    ("192.168.1.5", "192.168.1.5", False),
    (None, "localhost", False),
])
def test_loopback_only(app, serve_host, host, expected):
    app.config["SERVE_HOST"] = serve_host

    with app.app_context():
        assert device_views.loopback_only(host) is expected


def test_pairing_on_loopback_keeps_qr_and_warns(app, officer):
    app.config["SERVE_HOST"] = "127.0.0.1"

    response, token = start_pairing(officer)

    page = response.get_data(as_text=True)
    url = f"http://localhost/pair/{token}"
    assert f"<code>{url}</code>" in page
    assert str(device_views.qr_svg(url)) in page
    assert LOOPBACK_WARNING in page
    assert "chạy lại lệnh fieldapp serve, không thêm --host 127.0.0.1" in page


def test_pairing_on_one_address_uses_it(app, officer, laptop):
    app.config["SERVE_HOST"] = "192.168.1.5"

    response, token = start_pairing(officer)

    page = response.get_data(as_text=True)
    url = f"http://192.168.1.5/pair/{token}"
    assert f"<code>{url}</code>" in page
    assert str(device_views.qr_svg(url)) in page
    assert LOOPBACK_WARNING not in page


@pytest.mark.parametrize(("serve_host", "warned"), [
    ("127.0.0.1", True),
    ("localhost", True),
    ("0.0.0.0", False),
    ("192.168.1.5", False),
    (None, False),
])
@pytest.mark.parametrize("path", ["/admin/devices", "/admin/staff"])
def test_loopback_warning_on_admin_pages(app, officer, serve_host, warned, path):
    app.config["SERVE_HOST"] = serve_host

    page = officer.get(path).get_data(as_text=True)

    assert (LOOPBACK_WARNING in page) is warned


# The join sheet link.


@pytest.mark.parametrize(("serve_host", "expected"), [
    ("0.0.0.0", "http://192.168.1.10:8000/join-sheet"),
    ("127.0.0.1", "http://localhost:8000/join-sheet"),
    ("192.168.1.5", "http://192.168.1.5:8000/join-sheet"),
])
@pytest.mark.parametrize("path", ["/admin/devices", "/admin/staff"])
def test_join_sheet_linked_with_https(app, officer, laptop, serve_host, expected, path):
    app.config.update(SERVE_HOST=serve_host, JOIN_HTTP_PORT=8000)

    page = officer.get(path).get_data(as_text=True)

    assert f'<a href="{expected}" target="_blank" rel="noopener">Tờ hướng dẫn kết nối điện thoại (để in)</a>' in page


def test_join_sheet_linked_from_pairing_page(app, officer, laptop):
    app.config.update(SERVE_HOST="0.0.0.0", JOIN_HTTP_PORT=8000)

    response, _ = start_pairing(officer)

    assert 'href="http://192.168.1.10:8000/join-sheet"' in response.get_data(as_text=True)


def test_join_sheet_not_linked_without_https(app, officer):
    app.config["SERVE_HOST"] = "0.0.0.0"

    pages = [officer.get(path).get_data(as_text=True) for path in ("/admin/devices", "/admin/staff")]
    pages.append(start_pairing(officer)[0].get_data(as_text=True))

    for page in pages:
        assert "/join-sheet" not in page
        assert "Tờ hướng dẫn kết nối điện thoại" not in page


# Visiting the pairing link on the phone.


def test_pair_creates_device_and_cookie(app, officer, db, clock):
    _, token = start_pairing(officer)
    phone = app.test_client()

    response = phone.get(f"/pair/{token}", environ_base=PHONE)

    cookie = response.headers["Set-Cookie"]
    device = device_row(db)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert cookie.startswith(f"{DEVICE_COOKIE}={device['id']}.")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Max-Age=34560000" in cookie
    assert device["name"] == DEVICE_NAME
    assert device["paired_at"] == "2026-03-02T01:00:00+00:00"
    assert device["paired_by"] == db.execute("SELECT id FROM staff WHERE username = 'officer'").fetchone()[0]
    assert device["secret_hash"] not in cookie


def test_pair_cookie_secure_over_https(app, officer):
    _, token = start_pairing(officer)

    response = app.test_client().get(f"/pair/{token}", base_url="https://192.168.1.10:8443", environ_base=PHONE)

    assert "Secure" in response.headers["Set-Cookie"]


def test_pairing_token_single_use(app, officer, db):
    _, token = start_pairing(officer)
    app.test_client().get(f"/pair/{token}", environ_base=PHONE)

    response = app.test_client().get(f"/pair/{token}", environ_base=PHONE)

    assert response.status_code == 410
    assert "Mã ghép này đã được dùng." in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers or DEVICE_COOKIE not in response.headers["Set-Cookie"]
    assert db.execute("SELECT count(*) FROM device").fetchone()[0] == 1


def test_pairing_token_valid_before_five_minutes(app, officer, db, clock):
    _, token = start_pairing(officer)
    clock.advance(minutes=4, seconds=59)

    response = app.test_client().get(f"/pair/{token}", environ_base=PHONE)

    assert response.status_code == 302


def test_pairing_token_expires_at_five_minutes(app, officer, db, clock):
    _, token = start_pairing(officer)
    clock.advance(minutes=5)

    response = app.test_client().get(f"/pair/{token}", environ_base=PHONE)

    assert response.status_code == 410
    assert "Mã ghép đã hết hạn" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM device").fetchone()[0] == 0
    assert db.execute("SELECT used_at FROM pairing_token").fetchone()[0] is None


def test_unknown_pairing_token(client, db):
    response = client.get("/pair/not-a-token", environ_base=PHONE)

    assert response.status_code == 404
    assert "Mã ghép điện thoại không đúng." in response.get_data(as_text=True)
    assert db.execute("SELECT detail FROM audit_event WHERE action = 'pairing_refused'").fetchone()[0] == (
        '{"reason": "pairing_token_unknown"}')


# Signing in on a paired phone.


def test_paired_phone_signs_in(app, db):
    phone = paired_phone(app, db)

    response = phone_sign_in(phone)

    assert response.status_code == 302
    assert phone.get("/roster/").status_code == 200


def test_session_holds_staff_and_device(app, db):
    phone = paired_phone(app, db)

    phone_sign_in(phone)

    with phone.session_transaction() as session:
        assert session["device_id"] == device_row(db)["id"]
        assert session["staff_id"] == db.execute("SELECT id FROM staff WHERE username = 'reception'").fetchone()[0]


def test_forged_device_cookie_refused(app, db):
    paired_phone(app, db)
    stranger = app.test_client()
    stranger.environ_base.update(PHONE)
    stranger.set_cookie(DEVICE_COOKIE, f"{device_row(db)['id']}.guessed-secret")

    response = phone_sign_in(stranger)

    assert response.status_code == 403


def test_revoked_phone_signed_out(app, officer, db):
    phone = paired_phone(app, db)
    phone_sign_in(phone)
    device_id = device_row(db)["id"]

    officer.post(f"/admin/devices/{device_id}/revoke", data={"csrf_token": officer.csrf})
    response = phone.get("/roster/")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    assert "chưa được ghép" in phone.get("/login").get_data(as_text=True)
    assert phone_sign_in(phone).status_code == 403
    assert device_row(db)["revoked_at"] is not None


def test_revoked_device_session_ends_at_laptop(app, officer, db):
    phone = paired_phone(app, db)
    phone_sign_in(phone)
    phone.environ_base["REMOTE_ADDR"] = "127.0.0.1"

    officer.post(f"/admin/devices/{device_row(db)['id']}/revoke", data={"csrf_token": officer.csrf})

    assert phone.get("/roster/").status_code == 302


def test_revoke_unknown_device(officer):
    response = officer.post("/admin/devices/01a24000-0000-7000-8000-000000000000/revoke",
                            data={"csrf_token": officer.csrf})

    assert response.status_code == 404


# Last seen.


def test_last_seen_written_once_a_minute(app, db, clock):
    phone = paired_phone(app, db)
    phone_sign_in(phone)
    clock.advance(seconds=59)
    phone.get("/roster/")
    within_minute = device_row(db)["last_seen"]
    clock.advance(seconds=1)

    phone.get("/roster/")

    assert within_minute == "2026-03-02T01:00:00+00:00"
    assert device_row(db)["last_seen"] == "2026-03-02T01:01:00+00:00"


# The device list.


def test_device_list_shows_devices(app, officer, db):
    paired_phone(app, db)

    page = officer.get("/admin/devices").get_data(as_text=True)

    assert DEVICE_NAME in page
    assert "Officer" in page
    assert "Thu hồi" in page


def test_device_list_marks_revoked(app, officer, db):
    paired_phone(app, db)
    officer.post(f"/admin/devices/{device_row(db)['id']}/revoke", data={"csrf_token": officer.csrf})

    page = officer.get("/admin/devices").get_data(as_text=True)

    assert "Đã thu hồi lúc" in page
    assert f"/admin/devices/{device_row(db)['id']}/revoke" not in page
