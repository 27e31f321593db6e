"""A throwaway PostgreSQL cluster for tests and benchmarks, made with the initdb and pg_ctl on this machine.

The cluster lives in a new temporary folder, listens on 127.0.0.1 only (its Unix socket is in the same
folder), requires a random password, and is deleted when stopped. initdb refuses to run as root, so as
root the server runs as the "postgres" user if it exists, else as a system user "fieldapp-pg" made for it.

Tests use the session fixture postgres_url. Without PostgreSQL they are skipped with the reason,
unless FIELDAPP_REQUIRE_POSTGRES=1 (set by `python run.py test`), which makes them fail instead.
"""

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

UNPRIVILEGED_USERS = ("postgres", "fieldapp-pg")
DATABASE = "fieldapp"
SUPERUSER = "fieldapp"
# pg_ctl -w waits up to this long for the server to accept connections.
START_SECONDS = 60
BINARY_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "C:/Program Files/PostgreSQL/*/bin")


class PostgresUnavailable(RuntimeError):
    """initdb or pg_ctl is missing, or the cluster did not start."""


def find_binaries() -> Path | None:
    """Return the folder holding initdb and pg_ctl: from PATH, else the newest installed version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    folders = [Path(folder) for pattern in BINARY_GLOBS for folder in glob.glob(pattern)]
    found = [folder for folder in folders if (folder / "initdb").exists() or (folder / "initdb.exe").exists()]
    return max(found, key=_version_key) if found else None


def _version_key(folder: Path) -> tuple:
    digits = "".join(ch if ch.isdigit() else " " for ch in str(folder)).split()
    return tuple(int(part) for part in digits)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unprivileged_user() -> str:
    """Return a user that may run PostgreSQL when this process is root, creating a system user if needed."""
    import pwd

    for name in UNPRIVILEGED_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", UNPRIVILEGED_USERS[1]],
                   check=True, capture_output=True)
    return UNPRIVILEGED_USERS[1]


class PostgresServer:
    """One cluster: start() returns a SQLAlchemy URL for a new database, stop() removes everything."""

    def __init__(self, fsync: bool = False):
        # fsync=off makes tests faster; it only risks data after an operating-system crash.
        self.fsync = fsync
        self.binaries = find_binaries()
        self.folder: Path | None = None
        self.port: int | None = None
        self.user: str | None = None

    def _run(self, *command: str) -> subprocess.CompletedProcess:
        program = str(self.binaries / command[0])
        full = [program, *command[1:]]
        if self.user:
            full = ["runuser", "-u", self.user, "--", *full]
        result = subprocess.run(full, check=False, capture_output=True, text=True, timeout=START_SECONDS + 30)
        if result.returncode != 0:
            raise PostgresUnavailable(f"{' '.join(full)} failed with code {result.returncode}:\n"
                                      f"{result.stdout}\n{result.stderr}\n{self._log_tail()}")
        return result

    def _log_tail(self) -> str:
        log = self.folder / "server.log" if self.folder else None
        return log.read_text(errors="replace")[-3000:] if log and log.exists() else ""

    def start(self) -> str:
        """Create and start the cluster; return postgresql+psycopg://... for its database."""
        if self.binaries is None:
            raise PostgresUnavailable("initdb and pg_ctl were not found on PATH or under /usr/lib/postgresql/*/bin")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.user = _unprivileged_user()
        # Not under pytest's tmp_path: that folder is private to root, and the server runs as another user.
        self.folder = Path(tempfile.mkdtemp(prefix="fieldapp-pg-"))
        password = secrets.token_hex(16)
        password_file = self.folder / "password"
        password_file.write_text(password + "\n")
        if self.user:
            shutil.chown(self.folder, self.user)
            shutil.chown(password_file, self.user)

        self._run("initdb", "-D", str(self.folder / "data"), "-U", SUPERUSER, f"--pwfile={password_file}",
                  "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-sync")
        password_file.unlink()
        options = (f"-p {{port}} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder} "
                   f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=50")
        for _attempt in range(3):
            # Another process may take the free port before the server binds it; try another.
            self.port = _free_port()
            try:
                self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"), "-w",
                          "-t", str(START_SECONDS), "-o", options.format(port=self.port), "start")
                break
            except PostgresUnavailable:
                if "could not bind" not in self._log_tail():
                    raise
        else:
            raise PostgresUnavailable(f"no free port for PostgreSQL:\n{self._log_tail()}")

        self._create_database(password)
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{DATABASE}"

    def _create_database(self, password: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, password=password,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if self.folder is None:
            return
        if (self.folder / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None


def postgres_required() -> bool:
    return os.environ.get("FIELDAPP_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_url():
    """Start a throwaway PostgreSQL cluster for the test session and yield its URL."""
    server = PostgresServer()
    try:
        url = server.start()
    except PostgresUnavailable as error:
        server.stop()
        if postgres_required():
            pytest.fail(f"PostgreSQL is required (FIELDAPP_REQUIRE_POSTGRES=1) but did not start: {error}")
        pytest.skip(f"PostgreSQL not available: {error}. Install it (apt-get install postgresql) to run these tests.")
    try:
        yield url
    finally:
        server.stop()
