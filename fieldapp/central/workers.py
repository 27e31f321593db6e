"""Serving the central store with several worker processes (gunicorn), so batches from many sites use every core.

One Python process applies requests one core at a time: parsing a batch's JSON and building its rows
holds the interpreter lock. Gunicorn forks worker processes that share the listening socket; each
runs request threads and keeps its own pool of database connections. Gunicorn needs fork, so this
is for Linux and macOS; on Windows `central serve` runs one process.
"""

import sys

# Gunicorn stops a worker that has not reported for this long. A batch of 5,000 long conclusions takes
# seconds, and a yearly report on a large store longer, so this is generous.
WORKER_TIMEOUT_SECONDS = 300
# Seconds a worker may finish its requests after a stop signal, because a site's push waits for the response.
GRACEFUL_SECONDS = 30


def available() -> bool:
    return sys.platform != "win32"


def serve(app, engine, host: str, port: int, workers: int, threads: int, backlog: int,
          certificate: tuple[str, str] | None = None, behind_proxy: bool = False) -> None:
    """Serve app with `workers` processes of `threads` threads each until stopped; block until then.

    certificate is (certificate file, key file) for HTTPS. behind_proxy trusts X-Forwarded-For,
    -Proto and -Host from a proxy on 127.0.0.1, as waitress does for one process.
    """
    from gunicorn.app.base import BaseApplication

    if behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    def post_fork(_server, _worker) -> None:
        # The parent connected to create the tables. A pooled connection must not be shared by two
        # processes, so each worker starts with an empty pool and leaves the parent's connections open.
        engine.dispose(close=False)

    options = {
        "bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": threads,
        "backlog": backlog, "timeout": WORKER_TIMEOUT_SECONDS, "graceful_timeout": GRACEFUL_SECONDS,
        "post_fork": post_fork, "accesslog": None, "errorlog": "-", "loglevel": "info",
        "proc_name": "fieldapp-central",
        # Gunicorn 27 opens a control socket in the home folder. The store does not use it, and two
        # stores on one machine would share it.
        "control_socket_disable": True,
    }
    if certificate:
        options.update(certfile=certificate[0], keyfile=certificate[1])
    if behind_proxy:
        options.update(forwarded_allow_ips="127.0.0.1")

    class CentralApplication(BaseApplication):
        def load_config(self):
            for name, value in options.items():
                if name in self.cfg.settings:
                    self.cfg.set(name, value)

        def load(self):
            return app

    CentralApplication().run()
