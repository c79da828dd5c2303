"""``foryou demo --serve`` waits for Ctrl-C, but not on a dead stack: a service that exits ends
the wait with ``ServiceFailed`` (its name, exit code and log tail), so the demo stops the rest."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from infra.demo import serve_until_interrupted
from infra.supervisor import ServiceFailed, ServiceProcess


def test_a_service_that_exits_ends_the_wait(tmp_path: Path) -> None:
    log = tmp_path / "ranker.log"
    log.write_text("loading checkpoint\nboom: out of memory\n")
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # noqa: S603
    dead = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])  # noqa: S603
    dead.wait()
    try:
        processes = [
            ServiceProcess("thunder", [], process=alive),
            ServiceProcess("ranker", [], log_path=log, process=dead),
            ServiceProcess("home-mixer", [], health_address="127.0.0.1:1", process=alive),
        ]
        out = StringIO()
        with pytest.raises(ServiceFailed, match=r"ranker exited with 3:\n(.|\n)*boom: out of memory"):
            serve_until_interrupted(processes, Console(file=out, width=200), poll_s=0.01)
        assert "serving until Ctrl-C" in out.getvalue() and "127.0.0.1:1" in out.getvalue()
    finally:
        alive.kill()
        alive.wait()
