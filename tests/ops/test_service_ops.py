"""Operations contract of every ``foryou serve <service>``, each a REAL child process (supervisor):
the same --host/--port/--metrics-port flags, gRPC health SERVING once caught up, reflection, a
Prometheus /metrics scrape, and a clean exit (code 0) within seconds of SIGTERM."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from infra.embedded import free_port
from infra.supervisor import ServiceProcess, Supervisor

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVICES = ("thunder", "ranker", "retrieval", "user-state", "home-mixer")


def _checkpoints(root: Path) -> tuple[Path, Path]:
    """Small freshly initialised models: the ops contract does not depend on training."""
    from home_mixer.local_stack import fresh_retrieval_model
    from phoenix.ranker.config import small_config
    from phoenix.ranker.model import PhoenixRanker
    from phoenix.ranker.train import save_ranker
    from phoenix.retrieval.checkpoints import save_model

    save_ranker(PhoenixRanker(small_config(max_candidates=2800)), root / "ranker")
    save_model(root / "retrieval", fresh_retrieval_model())
    return root / "ranker", root / "retrieval"


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:  # noqa: S310 - loopback
        assert reply.status == 200
        return reply.read().decode()


def _reflected_services(address: str) -> list[str]:
    with grpc.insecure_channel(address) as channel:
        return list(ProtoReflectionDescriptorDatabase(channel).get_services())


def test_every_service_serves_health_metrics_reflection_and_exits_cleanly_on_sigterm(
    kafka_bootstrap: str, redis_url: str, tmp_path: Path
) -> None:
    ranker_ck, retrieval_ck = _checkpoints(tmp_path)
    ports = {name: (free_port(), free_port()) for name in SERVICES}
    addr = {name: f"127.0.0.1:{grpc_port}" for name, (grpc_port, _) in ports.items()}
    prefix = f"ops{uuid.uuid4().hex[:6]}-"
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "REDIS_URL": redis_url, "THUNDER_ADDR": addr["thunder"],
           "RANKER_ADDR": addr["ranker"], "RETRIEVAL_ADDR": addr["retrieval"], "LOG_JSON": "true",
           **{f"TOPIC_{t.upper()}": f"{prefix}{t}" for t in ("posts", "engagements", "social_graph", "served",
                                                               "dead_letter")}}
    extra = {"ranker": ["--checkpoint", str(ranker_ck), "--threads", "1"],
             "retrieval": ["--checkpoint", str(retrieval_ck)], "user-state": ["--group-id", ""]}
    with Supervisor() as supervisor:
        procs = {
            name: supervisor.start(ServiceProcess(
                name, ["serve", name, "--host", "127.0.0.1", "--port", str(grpc_port), "--metrics-port", str(metrics),
                       *extra.get(name, [])],
                env=env, health_address=addr[name], log_path=tmp_path / f"{name}.log"), wait=False)
            for name, (grpc_port, metrics) in ports.items()
        }
        for name, proc in procs.items():
            proc.wait_healthy(90)
            assert "grpc.health.v1.Health" in _reflected_services(addr[name]), name
            body = _scrape(ports[name][1])
            assert "process_cpu_seconds_total" in body or "python_info" in body, name
        assert "foryou_user_state_applied_total" in _scrape(ports["user-state"][1])
        assert "foryou.home_mixer.ForYouFeedService" in _reflected_services(addr["home-mixer"])
        assert any('"level"' in line or '"message"' in line
                   for line in (tmp_path / "thunder.log").read_text().splitlines())  # LOG_JSON structured logs
        for name, proc in reversed(list(procs.items())):
            started = time.monotonic()
            os.killpg(proc.process.pid, signal.SIGTERM)  # type: ignore[union-attr]
            code = proc.process.wait(15)  # type: ignore[union-attr]
            assert code == 0, f"{name} exited with {code} after SIGTERM:\n{proc.log_tail()}"
            assert time.monotonic() - started < 15, name
