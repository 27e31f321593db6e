"""The application factory."""

import logging
import os

from flask import Flask, has_request_context, redirect, request, session, url_for
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from . import auth, checkin_views, crosscheck_views, db, device_views, import_views, review_views, roster_views, round_views, web
from .config import data_dir, secret_key

LANGUAGES = ("vi", "en")
csrf = CSRFProtect()
babel = Babel()
log = logging.getLogger(__name__)


def select_locale() -> str:
    """Return the session's language on a page, FIELDAPP_LANG in a command, Vietnamese by default."""
    chosen = session.get("lang") if has_request_context() else os.environ.get("FIELDAPP_LANG")
    return chosen if chosen in LANGUAGES else "vi"


def create_app(test_config: dict | None = None) -> Flask:
    """Build the site app; test_config overrides settings (DATA_DIR, TESTING...)."""
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
    blueprints = (roster_views.bp, import_views.bp, review_views.bp, crosscheck_views.bp, round_views.bp,
                  checkin_views.bp, device_views.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.get("/")
    def index():
        return redirect(url_for("roster.index"))

    @app.post("/lang")
    def set_language():
        session["lang"] = request.form.get("lang") if request.form.get("lang") in LANGUAGES else "vi"
        return redirect(request.referrer or url_for("roster.index"))

    @app.after_request
    def security_headers(response):
        # Everything is served by the laptop itself: no CDN, no inline scripts.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return app
