"""The application factory."""

import functools
import hashlib
import json
import logging
import os
from pathlib import Path

from flask import Flask, Response, g, has_request_context, redirect, render_template, request, session, url_for
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from . import (auth, checkin_views, crosscheck_views, db, device_views, display_views, doctor_views, entry_views,
               idempotency, import_views, review_views, roster_views, round_views, station_views, web)
from . import followup_views, sheet_views, sync_views
from .config import data_dir, secret_key

LANGUAGES = ("vi", "en")
csrf = CSRFProtect()
babel = Babel()
log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
# The files the service worker precaches, as globs under STATIC; fonts are only for the PDF slips.
PRECACHE_GLOBS = ("css/*.css", "js/*.js", "vendor/htmx/*.js", "icons/*.png", "icons/*.svg",
                  "vendor/zxing-wasm/*.js", "vendor/zxing-wasm/*.wasm")
# The PWA files must load before sign-in: the browser fetches the manifest without cookies.
PWA_ENDPOINTS = {"service_worker", "manifest", "offline"}


def select_locale() -> str:
    """Return the session's language on a page, FIELDAPP_LANG in a command, Vietnamese by default."""
    chosen = session.get("lang") if has_request_context() else os.environ.get("FIELDAPP_LANG")
    return chosen if chosen in LANGUAGES else "vi"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; test_config overrides settings (DATA_DIR, TESTING...).

    ROLE "central" builds the central store instead of the site, with its records in CENTRAL_DATABASE
    (a SQLAlchemy URL; default DATA_DIR/central.db). Staff accounts stay in DATA_DIR in both roles.
    """
    app = Flask(__name__)
    config = dict(test_config or {})
    folder = data_dir(config.get("DATA_DIR"))
    app.config.update(
        DATA_DIR=str(folder),
        SECRET_KEY=secret_key(folder),
        ROLE="site",
        BABEL_DEFAULT_LOCALE="vi",
        # The biggest list we accept is 64 MB; the form's other fields need a little more.
        MAX_CONTENT_LENGTH=65 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    web.init_app(app)
    auth.init_app(app)
    auth._OPEN_ENDPOINTS.update(PWA_ENDPOINTS)
    idempotency.init_app(app)
    blueprints = (roster_views.bp, import_views.bp, review_views.bp, crosscheck_views.bp, round_views.bp,
                  checkin_views.bp, device_views.bp, display_views.bp,
                  station_views.bp,
                  entry_views.bp,
                  doctor_views.bp,
                  sheet_views.bp, followup_views.bp,
                  sync_views.bp)
    if app.config["ROLE"] == "central":
        # The central store: the sites' API and the ward's pages instead of the exam-day screens.
        from . import central

        central.init_app(app, csrf)
        app.config["HOME_ENDPOINT"] = "central.index"
    else:
        for blueprint in blueprints:
            app.register_blueprint(blueprint)
        app.config["HOME_ENDPOINT"] = "roster.index"

    @app.get("/")
    def index():
        return redirect(url_for(auth.home_endpoint(g.staff["role"] if "staff" in g else "")))

    @app.post("/lang")
    def set_language():
        session["lang"] = request.form.get("lang") if request.form.get("lang") in LANGUAGES else "vi"
        return redirect(request.referrer or url_for(app.config["HOME_ENDPOINT"]))

    @app.get("/sw.js", endpoint="service_worker")
    def service_worker():
        files = tuple(precache_files())
        stamps = tuple((path.stat().st_mtime_ns, path.stat().st_size) for path in files)
        source = service_worker_source(files, stamps)
        response = Response(source, mimetype="text/javascript")
        # The root is already the default scope of /sw.js; the header lets a page register it explicitly.
        response.headers["Service-Worker-Allowed"] = "/"
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/manifest.webmanifest", endpoint="manifest")
    def manifest():
        response = Response((STATIC / "manifest.webmanifest").read_bytes(), mimetype="application/manifest+json")
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/offline", endpoint="offline")
    def offline():
        # The service worker caches this page, so it must contain no names and no CSRF token.
        return render_template("offline.html")

    @app.after_request
    def security_headers(response):
        # Everything is served by the laptop itself: no CDN, no inline scripts.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return app


def precache_files() -> list[Path]:
    """Return the static files the service worker precaches, sorted; optional ones count only when present."""
    return sorted({path for pattern in PRECACHE_GLOBS for path in STATIC.glob(pattern) if path.is_file()})


@functools.lru_cache(maxsize=4)
def service_worker_source(files: tuple[Path, ...], stamps: tuple) -> str:
    """Return static/sw.js after a header naming the precache URLs and a version hash of their contents.

    stamps (modification time and size per file) is only part of the cache key, so a changed file is
    hashed again.
    """
    worker = (STATIC / "sw.js").read_text(encoding="utf-8")
    digest = hashlib.sha256(worker.encode())
    urls = []
    for path in files:
        relative = path.relative_to(STATIC).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes())
        urls.append(f"/static/{relative}")
    urls.append("/manifest.webmanifest")
    digest.update((STATIC / "manifest.webmanifest").read_bytes())
    header = (
        "// Written by fieldapp/app.py for each request of /sw.js.\n"
        f"const VERSION = {json.dumps(digest.hexdigest()[:16])};\n"
        f"const PRECACHE_URLS = {json.dumps(urls, indent=2)};\n"
        'const OFFLINE_URL = "/offline";\n\n'
    )
    return header + worker
