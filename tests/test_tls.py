"""HTTPS on the LAN: the local CA, the per-start server certificate, the join app and the real `fieldapp serve`."""

import http.client
import ipaddress
import os
import re
import ssl
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store
from live_server import SiteServer

from fieldapp.join import JoinSite, create_join_app
from fieldapp.tls import TlsFilesError, prepare_site_tls

ADDRESSES = ["192.168.1.23", "10.0.0.7"]
HOSTNAME = "tram-y-te"
FIELDAPP_SCRIPT = Path(sys.executable).parent / "fieldapp"


def load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def san(certificate: x509.Certificate):
    return certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value


def test_ca_made_once(tmp_path):
    first = prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)
    first_pem = first.ca_path.read_bytes()

    second = prepare_site_tls(tmp_path, ["172.16.0.9"], HOSTNAME)

    assert second.ca_path.read_bytes() == first_pem
    assert second.fingerprint == first.fingerprint


def test_ca_fields(tmp_path):
    ca = load_cert(prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME).ca_path)

    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca.subject.rfc4514_string() == "CN=fieldapp CA — tram-y-te"
    assert constraints.ca is True
    assert constraints.path_length == 0
    assert usage.key_cert_sign is True
    assert usage.crl_sign is True
    assert usage.digital_signature is False
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days == 3652


def test_fingerprint_in_pairs(tmp_path):
    site_tls = prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)

    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", site_tls.fingerprint)


def test_server_cert_new_each_start(tmp_path):
    first = load_cert(prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME).cert_path)

    second = load_cert(prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME).cert_path)

    assert second.serial_number != first.serial_number


def test_server_cert_names(tmp_path):
    certificate = load_cert(prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME).cert_path)

    names = san(certificate)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == [*ADDRESSES, "127.0.0.1"]
    assert names.get_values_for_type(x509.DNSName) == ["localhost", HOSTNAME]


def test_server_cert_skips_invalid_hostname(tmp_path):
    certificate = load_cert(prepare_site_tls(tmp_path, ADDRESSES, "LAPTOP_01").cert_path)

    assert san(certificate).get_values_for_type(x509.DNSName) == ["localhost"]


def test_server_cert_limits(tmp_path):
    certificate = load_cert(prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME).cert_path)

    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert (certificate.not_valid_after_utc - certificate.not_valid_before_utc).days <= 397
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert constraints.ca is False


@pytest.mark.parametrize("address", [*ADDRESSES, "127.0.0.1"])
def test_server_cert_chains_to_ca(tmp_path, address):
    site_tls = prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)
    verifier = PolicyBuilder().store(Store([load_cert(site_tls.ca_path)])).build_server_verifier(
        x509.IPAddress(ipaddress.ip_address(address))
    )

    chain = verifier.verify(load_cert(site_tls.cert_path), [])

    assert chain[-1] == load_cert(site_tls.ca_path)


def test_server_cert_rejects_other_address(tmp_path):
    site_tls = prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)
    verifier = PolicyBuilder().store(Store([load_cert(site_tls.ca_path)])).build_server_verifier(x509.DNSName("example.org"))

    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(load_cert(site_tls.cert_path), [])


@pytest.mark.skipif(os.name == "nt", reason="Windows has no POSIX file modes")
@pytest.mark.parametrize("name", ["ca-key.pem", "server-key.pem"])
def test_key_files_private(tmp_path, name):
    prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)

    mode = (tmp_path / "tls" / name).stat().st_mode & 0o777

    assert mode == 0o600


def test_half_ca_rejected(tmp_path):
    site_tls = prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)
    (tmp_path / "tls" / "ca-key.pem").unlink()

    with pytest.raises(TlsFilesError, match="ca-key.pem is missing"):
        prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)

    assert site_tls.ca_path.exists()


@pytest.fixture
def join_client(tmp_path):
    site_tls = prepare_site_tls(tmp_path, ADDRESSES, HOSTNAME)
    app = create_join_app(JoinSite(ADDRESSES, HOSTNAME, 8000, 8443, site_tls))
    return app.test_client()


