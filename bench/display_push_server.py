"""The server side of bench/display_push.py: `fieldapp serve` with a bench-only SSE blueprint.

    python bench/display_push_server.py serve --data-dir DIR [serve options]

runs the real `fieldapp serve` command on an app that also has
- /bench-events/desk/<desk_id> and /bench-events/board?site=<site_id>: server-sent event streams that send a
  small `changed` event when the desk's line or the site's board changes, found by one watcher thread that
  reads the queue tables every WATCH_SECONDS;
- a WSGI middleware that counts requests in flight, streams included, and appends a sample of the count
  every SAMPLE_EVERY_SECONDS to DATA_DIR/bench-inflight.txt as "monotonic-seconds count" lines.
The product's routes are unchanged. With BENCH_LISTEN_BACKLOG=N in the environment, the HTTPS server
(cheroot) listens with a backlog of N connections in place of cheroot's default of 5, to try that setting.
"""

import logging
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

WATCH_SECONDS = 0.5
HEARTBEAT_SECONDS = 15
RETRY_MS = 2000
SAMPLE_EVERY_SECONDS = 0.1
INFLIGHT_FILE = "bench-inflight.txt"
BACKLOG_VARIABLE = "BENCH_LISTEN_BACKLOG"
log = logging.getLogger("bench.display_push_server")


