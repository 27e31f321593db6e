"""Run a command inside the app for its data folder: the --data-dir option every command takes."""

import functools
import sys
from pathlib import Path

import click

from .app import create_app
from .db import DATABASE_NAME, connect
from .errors import FieldappError


def with_app(command):
    """Add --data-dir to a command and run it inside an app context for that folder."""

    @click.option(
        "--data-dir",
        envvar="FIELDAPP_DATA_DIR",
        default="fieldapp-data",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Folder holding the site's database and everything it writes (env FIELDAPP_DATA_DIR).",
    )
    @functools.wraps(command)
    def wrapper(*args, data_dir: str, **kwargs):
        app = create_app({"DATA_DIR": data_dir})
        with app.app_context():
            db = connect(Path(app.config["DATA_DIR"]) / DATABASE_NAME)
            try:
                return command(app, db, *args, **kwargs)
            except FieldappError as error:
                click.echo(f"{error.message}\n{error.hint}", err=True)
                sys.exit(1)
            finally:
                db.conn.close()

    return wrapper
