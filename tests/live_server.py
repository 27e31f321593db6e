"""A real site server for browser, crash and load tests: `python -m fieldapp.cli serve` in a child process.

It listens on 127.0.0.1 only, on free ports, and writes its output to a log file that a failing test
prints. kill() ends it with SIGKILL, as a power cut or a crashed laptop would. start() then brings it
back on the same ports and data folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

START_SECONDS = 30
STOP_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerFailed(RuntimeError):
    """The server exited or did not listen in time. The message contains its log."""


class SiteServer:
    """`fieldapp serve` on a data folder: plain HTTP by default, or HTTPS with the HTTP join page beside it."""

    def __init__(self, data_dir: Path, log: Path, https: bool = False, threads: int | None = None,
                 env: dict[str, str] | None = None):
        self.data_dir = Path(data_dir)
        self.log = Path(log)
        self.https = https
        self.threads = threads
        self.env = env
        self.http_port = free_port()
        self.https_port = free_port() if https else None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        if self.https:
            return f"https://127.0.0.1:{self.https_port}"
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ca(self) -> Path:
        """The site's certificate authority, which a client trusts to reach the HTTPS port."""
        return self.data_dir / "tls" / "ca.pem"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "fieldapp.cli", "serve", "--data-dir", str(self.data_dir),
                   "--host", "127.0.0.1", "--http-port", str(self.http_port)]
        command += ["--https-port", str(self.https_port)] if self.https else ["--no-https"]
        if self.threads:
            command += ["--threads", str(self.threads)]
        return command

    def start(self) -> Self:
        """Start the server, appending to its log; return once every port accepts connections."""
        environment = {**os.environ, **(self.env or {})}
        with self.log.open("a") as output:
            self.process = subprocess.Popen(self.command(), stdout=output, stderr=subprocess.STDOUT, env=environment)
        ports = [self.http_port] + ([self.https_port] if self.https else [])
        deadline = time.monotonic() + START_SECONDS
        for port in ports:
            while not self._accepts(port):
                if self.process.poll() is not None:
                    raise ServerFailed(f"fieldapp serve exited with code {self.process.returncode}:\n{self.output()}")
                if time.monotonic() > deadline:
                    self.kill()
                    raise ServerFailed(f"fieldapp serve did not listen on port {port} within {START_SECONDS} s:\n"
                                       f"{self.output()}")
                time.sleep(0.1)
        return self

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM); kill it if it has not stopped in STOP_SECONDS."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """End the server at once with SIGKILL: no request finishes and nothing is flushed."""
        if self.process is None or self.process.poll() is not None:
            return
        # SIGKILL on Linux, TerminateProcess on Windows.
        self.process.kill()
        self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()

    @staticmethod
    def _accepts(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
