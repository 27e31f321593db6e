"""A small stand-in for the central store's HTTP API of docs/sync.md, to test the site's sync client over real HTTP.

It keeps everything in memory, verifies signatures and batches with fieldapp.sync.batches, and can
be configured to fail the next requests to /api/batches: answer 503, drop the connection before applying
the batch, or apply it and drop the connection before answering.
"""

import secrets
import socket
import threading

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from fieldapp.db import new_id
from fieldapp.sync import batches


class FakeCentral:
    """The central store's state: sites, one-time codes, received records by (site, seq), packages, faults to inject."""

    def __init__(self):
        self.codes: dict[str, str] = {}
        self.sites: dict[str, dict] = {}
        self.records: dict[tuple[str, int], dict] = {}
        self.stored = 0
        self.acknowledged: dict[str, int] = {}
        self.packages: dict[str, dict] = {}
        self.faults: list[str] = []
        self.status_offset = 0
        self.paths: list[str] = []

    def new_code(self, name: str) -> str:
        code = secrets.token_hex(4)
        self.codes[code] = name
        return code

    def site_named(self, name: str) -> str:
        return next(site_id for site_id, site in self.sites.items() if site["name"] == name)


def create_app(central: FakeCentral) -> Flask:
    app = Flask(__name__)

    def site_or_error():
        site_id = request.headers.get("X-Fieldapp-Site", "")
        site = central.sites.get(site_id)
        if site is None:
            return None, (jsonify(error="unknown_site"), 401)
        try:
            batches.verify(site["public_key"], request.get_data(), request.headers.get("X-Fieldapp-Signature", ""))
        except batches.BatchError:
            return None, (jsonify(error="signature"), 401)
        if site["revoked"]:
            return None, (jsonify(error="site_revoked"), 403)
        return site_id, None

    @app.before_request
    def note_path():
        central.paths.append(request.path)

    @app.post("/api/enrol")
    def enrol():
        body = request.get_json()
        name = central.codes.pop(body.get("code"), None)
        if name is None:
            return jsonify(error="enrol_code_invalid"), 403
        site_id = new_id()
        central.sites[site_id] = {"name": name, "public_key": body["public_key"], "revoked": False}
        central.acknowledged[site_id] = 0
        return jsonify(site_id=site_id, name=name)

    @app.post("/api/status")
    def status():
        site_id, refused = site_or_error()
        if refused:
            return refused
        return jsonify(acknowledged_through=central.acknowledged[site_id] + central.status_offset)

    @app.post("/api/batches")
    def receive():
        fault = central.faults.pop(0) if central.faults else None
        if fault == "503":
            return jsonify(error="busy"), 503
        if fault == "drop":
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return "", 200
        site_id, refused = site_or_error()
        if refused:
            return refused
        batch = request.get_json()
        try:
            batches.check_batch(batch)
        except batches.BatchError as error:
            return jsonify(error=error.code), 400
        acknowledged = central.acknowledged[site_id]
        if batch["first_seq"] > acknowledged + 1:
            return jsonify(error="sequence_gap", expected_seq=acknowledged + 1), 409

        answers = []
        for record in batch["records"]:
            if record["seq"] <= acknowledged:
                answers.append({"seq": record["seq"], "status": "duplicate"})
                continue
            central.records[(site_id, record["seq"])] = record
            central.stored += 1
            answers.append({"seq": record["seq"], "status": "stored"})
        central.acknowledged[site_id] = max(acknowledged, batch["last_seq"])
        if fault == "apply_then_drop":
            request.environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
            return "", 200
        return jsonify(acknowledged_through=central.acknowledged[site_id], records=answers)

    @app.post("/api/package")
    def package():
        site_id, refused = site_or_error()
        if refused:
            return refused
        if site_id not in central.packages:
            return jsonify(error="no_package"), 404
        return jsonify(central.packages[site_id])

    return app


class Server:
    """A WSGI app served on 127.0.0.1 in a background thread, over plain HTTP or with a cheroot TLS server."""

    def __init__(self, app: Flask, site_tls=None):
        if site_tls is None:
            self.server = make_server("127.0.0.1", 0, app, threaded=True)
            self.url = f"http://127.0.0.1:{self.server.server_port}"
            self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        else:
            from fieldapp.tls import https_server

            self.server = https_server(app, "127.0.0.1", free_port(), site_tls, threads=2)
            self.server.prepare()
            self.url = f"https://127.0.0.1:{self.server.bind_addr[1]}"
            self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if hasattr(self.server, "shutdown"):
            self.server.shutdown()
            self.server.server_close()
        else:
            self.server.stop()
        self.thread.join(timeout=10)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
