"""Benchmark HTTPS servers that can serve fieldapp on Windows and Linux: cheroot, Hypercorn and Uvicorn.

Usage:
    python bench/tls_bench.py [--devices 50] [--requests 2000] [--servers cheroot,hypercorn,uvicorn]

The script builds a demo ward (600 residents) and the site's CA and server certificate in a temporary
data folder. It then starts each server in its own child process on 127.0.0.1, serving the fieldapp
app with the settings `fieldapp serve` uses and 8 request threads. Hypercorn and Uvicorn run the WSGI
app through a2wsgi. "cheroot" is fieldapp's setup (fieldapp.tls.https_server); "cheroot-default"
is the same with cheroot's default limit of 10 idle keep-alive connections. Each of the `--devices` client threads opens one keep-alive HTTPS connection,
verified against the CA, and signs in. Then all threads start together and send `--requests` requests
in all, alternating GET /login and an htmx roster search POST. The table gives latency percentiles
and errors per server, and the script ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SERVERS = ("cheroot", "cheroot-default", "hypercorn", "uvicorn")
HOST = "127.0.0.1"
THREADS = 8
SERVER_START_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 30
# Devices sign in one at a time: sign-in is not what is measured, and 50 concurrent sign-ins can fail
# with "database is locked" in fieldapp's SQLite write transactions.
SIGN_IN_LOCK = threading.Lock()
SEARCHES = ("nguyen", "tran thi", "le van", "pham", "hoang", "1956", "vu")


def serve(name: str, data_dir: Path, port: int) -> None:
    """Run one server in this (child) process until it is terminated."""
    from fieldapp import create_app
    from fieldapp.tls import CA_CERT_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE, TLS_FOLDER, SiteTls, configure_app_for_https, https_server

    app = create_app({"DATA_DIR": str(data_dir)})
    configure_app_for_https(app)
    folder = data_dir / TLS_FOLDER
    site_tls = SiteTls(folder / CA_CERT_FILE, folder / SERVER_CERT_FILE, folder / SERVER_KEY_FILE, "", "")
    if name.startswith("cheroot"):
        server = https_server(app, HOST, port, site_tls, THREADS)
        if name == "cheroot-default":
            server.keep_alive_conn_limit = 10  # cheroot 11's own default, which fieldapp raises.
        server.safe_start()
        return

    from a2wsgi import WSGIMiddleware

    asgi_app = WSGIMiddleware(app, workers=THREADS)
    if name == "hypercorn":
        import asyncio

        from hypercorn.asyncio import serve as hypercorn_serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"{HOST}:{port}"]
        config.certfile, config.keyfile = str(site_tls.cert_path), str(site_tls.key_path)
        asyncio.run(hypercorn_serve(asgi_app, config))
    elif name == "uvicorn":
        import uvicorn

        uvicorn.run(asgi_app, host=HOST, port=port, ssl_certfile=str(site_tls.cert_path), ssl_keyfile=str(site_tls.key_path),
                    log_level="warning", access_log=False)
    else:
        raise SystemExit(f"unknown server {name!r}; expected one of {', '.join(SERVERS)}")


def prepare_data(folder: Path) -> tuple[str, str]:
    """Create the demo ward and the TLS files in folder; return the demo username and PIN."""
    from fieldapp import create_app
    from fieldapp.db import DATABASE_NAME, connect
    from fieldapp.demo import ensure_demo
    from fieldapp.tls import prepare_site_tls

    app = create_app({"DATA_DIR": str(folder)})
    with app.app_context():
        db = connect(folder / DATABASE_NAME)
        try:
            login = ensure_demo(db, folder)
        finally:
            db.conn.close()
    prepare_site_tls(folder, [HOST])
    return login.username, login.pin


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited with code {server.returncode} before listening on port {port}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on port {port} within {SERVER_START_SECONDS} s")


def sign_in(client, username: str, pin: str) -> str:
    """Sign the client in and return the CSRF token that the roster page gives htmx requests."""
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "pin": pin, "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed with HTTP {response.status_code}")
    roster = client.get("/roster/").text
    return re.search(r'"X-CSRFToken": "([^"]+)"', roster).group(1)


def run_device(index: int, base_url: str, context: ssl.SSLContext, login: tuple[str, str], count: int,
               start: threading.Barrier, deadline: list[float], results: list) -> None:
    """Sign in, wait for every device, then send count requests; append (latency s or None, error) tuples."""
    import httpx

    with httpx.Client(base_url=base_url, verify=context, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        try:
            with SIGN_IN_LOCK:
                token = sign_in(client, *login)
        except (httpx.HTTPError, RuntimeError, AttributeError) as error:
            results.append((None, f"sign-in: {error!r}"))
            start.abort()
            return
        try:
            start.wait()
        except threading.BrokenBarrierError:
            results.append((None, "start aborted: another device failed to sign in"))
            return
        for number in range(count):
            if time.monotonic() > deadline[0]:
                results.append((None, "deadline"))
                continue
            began = time.perf_counter()
            try:
                if number % 2 == 0:
                    response = client.get("/login")
                else:
                    query = SEARCHES[(index + number) % len(SEARCHES)]
                    response = client.post("/roster/", data={"q": query}, headers={"X-CSRFToken": token, "HX-Request": "true"})
                error = None if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as exception:
                error = repr(exception)
            results.append((time.perf_counter() - began, error))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def measure(name: str, data_dir: Path, login: tuple[str, str], devices: int, total: int, time_limit: float) -> dict:
    """Start one server, drive the devices against it, stop it; return its figures."""
    port = free_port()
    log_path = data_dir / f"{name}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen([sys.executable, __file__, "--serve", name, "--data-dir", str(data_dir), "--port", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, server)
        context = ssl.create_default_context(cafile=str(data_dir / "tls" / "ca.pem"))
        results: list = []
        start = threading.Barrier(devices + 1)
        deadline = [float("inf")]
        per_device = [total // devices + (1 if i < total % devices else 0) for i in range(devices)]
        threads = [
            threading.Thread(target=run_device, args=(i, f"https://{HOST}:{port}", context, login, per_device[i], start, deadline, results))
            for i in range(devices)
        ]
        setup_began = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            start.wait(timeout=time_limit)
        except threading.BrokenBarrierError:
            pass  # The devices record why they stopped.
        setup_seconds = time.perf_counter() - setup_began
        deadline[0] = time.monotonic() + time_limit
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server_output = log_path.read_text(errors="replace")

    latencies = [latency for latency, error in results if latency is not None and error is None]
    errors = [error for _, error in results if error is not None]
    if errors:
        print(f"{name}: {len(errors)} errors, first: {errors[0]}\n{server_output[-2000:]}", file=sys.stderr)
    return {
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
        "errors": len(errors),
        "requests": len(results),
        "requests_per_s": round(len(latencies) / seconds, 1) if seconds else None,
        "setup_s": round(setup_seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50, help="Concurrent clients, each with one keep-alive connection.")
    parser.add_argument("--requests", type=int, default=2000, help="Requests in all, shared among the devices.")
    parser.add_argument("--servers", default=",".join(SERVERS), help="Comma-separated servers to measure.")
    parser.add_argument("--time-limit", type=float, default=300, help="Seconds each server gets for its requests.")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.data_dir, args.port)
        return

    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "site"
        login = prepare_data(data_dir)
        figures = {name: measure(name, data_dir, login, args.devices, args.requests, args.time_limit) for name in names}

    print(f"{args.devices} devices, {args.requests} requests (GET /login and htmx POST /roster/ alternating), {THREADS} threads per server")
    print(f"{'server':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>7} {'errors':>6} {'setup s':>8}")
    for name, result in figures.items():
        print(f"{name:<10} {result['p50_ms']!s:>8} {result['p95_ms']!s:>8} {result['max_ms']!s:>8} "
              f"{result['requests_per_s']!s:>7} {result['errors']:>6} {result['setup_s']:>8}")
    print(json.dumps({"devices": args.devices, "servers": figures}))


if __name__ == "__main__":
    main()
