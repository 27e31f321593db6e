"""Set up fieldapp in a local virtual environment and run it: `python run.py demo` or `python run.py test`.

Works the same on Linux and Windows with only Python 3.11+ installed. `test` also installs
Debian's Chromium for the browser tests, PostgreSQL for the central store's tests and espeak-ng for
the display's voice clips when it runs as root on a Debian-like system, and makes the PostgreSQL
tests fail rather than skip without it.
"""

import glob
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*command: str | Path, **kwargs) -> None:
    """Run a command, stopping with its exit status if it fails."""
    print("+", " ".join(str(part) for part in command), flush=True)
    result = subprocess.run([str(part) for part in command], cwd=ROOT, **kwargs)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create .venv if needed and install fieldapp into it with the given extras."""
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", f".{extras}")


def apt_install(*packages: str) -> bool:
    """Install Debian packages when running as root where apt-get exists; False when that is not possible."""
    if not (shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0):
        return False
    run("apt-get", "update", "-qq")
    run("apt-get", "install", "-y", "-qq", *packages, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return True


def ensure_chromium() -> None:
    """Install Debian's chromium and chromium-driver for the browser tests if they are missing."""
    if os.environ.get("CHROMIUM") or shutil.which("chromium") or os.name == "nt":
        return
    if not apt_install("chromium", "chromium-driver"):
        print("Chromium not found: browser tests will be skipped. Install chromium or set CHROMIUM=/path/to/chrome.")


def ensure_espeak() -> None:
    """Install Debian's espeak-ng, which renders the display's voice clips, if it is missing."""
    if shutil.which("espeak-ng") or os.name == "nt":
        return
    if not apt_install("espeak-ng"):
        print("espeak-ng not found: the voice clip tests will be skipped. Install espeak-ng to run them.")


def postgres_found() -> bool:
    """True when initdb is on PATH or in a Debian or PGDG install folder, where tests/pgserver.py looks."""
    folders = ("/usr/lib/postgresql/*/bin/initdb", "/usr/pgsql-*/bin/initdb", "C:/Program Files/PostgreSQL/*/bin/initdb.exe")
    return bool(shutil.which("initdb") or any(glob.glob(pattern) for pattern in folders))


def ensure_postgres() -> None:
    """Install Debian's postgresql for the central store's tests if initdb is missing.

    The tests start their own throwaway cluster with its initdb and pg_ctl; the package's own cluster is not used.
    """
    if postgres_found():
        return
    if not apt_install("postgresql"):
        print("PostgreSQL not found: the central store's PostgreSQL tests will fail. Install PostgreSQL, "
              "or set FIELDAPP_REQUIRE_POSTGRES=0 to skip them.")


def main() -> None:
    task = sys.argv[1] if len(sys.argv) > 1 else ""
    if task == "demo":
        ensure_venv("")
        run(PYTHON, "-m", "fieldapp", "serve", "--demo", *sys.argv[2:])
    elif task == "test":
        ensure_venv("[test]")
        ensure_chromium()
        ensure_postgres()
        ensure_espeak()
        # The central store's tests must run against PostgreSQL here, not be skipped.
        environment = {**os.environ, "FIELDAPP_REQUIRE_POSTGRES": os.environ.get("FIELDAPP_REQUIRE_POSTGRES", "1")}
        run(PYTHON, "-m", "pytest", *sys.argv[2:], env=environment)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
