"""The HTTPS certificates in DATA_DIR/tls: the laptop's CA and the server certificate of the last `fieldapp serve`.

fieldapp/tls.py makes the CA once, valid 10 years, and never renews it: a new CA means installing it again on
every phone. It issues a new server certificate for the laptop's current addresses at every start of
`fieldapp serve`, so an old, expired or wrong-address server certificate is fixed by restarting the server.
"""

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from flask_babel import gettext as _

from .. import tls
from .result import ERROR, OK, WARNING, Result, format_date

# Warn a month ahead: replacing the CA means every phone must install the new one before the next exam day.
EXPIRY_WARNING = dt.timedelta(days=30)


@dataclass(frozen=True)
class CertificateCheck:
    """The lines about the certificates, and the notBefore times the clock check compares with."""

    results: list[Result]
    not_before: list[dt.datetime]


def _restart_hint() -> str:
    return _("Khởi động lại fieldapp serve: mỗi lần khởi động, fieldapp cấp chứng chỉ máy chủ mới cho các địa chỉ "
             "hiện tại của máy.")


def _new_ca_hint(folder: Path) -> str:
    return _("fieldapp không tự gia hạn chứng chỉ gốc: xóa thư mục %(folder)s, chạy fieldapp serve để tạo chứng chỉ "
             "gốc mới, rồi cài lại chứng chỉ trên mọi điện thoại (trang http://ĐỊA-CHỈ:8000/).", folder=folder)


def _validity(certificate: x509.Certificate) -> dict:
    return {"not_before": certificate.not_valid_before_utc.isoformat(),
            "not_after": certificate.not_valid_after_utc.isoformat()}


def _load_ca(folder: Path) -> tuple[x509.Certificate | None, Result | None]:
    """Return the CA certificate, or the line that explains why there is none; check its key without changing a file."""
    title = _("Chứng chỉ gốc (CA)")
    cert_path, key_path = folder / tls.CA_CERT_FILE, folder / tls.CA_KEY_FILE
    if not cert_path.exists() and not key_path.exists():
        return None, Result("ca_certificate", WARNING, title, _("chưa có trong %(folder)s.", folder=folder),
                            _("Chạy fieldapp serve một lần để tạo chứng chỉ, rồi cài chứng chỉ trên mọi điện thoại "
                              "trước ngày khám (trang http://ĐỊA-CHỈ:8000/)."), {"path": str(cert_path)})
    missing = [path for path in (cert_path, key_path) if not path.exists()]
    if missing:
        return None, Result("ca_certificate", ERROR, title,
                            _("thiếu tệp %(file)s, nên fieldapp serve sẽ không chạy được.", file=missing[0]),
                            _("Chép lại tệp từ bản sao lưu của thư mục dữ liệu.") + " " + _new_ca_hint(folder),
                            {"path": str(cert_path)})
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        return None, Result("ca_certificate", ERROR, title,
                            _("không đọc được %(folder)s (%(error)s).", folder=folder, error=error),
                            _("Chép lại thư mục từ bản sao lưu.") + " " + _new_ca_hint(folder), {"path": str(cert_path)})
    if certificate.public_key() != key.public_key():
        return None, Result("ca_certificate", ERROR, title,
                            _("%(cert)s và %(key)s không thuộc cùng một chứng chỉ.", cert=cert_path.name,
                              key=key_path.name),
                            _("Chép lại cả hai tệp từ cùng một bản sao lưu."), {"path": str(cert_path)})
    return certificate, None


