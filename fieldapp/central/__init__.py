"""The central record store: the same Flask app in the "central" role (create_app({"ROLE": "central"}))."""

from .store import connect, database_url


def central_engine(app):
    """Return the app's engine for the central record store, connecting (and creating tables) on first use."""
    engine = app.extensions.get("central_engine")
    if engine is None:
        url = database_url(app.config["DATA_DIR"], app.config.get("CENTRAL_DATABASE"))
        engine = app.extensions["central_engine"] = connect(url)
    return engine


def init_app(app, csrf) -> None:
    """Register the central role's blueprints: the sites' API, the ward's pages, review, staff and device admin."""
    from .. import device_views
    from . import api, review_views, views

    api.init_app(app, csrf)
    app.register_blueprint(views.bp)
    app.register_blueprint(review_views.bp)
    app.register_blueprint(device_views.bp)
