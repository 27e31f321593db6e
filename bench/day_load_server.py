"""`fieldapp serve` for bench/day_load.py: the real command, which also keeps each request's time in the app.

A WSGI middleware around the app records three things for every request. They are the endpoint as the
devices name it (method, route pattern, and "(htmx)" when the request has HX-Request), the wall time in
the app in ms, and the CPU time of the request's thread in ms (time.thread_time). On SIGTERM the server
writes them as JSON, {endpoint: [[wall_ms, cpu_ms], ...]}, to the file that DAY_LOAD_TIMINGS names, and
exits.

    python bench/day_load_server.py serve --data-dir DIR ...   (the options of `fieldapp serve`)
"""

import json
import os
import signal
import threading
import time
from collections import defaultdict

from werkzeug.exceptions import HTTPException

import fieldapp.cliapp
from fieldapp.app import create_app
from fieldapp.cli import main

TIMINGS_VARIABLE = "DAY_LOAD_TIMINGS"
_timings: dict[str, list[tuple[float, float]]] = defaultdict(list)
_lock = threading.Lock()


def create_timed_app(config=None):
    """Return the product's app with its wsgi_app wrapped to record each request's wall and CPU time."""
    app = create_app(config)
    inner = app.wsgi_app
    routes = app.url_map.bind("localhost")

    def timed(environ, start_response):
        method = environ.get("REQUEST_METHOD", "")
        try:
            rule = routes.match(environ.get("PATH_INFO", ""), method, return_rule=True)[0].rule
        except HTTPException:
            # A 404 or 405 is recorded under its path.
            rule = environ.get("PATH_INFO", "")
        endpoint = f"{method} {rule}" + (" (htmx)" if environ.get("HTTP_HX_REQUEST") == "true" else "")
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            # The body is read here, so the time includes rendering a streamed response.
            return list(inner(environ, start_response))
        finally:
            sample = ((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000)
            with _lock:
                _timings[endpoint].append(sample)

    app.wsgi_app = timed
    return app


def _write_and_exit(_signal, _frame) -> None:
    with _lock, open(os.environ[TIMINGS_VARIABLE], "w", encoding="utf-8") as output:
        json.dump(_timings, output)
    os._exit(0)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _write_and_exit)
    fieldapp.cliapp.create_app = create_timed_app
    main()
