"""The plain-HTTP app that helps a phone join: the CA certificate, how to trust it, and the way to HTTPS.

Phones reach this app before they trust the laptop's CA, so it serves only public things: the join
page, its printable A4 version and the CA certificate. Every other request is redirected to the same
path on the HTTPS port. The pages are Vietnamese only, have no scripts, and draw QR codes as inline SVG.
"""

from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from flask import Flask, Response, redirect, render_template, request
from markupsafe import Markup

from .tls import SiteTls

# .crt is the extension that Android's "Install a certificate" picker and Windows both open as a certificate.
CA_DOWNLOAD_NAME = "fieldapp-ca.crt"
# GET and HEAD of "/" show the join page, so "/" redirects only the methods after them.
REDIRECTED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"


@dataclass(frozen=True)
class JoinSite:
    """The site's addresses and ports, and the certificate details phones need to trust it."""

    addresses: list[str]
    hostname: str
    http_port: int
    https_port: int
    tls: SiteTls

    def known_hosts(self) -> set[str]:
        """Return the host names the server certificate lists, so only they end up in links and QR codes."""
        return {*self.addresses, "127.0.0.1", "localhost", self.hostname.lower()}


def qr_svg(text: str) -> Markup:
    """Return a QR code of text as an inline <svg> element (no XML declaration)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    return Markup(image.to_string(encoding="unicode"))


def _request_host(site: JoinSite) -> str:
    """Return the host the phone used when the certificate lists it, else the laptop's first address."""
    host = request.host.rsplit(":", 1)[0].lower() if not request.host.startswith("[") else ""
    return host if host in site.known_hosts() else site.addresses[0]


def _phone_host(site: JoinSite) -> str:
    """Return the host to put in QR codes: a phone cannot reach the laptop's loopback address."""
    host = _request_host(site)
    if host in ("127.0.0.1", "localhost"):
        reachable = [address for address in site.addresses if not address.startswith("127.")]
        return reachable[0] if reachable else host
    return host


def create_join_app(site: JoinSite) -> Flask:
    """Build the join app for site."""
    app = Flask(__name__)

    def page_context() -> dict:
        host = _phone_host(site)
        ca_url = f"http://{host}:{site.http_port}/ca.pem"
        site_url = f"https://{host}:{site.https_port}/"
        return {
            "ca_url": ca_url,
            "site_url": site_url,
            "ca_qr": qr_svg(ca_url),
            "site_qr": qr_svg(site_url),
            "fingerprint": site.tls.fingerprint,
            "ca_name": site.tls.ca_name,
            "download_name": CA_DOWNLOAD_NAME,
        }

    @app.get("/")
    def join_page():
        return render_template("join/page.html", **page_context())

    @app.get("/join-sheet")
    def join_sheet():
        return render_template("join/sheet.html", **page_context())

    @app.get("/ca.pem")
    def ca_certificate():
        # Inline, not attachment: iOS Safari then offers to install the profile, and Android's Chrome
        # still saves the file to Downloads, where the certificate installer finds it.
        response = Response(site.tls.ca_path.read_bytes(), mimetype="application/x-x509-ca-cert")
        response.headers["Content-Disposition"] = f'inline; filename="{CA_DOWNLOAD_NAME}"'
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.route("/", methods=REDIRECTED_METHODS[2:], defaults={"path": ""})
    @app.route("/<path:path>", methods=REDIRECTED_METHODS)
    def to_https(path: str):
        path_and_query = request.full_path if request.query_string else request.path
        target = f"https://{_request_host(site)}:{site.https_port}{path_and_query}"
        # 308 keeps the method and body of a form POST; GET and HEAD get the widely cached 301.
        return redirect(target, code=301 if request.method in ("GET", "HEAD") else 308)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return app
