"""HTTPS on the site's Wi-Fi: a local certificate authority per laptop and a server certificate per start.

Phones install and trust the CA once (see fieldapp/join.py). The server certificate is remade at
every start for the laptop's current addresses, so a new Wi-Fi address needs no new install.
Keys are ECDSA P-256, which Android 4.0 and later and iOS accept and which makes TLS handshakes cheap.
"""

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

TLS_FOLDER = "tls"
CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
CA_DAYS = 3652
# Apple's platforms reject TLS server certificates issued since 2020-09-01 that are valid for over 398 days.
SERVER_DAYS = 397
# Phones with a clock a little behind the laptop's still accept a certificate issued "now".
CLOCK_SKEW = dt.timedelta(hours=1)
COMMON_NAME_MAX = 64
# cheroot closes idle keep-alive connections beyond its default of 10, so with more phones most requests
# would pay a new TLS handshake (bench/tls_bench.py, "cheroot-default" against "cheroot").
KEEP_ALIVE_CONNECTIONS = 200
# Every phone and TV reconnects at once after a restart or a Wi-Fi drop, and cheroot handshakes in
# its one accepting thread: with its default backlog of 5, 60 connections at once took up to 29 s
# (bench/display_push.py), with 128 at most 0.32 s.
LISTEN_BACKLOG = 128
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class TlsFilesError(Exception):
    """The data folder's tls/ files are incomplete or unreadable."""


@dataclass(frozen=True)
class SiteTls:
    """Paths of the files a start uses, and the CA's fingerprint for staff to compare on phones."""

    ca_path: Path
    cert_path: Path
    key_path: Path
    fingerprint: str
    ca_name: str


def fingerprint(certificate: x509.Certificate) -> str:
    """Return the SHA-256 fingerprint as colon-separated hex pairs, as Android and iOS show it."""
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def ca_common_name(hostname: str) -> str:
    """Return "fieldapp CA — HOSTNAME", with the hostname cut to fit X.509's 64-character limit."""
    prefix = "fieldapp CA — "
    return prefix + hostname[: COMMON_NAME_MAX - len(prefix)]


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable only by its owner (0600), replacing any old one in a single rename."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(temporary, 0o600)  # os.open's mode is masked by the umask, and an old .tmp keeps its mode.
    os.replace(temporary, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def create_ca(hostname: str, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Create a self-signed CA valid for 10 years that may sign only end-entity certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_common_name(hostname))])
    public_key = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now - CLOCK_SKEW + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def load_or_create_ca(folder: Path, hostname: str, now: dt.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Load the CA from folder, or create it there on the first start.

    Raises TlsFilesError when only one of the two files exists: a new CA would make every phone
    install a certificate again, so that choice is left to the person at the laptop.
    """
    cert_path, key_path = folder / CA_CERT_FILE, folder / CA_KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        certificate, key = create_ca(hostname, now)
        folder.mkdir(parents=True, exist_ok=True)
        _write_private(key_path, _key_pem(key))
        cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        log.info("created certificate authority %s in %s", fingerprint(certificate), folder)
        return certificate, key

    missing = [path for path in (cert_path, key_path) if not path.exists()]
    if missing:
        raise TlsFilesError(f"{missing[0]} is missing; restore it from a backup, or delete {folder} to create a new CA")
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError as error:
        raise TlsFilesError(f"{folder} contains an invalid CA ({error}); restore it, or delete {folder} to create a new CA") from error
    if certificate.public_key() != key.public_key():
        raise TlsFilesError(f"{cert_path} and {key_path} do not belong together; restore both from one backup")
    return certificate, key


def subject_alternative_names(addresses: list[str], hostname: str) -> list[x509.GeneralName]:
    """Return IP entries for the addresses and 127.0.0.1, and DNS entries for localhost and the hostname.

    A hostname that is not a valid DNS name (a Windows name with "_", say) is left out.
    """
    names: list[x509.GeneralName] = []
    for address in dict.fromkeys([*addresses, "127.0.0.1"]):
        names.append(x509.IPAddress(ipaddress.ip_address(address)))
    for dns_name in dict.fromkeys(["localhost", hostname.lower()]):
        if dns_name and all(_DNS_LABEL.match(label) for label in dns_name.split(".")):
            names.append(x509.DNSName(dns_name))
    return names


def issue_server_certificate(
    ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, addresses: list[str], hostname: str, now: dt.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Issue a TLS server certificate for the addresses and hostname, valid 397 days or until the CA ends."""
    key = ec.generate_private_key(ec.SECP256R1())
    not_before = now - CLOCK_SKEW
    not_after = min(not_before + dt.timedelta(days=SERVER_DAYS), ca_cert.not_valid_after_utc)
    ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"fieldapp {hostname}"[:COMMON_NAME_MAX])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(subject_alternative_names(addresses, hostname)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def prepare_site_tls(data_dir: Path, addresses: list[str], hostname: str | None = None) -> SiteTls:
    """Load or create the CA in DATA_DIR/tls and write a new server certificate for this start."""
    hostname = hostname or socket.gethostname()
    folder = Path(data_dir) / TLS_FOLDER
    now = dt.datetime.now(dt.timezone.utc)
    ca_cert, ca_key = load_or_create_ca(folder, hostname, now)
    if ca_cert.not_valid_after_utc <= now + dt.timedelta(days=30):
        log.warning("certificate authority in %s expires on %s; delete the folder and reinstall it on every phone",
                    folder, ca_cert.not_valid_after_utc.date())

    certificate, key = issue_server_certificate(ca_cert, ca_key, addresses, hostname, now)
    key_path, cert_path = folder / SERVER_KEY_FILE, folder / SERVER_CERT_FILE
    _write_private(key_path, _key_pem(key))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    common_name = ca_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return SiteTls(folder / CA_CERT_FILE, cert_path, key_path, fingerprint(ca_cert), str(common_name))


def configure_app_for_https(app) -> None:
    """Set the site app's cookie and CSRF settings for being served only over HTTPS.

    The app sends "Referrer-Policy: no-referrer", so browsers send no Referer header, and Flask-WTF's
    HTTPS-only Referer check would reject every form. The CSRF token and the SameSite=Lax session
    cookie still protect POSTs. No HSTS header is sent: phones would refuse the site after a new CA.
    """
    app.config.update(SESSION_COOKIE_SECURE=True, WTF_CSRF_SSL_STRICT=False, PREFERRED_URL_SCHEME="https")


def https_server(app, host: str, port: int, site_tls: SiteTls, threads: int):
    """Build (not start) a cheroot WSGI server for app with TLS from site_tls.

    NOTE: cheroot 11 runs each TLS handshake in its accepting thread, with the server's 10 s socket
    timeout, so a client that connects and stalls delays new connections for up to 10 s.
    """
    from cheroot.ssl.builtin import BuiltinSSLAdapter
    from cheroot.wsgi import Server

    server = Server((host, port), app, numthreads=threads, server_name="fieldapp")
    server.ssl_adapter = BuiltinSSLAdapter(str(site_tls.cert_path), str(site_tls.key_path))
    server.keep_alive_conn_limit = KEEP_ALIVE_CONNECTIONS
    server.request_queue_size = LISTEN_BACKLOG
    return server
