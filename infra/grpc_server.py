"""gRPC server and channel plumbing shared by every service.

Each service gets: the standard health service (NOT_SERVING until the service says it is
ready), reflection, message-size limits, a concurrency cap (gRPC itself answers
RESOURCE_EXHAUSTED beyond it), optional TLS, and a Prometheus metrics endpoint.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import start_http_server

from infra.settings import ConnectionSettings, connection_settings

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 128 * 1024 * 1024  # X's MAX_GRPC_MESSAGE_SIZE
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]


@dataclass
class ServerHandle:
    """A started aio server plus its health servicer (flip readiness with ``set_serving``)."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: Sequence[str]

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in [*self.service_names, ""]:
            await self.health.set(name, status)

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop accepting, let in-flight calls finish for ``grace_s``."""
        await self.set_serving(False)
        await self.server.stop(grace_s)


def server_credentials(settings: ConnectionSettings) -> grpc.ServerCredentials | None:
    if not settings.grpc_tls_cert:
        return None
    if not settings.grpc_tls_key:
        raise ValueError("GRPC_TLS_CERT is set but GRPC_TLS_KEY is not")
    return grpc.ssl_server_credentials(
        [(Path(settings.grpc_tls_key).read_bytes(), Path(settings.grpc_tls_cert).read_bytes())]
    )


async def start_server(
    *,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
    address: str = "127.0.0.1:0",
    max_concurrent_rpcs: int | None = None,
    settings: ConnectionSettings | None = None,
    ready: bool = False,
) -> ServerHandle:
    """Build, register and start a grpc.aio server; returns the bound port.

    ``service_names`` are full names (``package.Service``) used for health and reflection.
    ``max_concurrent_rpcs`` makes gRPC refuse extra calls with RESOURCE_EXHAUSTED.
    """
    settings = settings or connection_settings()
    server = grpc.aio.server(options=CHANNEL_OPTIONS, maximum_concurrent_rpcs=max_concurrent_rpcs)
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    creds = server_credentials(settings)
    port = server.add_secure_port(address, creds) if creds else server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"could not bind gRPC server to {address}")
    await server.start()
    handle = ServerHandle(server, port, health_servicer, list(service_names))
    await handle.set_serving(ready)
    log.info("gRPC %s listening on port %d (tls=%s)", ",".join(service_names), port, creds is not None)
    return handle


def make_channel(address: str, settings: ConnectionSettings | None = None) -> grpc.aio.Channel:
    """An aio client channel, TLS when ``GRPC_TLS_CA`` is configured."""
    settings = settings or connection_settings()
    if settings.grpc_tls_ca:
        creds = grpc.ssl_channel_credentials(root_certificates=Path(settings.grpc_tls_ca).read_bytes())
        return grpc.aio.secure_channel(address, creds, options=CHANNEL_OPTIONS)
    return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)


def start_metrics_server(port: int, host: str | None = None) -> None:
    """Expose Prometheus metrics over HTTP (port 0 = disabled). Loopback unless ``host`` or
    ``METRICS_HOST`` says otherwise (containers set 0.0.0.0 so Prometheus can scrape them)."""
    if port:
        host = host or os.environ.get("METRICS_HOST", "127.0.0.1")
        start_http_server(port, addr=host)
        log.info("metrics on http://%s:%d/metrics", host, port)


def bind_address(host: str | None, port: int | None, fallback: str) -> str:
    """``--host``/``--port`` win over the ``host:port`` fallback (e.g. ``RANKER_ADDR``), each on its own."""
    fb_host, _, fb_port = fallback.rpartition(":")
    return f"{host or fb_host or '0.0.0.0'}:{fb_port if port is None else port}"