def test_join_redirect_keeps_query(join_client):
    response = join_client.get("/roster/?page=2", base_url="http://10.0.0.7:8000")

    assert response.status_code == 301
    assert response.headers["Location"] == "https://10.0.0.7:8443/roster/?page=2"


def test_join_redirect_post_308(join_client):
    response = join_client.post("/login", base_url="http://192.168.1.23:8000")

    assert response.status_code == 308
    assert response.headers["Location"] == "https://192.168.1.23:8443/login"


def test_join_unknown_host_uses_address(join_client):
    response = join_client.get("/roster/", base_url="http://evil.example:8000")

    assert response.headers["Location"] == "https://192.168.1.23:8443/roster/"


def test_join_page_from_loopback_shows_lan(join_client):
    page = join_client.get("/", base_url="http://127.0.0.1:8000").get_data(as_text=True)

    assert "http://192.168.1.23:8000/ca.pem" in page
    assert "https://192.168.1.23:8443/" in page


def test_join_sheet_inline_svg(join_client):
    page = join_client.get("/join-sheet").get_data(as_text=True)

    assert page.count("<svg") == 2
    assert "size: A4" in page
    assert "<script" not in page
    assert 'src="' not in page


# The real `fieldapp serve`, started once for the tests below.


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Start `fieldapp serve` with HTTPS and HTTP on free ports; yield ports, data folder and log."""
    folder = tmp_path_factory.mktemp("tls")
    data_dir = folder / "site"
    log = folder / "server.log"
    added = subprocess.run(
        [str(FIELDAPP_SCRIPT), "user", "add", "--data-dir", str(data_dir), "officer", "--role", "site_admin", "--pin", "2468"],
        capture_output=True, text=True, timeout=60,
    )
    assert added.returncode == 0, added.stderr

    with SiteServer(data_dir, log, https=True) as server:
        yield SimpleNamespace(https_port=server.https_port, http_port=server.http_port, data_dir=data_dir, log=log)


def https_request(served, method: str, path: str, body: str | None = None, headers: dict | None = None):
    """Send one request verified against the site's CA; return (status, headers, text)."""
    context = ssl.create_default_context(cafile=str(served.data_dir / "tls" / "ca.pem"))
    connection = http.client.HTTPSConnection("127.0.0.1", served.https_port, context=context, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode()
    finally:
        connection.close()


def http_request(served, path: str):
    """Send one plain-HTTP GET to the join port; return (status, headers, body bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", served.http_port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_serve_https_login(served):
    status, headers, page = https_request(served, "GET", "/login")

    assert status == 200, served.log.read_text(errors="replace")
    assert 'name="pin"' in page
    assert "Strict-Transport-Security" not in headers


def test_serve_session_cookie_secure(served):
    status, headers, page = https_request(served, "GET", "/login")
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    status, headers, _ = https_request(
        served, "POST", "/login", body=f"username=officer&pin=2468&csrf_token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )

    attributes = [part.strip().lower() for part in headers["Set-Cookie"].split(";")]
    assert status == 302
    assert headers["Location"] == "/roster/"
    assert "secure" in attributes
    assert "httponly" in attributes


def test_serve_join_page(served):
    fingerprint = re.search(r"SHA-256 của chứng chỉ .*: ([0-9A-F:]{95})", served.log.read_text()).group(1)

    status, _, body = http_request(served, "/")

    assert status == 200
    assert fingerprint in body.decode()
    assert "Certificate Trust Settings" in body.decode()


def test_serve_ca_download(served):
    status, headers, body = http_request(served, "/ca.pem")

    assert status == 200
    assert headers["Content-Type"] == "application/x-x509-ca-cert"
    assert headers["Content-Disposition"] == 'inline; filename="fieldapp-ca.crt"'
    assert body == (served.data_dir / "tls" / "ca.pem").read_bytes()


def test_serve_http_redirects(served):
    status, headers, _ = http_request(served, "/roster/")

    assert status == 301
    assert headers["Location"] == f"https://127.0.0.1:{served.https_port}/roster/"

