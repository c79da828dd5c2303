"""docker-compose.yml must validate (Debian's docker-compose 1.29 does this without an engine)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_validates() -> None:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose not installed (make installs it when run as root)")
    result = subprocess.run([exe, "config", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_healthcheck_reports_not_serving_for_closed_port() -> None:
    from infra.embedded import free_port
    from infra.healthcheck import check

    assert check(f"127.0.0.1:{free_port()}", timeout_s=0.5) is False