def _validity_result(check: str, title: str, certificate: x509.Certificate, now: dt.datetime,
                     expired_hint: str, details: dict) -> Result:
    """Return the line for a certificate's validity: error when expired or not yet valid, warning within 30 days."""
    not_before, not_after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    details = {**details, **_validity(certificate), "days_left": (not_after - now).days}
    if now < not_before:
        return Result(check, ERROR, title, _("chưa có hiệu lực: có hiệu lực từ %(start)s.", start=format_date(not_before)),
                      _("Đồng hồ máy có thể đã bị lùi (xem dòng Đồng hồ): đặt lại ngày giờ, rồi khởi động lại "
                        "fieldapp serve."), details)
    if now >= not_after:
        return Result(check, ERROR, title, _("đã hết hạn ngày %(end)s.", end=format_date(not_after)), expired_hint,
                      details)
    if not_after - now < EXPIRY_WARNING:
        return Result(check, WARNING, title, _("còn %(days)s ngày, hết hạn ngày %(end)s.", days=(not_after - now).days,
                                               end=format_date(not_after)), expired_hint, details)
    return Result(check, OK, title, _("còn %(days)s ngày, đến %(end)s.", days=(not_after - now).days,
                                      end=format_date(not_after)), details=details)


def _check_server(folder: Path, ca: x509.Certificate, addresses: list[str],
                  now: dt.datetime) -> tuple[list[Result], x509.Certificate | None]:
    """Return the lines for the server certificate: its validity, its issuer, and the addresses it names."""
    title = _("Chứng chỉ máy chủ")
    path = folder / tls.SERVER_CERT_FILE
    if not path.exists():
        return [Result("server_certificate", WARNING, title, _("chưa có trong %(folder)s.", folder=folder),
                       _("Chạy fieldapp serve: mỗi lần khởi động, fieldapp cấp chứng chỉ máy chủ mới."),
                       {"path": str(path)})], None
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
        certificate.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature) as error:
        return [Result("server_certificate", ERROR, title,
                       _("%(file)s không đọc được hoặc không do chứng chỉ gốc của máy ký (%(error)s).", file=path,
                         error=str(error) or type(error).__name__), _restart_hint(), {"path": str(path)})], None

    validity = _validity_result("server_certificate", title, certificate, now, _restart_hint(), {"path": str(path)})
    return [validity, _check_addresses(certificate, addresses)], certificate


def _check_addresses(certificate: x509.Certificate, addresses: list[str]) -> Result:
    """Check that the server certificate names every current address of the laptop."""
    title = _("Địa chỉ trong chứng chỉ")
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        covered = {str(address) for address in names.get_values_for_type(x509.IPAddress)}
    except x509.ExtensionNotFound:
        covered = set()
    missing = [address for address in addresses if str(ipaddress.ip_address(address)) not in covered]
    details = {"addresses": addresses, "in_certificate": sorted(covered), "missing": missing}
    if missing:
        return Result("certificate_addresses", WARNING, title,
                      _("chứng chỉ máy chủ thiếu địa chỉ %(missing)s của máy (máy đã đổi mạng từ lần chạy fieldapp "
                        "serve trước).", missing=", ".join(missing)),
                      _("Ở điểm khám, vào mạng Wi-Fi của điểm khám trước, rồi khởi động lại fieldapp serve: mỗi lần "
                        "khởi động, fieldapp cấp chứng chỉ mới cho các địa chỉ hiện tại của máy."), details)
    return Result("certificate_addresses", OK, title, _("có đủ địa chỉ hiện tại của máy: %(addresses)s.",
                                                        addresses=", ".join(addresses)), details=details)


def check_certificates(data_dir: Path, addresses: list[str], now: dt.datetime) -> CertificateCheck:
    """Check the CA and the server certificate in DATA_DIR/tls against the clock and the laptop's addresses."""
    folder = data_dir / tls.TLS_FOLDER
    ca, problem = _load_ca(folder)
    if ca is None:
        return CertificateCheck([problem], [])

    ca_result = _validity_result("ca_certificate", _("Chứng chỉ gốc (CA)"), ca, now, _new_ca_hint(folder),
                                 {"path": str(folder / tls.CA_CERT_FILE), "fingerprint": tls.fingerprint(ca)})
    server_results, server = _check_server(folder, ca, addresses, now)
    not_before = [certificate.not_valid_before_utc for certificate in (ca, server) if certificate is not None]
    return CertificateCheck([ca_result, *server_results], not_before)
