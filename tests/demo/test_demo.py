"""The demo path end to end at a reduced size, as a user runs it: ``foryou demo`` in a subprocess.

Every process the demo starts (tansu, redis-server, the five services) inherits a marker in its
environment, so "nothing left behind" is checked by scanning /proc for that marker, not trusted
from the demo's own output. The SIGINT test interrupts a demo whose services are up (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DEMO_ARGS = ["--users", "40", "--preset", "tiny", "--days", "1.5", "--skip-replay", "--feeds", "2",
             "--ranker-steps", "60"]


def _env(marker: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")}
    return {**env, "FORYOU_DEMO_TEST_MARKER": marker, "COLUMNS": "160"}


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _processes_with(marker: str) -> list[int]:
    """Live pids whose environment carries the marker (zombies are gone once reaped)."""
    needle = f"FORYOU_DEMO_TEST_MARKER={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes() and (entry / "stat").read_text().split()[2] != "Z":
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _assert_none_left(marker: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (left := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


def test_demo_prints_explained_feeds_and_leaves_nothing_running(demo_out: Path) -> None:
    marker = uuid.uuid4().hex
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", "demo", *DEMO_ARGS, "--fresh", "--out", str(demo_out)],
        cwd=ROOT, env=_env(marker), capture_output=True, text=True, timeout=240,
    )
    out = result.stdout
    assert result.returncode == 0, f"stdout:\n{out[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    for name in ("thunder", "ranker", "retrieval", "user-state", "home-mixer"):
        assert f"{name}" in out and "SERVING" in out
    assert out.count("For You feed of user") == 2
    assert "weighted" in out  # per-post score explanation
    assert "removed by filters:" in out and "candidates from sources: ThunderSource" in out
    assert "degraded" not in out
    assert "skipped (--skip-replay)" in out
    assert (demo_out / "checkpoints" / "fingerprint.json").is_file()
    _assert_none_left(marker)


def test_ctrl_c_stops_every_process(demo_out: Path) -> None:
    """Runs after the first test, so the cached world + checkpoints are reused and this is quick."""
    marker = uuid.uuid4().hex
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "demo", *DEMO_ARGS, "--serve", "--out", str(demo_out)],
        cwd=ROOT, env=_env(marker), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # as a terminal's Ctrl-C finds it: a suite started in the background by a non-interactive
        # shell inherits SIGINT ignored, and the demo would then run on (or to its end)
        preexec_fn=_sigint_default,  # noqa: PLW1509 - single call in the child, before exec
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 120
        assert proc.stdout is not None
        # --serve: after its feeds the demo keeps every service up until Ctrl-C, so the signal
        # lands in a running stack however fast the demo got (the loop ends if the demo exits)
        for line in proc.stdout:
            seen.append(line)
            if "serving until Ctrl-C" in line:
                break
            assert time.monotonic() < deadline, "".join(seen)
        assert len(_processes_with(marker)) >= 4, "".join(seen)  # demo + broker + redis + services
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            for pid in _processes_with(marker):  # a killed demo cannot stop its children: do it here
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 130, "".join(seen) + rest
    assert "interrupted" in rest
    _assert_none_left(marker)
