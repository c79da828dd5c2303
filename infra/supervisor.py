"""Start the project's services as child processes, wait for their gRPC health, stop them all.

Used by the demo, end-to-end and reliability tests (which SIGKILL and restart services for real).
Every child runs in its own process group and logs to a file, and ``Supervisor`` stops them all
on exit, on SIGTERM and on Ctrl-C, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from infra.healthcheck import check

log = logging.getLogger(__name__)


class ServiceFailed(RuntimeError):
    """A child exited or never became healthy; the message includes its log tail."""


@dataclass
class ServiceProcess:
    """One service: ``argv`` after ``python -m infra.cli`` (e.g. ``["serve", "thunder", ...]``)."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    health_address: str | None = None
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(  # noqa: S603 - argv built by the caller, no shell
            [sys.executable, "-m", "infra.cli", *self.argv], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if out is not subprocess.DEVNULL:
            out.close()
        log.info("started %s (pid %d)", self.name, self.process.pid)
        return self

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_healthy(self, timeout_s: float = 120.0) -> None:
        """Poll the gRPC health service until SERVING (services report NOT_SERVING until caught up)."""
        if self.health_address is None:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServiceFailed(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if check(self.health_address, timeout_s=1.0):
                return
            time.sleep(0.1)
        raise ServiceFailed(f"{self.name} not healthy after {timeout_s}s:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (graceful: drain, commit), then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Supervisor:
    """Owns a set of service processes; stops all of them however the program ends."""

    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def start(self, service: ServiceProcess, wait: bool = True, timeout_s: float = 120.0) -> ServiceProcess:
        self.services[service.name] = service.start()
        if wait:
            service.wait_healthy(timeout_s)
        return service

    def stop_all(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()

    def __enter__(self) -> Supervisor:
        self._old_term = signal.getsignal(signal.SIGTERM)

        def on_term(signum: int, frame: object) -> None:
            self.stop_all()
            raise SystemExit(128 + signum)

        signal.signal(signal.SIGTERM, on_term)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()
        signal.signal(signal.SIGTERM, self._old_term)