class ChangeWatcher:
    """One thread that fingerprints the queue tables every WATCH_SECONDS and counts versions per topic.

    Topics are ("line", station_type_id) for a desk's line and ("board", site_id) for a site's board.
    The fingerprints are recomputed only when SQLite's data_version changed, after another connection committed.
    """

    def __init__(self, database: Path):
        self.database = database
        self.versions: dict[tuple, int] = {}
        self._hashes: dict[tuple, int] = {}
        self._changed = threading.Condition()
        self._started = False

    def start(self) -> None:
        with self._changed:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="bench-change-watcher", daemon=True).start()

    def version(self, topic: tuple) -> int:
        with self._changed:
            return self.versions.get(topic, 0)

    def wait(self, topic: tuple, seen: int, timeout: float) -> int:
        """Block until the topic's version differs from seen or the timeout passes; return the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.versions.get(topic, 0) != seen, timeout)
            return self.versions.get(topic, 0)

    def _run(self) -> None:
        connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, isolation_level=None)
        last_data_version = None
        while True:
            try:
                data_version = connection.execute("PRAGMA data_version").fetchone()[0]
                if data_version != last_data_version:
                    self._update(self._fingerprints(connection))
                    last_data_version = data_version
            except sqlite3.Error as error:
                # The streams stay open and the next tick tries again.
                log.warning("change watcher could not read %s: %s", self.database, error)
            time.sleep(WATCH_SECONDS)

    @staticmethod
    def _fingerprints(connection: sqlite3.Connection) -> dict[tuple, int]:
        lines: dict[str, list] = {}
        for row in connection.execute("""SELECT station_type_id, id, queue_key, priority, red_flags FROM task
                                         WHERE status = 'waiting' AND in_line = 1
                                         ORDER BY station_type_id, queue_key, rowid"""):
            lines.setdefault(row[0], []).append(row[1:])
        boards: dict[str, list] = {}
        for site_id, station_type_id in connection.execute("SELECT site_id, id FROM station_type ORDER BY rowid"):
            boards.setdefault(site_id, []).append(tuple(lines.get(station_type_id, ())))
        for row in connection.execute("""SELECT desk.site_id, desk.id, desk.open, task.id, task.calls, task.status
                                         FROM desk LEFT JOIN task ON task.desk_id = desk.id
                                           AND task.status IN ('called', 'in_service')
                                         ORDER BY desk.id, task.id"""):
            boards.setdefault(row[0], []).append(row[1:])
        found = {("line", key): hash(tuple(rows)) for key, rows in lines.items()}
        found.update({("board", key): hash(tuple(rows)) for key, rows in boards.items()})
        return found

    def _update(self, hashes: dict[tuple, int]) -> None:
        with self._changed:
            changed = False
            # A line that empties drops out of the query, so it counts as changed too.
            for topic in set(hashes) | set(self._hashes):
                if hashes.get(topic) != self._hashes.get(topic):
                    self.versions[topic] = self.versions.get(topic, 0) + 1
                    changed = True
            self._hashes = hashes
            if changed:
                self._changed.notify_all()


def event_stream(watcher: ChangeWatcher, topic: tuple):
    """Yield SSE text: a `changed` event at each new version of the topic, a comment when idle."""
    seen = watcher.version(topic)
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        current = watcher.wait(topic, seen, HEARTBEAT_SECONDS)
        if current == seen:
            # A write to a closed connection fails here, which ends the stream and frees the thread.
            yield ": keep-alive\n\n"
            continue
        seen = current
        yield f"event: changed\ndata: {current}\n\n"


def events_blueprint(watcher: ChangeWatcher):
    """Build the bench-only blueprint: an event stream per desk line and per site board."""
    from flask import Blueprint, Response, abort, request

    from fieldapp import auth
    from fieldapp.checkin_views import open_sites, today
    from fieldapp.db import get_db
    from fieldapp.station_views import DESK_ROLES

    bp = Blueprint("bench_events", __name__, url_prefix="/bench-events")

    def stream(topic: tuple) -> Response:
        watcher.start()
        response = Response(event_stream(watcher, topic), mimetype="text/event-stream")
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/desk/<desk_id>")
    @auth.require_role(*DESK_ROLES)
    def desk(desk_id: str):
        row = get_db().execute("SELECT station_type_id FROM desk WHERE id = ?", [desk_id]).fetchone()
        if row is None:
            abort(404)
        return stream(("line", row[0]))

    @bp.get("/board")
    @auth.require_role("coordinator")
    def board():
        site_id = request.args.get("site", "")
        if not any(site["id"] == site_id for site in open_sites(get_db(), today())):
            abort(404)
        return stream(("board", site_id))

    return bp


class InFlight:
    """WSGI middleware that counts requests being served, streams included, and samples the count to a file."""

    def __init__(self, wsgi_app, samples: Path):
        self.wsgi_app = wsgi_app
        self.count = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._sample, args=(samples,), name="bench-inflight", daemon=True).start()

    def __call__(self, environ, start_response):
        with self._lock:
            self.count += 1
        try:
            body = self.wsgi_app(environ, start_response)
        except BaseException:
            self._leave()
            raise
        return _ClosingBody(body, self._leave)

    def _leave(self) -> None:
        with self._lock:
            self.count -= 1

    def _sample(self, samples: Path) -> None:
        with samples.open("a", buffering=1) as output:
            while True:
                output.write(f"{time.monotonic():.3f} {self.count}\n")
                time.sleep(SAMPLE_EVERY_SECONDS)


class _ClosingBody:
    """A response body that calls on_close once, when the server closes it."""

    def __init__(self, body, on_close):
        self.body = body
        self.on_close = on_close
        self.closed = False

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.on_close()


def serve_child(argv: list[str]) -> None:
    """Run `fieldapp serve argv` on an app that also has the bench's SSE blueprint and in-flight counter."""
    import fieldapp.cliapp
    from fieldapp import cli
    from fieldapp.db import DATABASE_NAME

    build_app = fieldapp.cliapp.create_app

    def create_app_with_events(config: dict):
        app = build_app(config)
        folder = Path(app.config["DATA_DIR"])
        app.register_blueprint(events_blueprint(ChangeWatcher(folder / DATABASE_NAME)))
        app.wsgi_app = InFlight(app.wsgi_app, folder / INFLIGHT_FILE)
        return app

    # with_app looks create_app up in fieldapp.cliapp at each call, so the serve command builds this app.
    fieldapp.cliapp.create_app = create_app_with_events
    if os.environ.get(BACKLOG_VARIABLE):
        _set_listen_backlog(int(os.environ[BACKLOG_VARIABLE]))
    cli.main.main(args=argv, prog_name="fieldapp")



def _set_listen_backlog(backlog: int) -> None:
    import fieldapp.tls

    build_server = fieldapp.tls.https_server

    def https_server_with_backlog(*args, **kwargs):
        server = build_server(*args, **kwargs)
        server.request_queue_size = backlog
        return server

    # The serve command imports https_server from fieldapp.tls when it starts, so it gets this one.
    fieldapp.tls.https_server = https_server_with_backlog


if __name__ == "__main__":
    serve_child(sys.argv[1:])
