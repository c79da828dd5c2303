"""Every gRPC server can serve over TLS (GRPC_TLS_CERT/KEY), and clients verify with GRPC_TLS_CA."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from infra.grpc_server import make_channel, start_server
from infra.settings import ConnectionSettings


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def test_tls_server_and_client(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    settings = ConnectionSettings(grpc_tls_cert=str(cert), grpc_tls_key=str(key), grpc_tls_ca=str(cert))

    async def scenario() -> None:
        handle = await start_server(register=lambda s: None, service_names=["test.Svc"], settings=settings, ready=True)
        try:
            async with make_channel(f"localhost:{handle.port}", settings) as channel:
                reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            async with grpc.aio.insecure_channel(f"localhost:{handle.port}") as plain:
                with pytest.raises(grpc.aio.AioRpcError):
                    await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=2)
        finally:
            await handle.stop(0)

    asyncio.run(scenario())


def test_health_not_serving_until_ready() -> None:
    async def scenario() -> None:
        handle = await start_server(register=lambda s: None, service_names=["test.Svc"], settings=ConnectionSettings())
        try:
            async with make_channel(f"127.0.0.1:{handle.port}", ConnectionSettings()) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                first = await stub.Check(health_pb2.HealthCheckRequest(service="test.Svc"), timeout=5)
                assert first.status == health_pb2.HealthCheckResponse.NOT_SERVING
                await handle.set_serving(True)
                second = await stub.Check(health_pb2.HealthCheckRequest(service="test.Svc"), timeout=5)
                assert second.status == health_pb2.HealthCheckResponse.SERVING
        finally:
            await handle.stop(0)

    asyncio.run(scenario())
