"""``foryou serve thunder``: run one Thunder (or one shard with ``--partitions``)."""

from __future__ import annotations

import asyncio
import logging

import typer

from infra.shutdown import shutdown_event

log = logging.getLogger(__name__)


def _parse_partitions(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        parts = sorted({int(p) for p in text.split(",") if p.strip()})
    except ValueError:
        raise typer.BadParameter(f"--partitions must be comma-separated integers, got {text!r}") from None
    if not parts or min(parts) < 0:
        raise typer.BadParameter("--partitions must list partition numbers >= 0")
    return parts


def serve_thunder(
    host: str = typer.Option(None, help="bind address (default THUNDER_HOST or 0.0.0.0)"),
    port: int = typer.Option(None, help="gRPC port (default THUNDER_PORT or 9090)"),
    metrics_port: int = typer.Option(None, help="Prometheus port, 0 = off (default THUNDER_METRICS_PORT or 8080)"),
    bootstrap: str = typer.Option(None, help="Kafka bootstrap servers (default KAFKA_BOOTSTRAP_SERVERS)"),
    partitions: str = typer.Option(None, help="sharded mode: comma-separated partitions of the posts topic"),
    retention_s: int = typer.Option(None, help="post retention in seconds (default 172800)"),
    max_concurrent: int = typer.Option(None, help="concurrent requests before RESOURCE_EXHAUSTED"),
    qps_limit: float = typer.Option(None, help="requests per second before RESOURCE_EXHAUSTED"),
) -> None:
    """Rebuild the recent-post window from Kafka, then serve GetInNetworkPosts."""
    from infra.grpc_server import start_metrics_server
    from thunder.server import start_thunder
    from thunder.settings import ThunderSettings

    overrides = {k: v for k, v in dict(host=host, port=port, metrics_port=metrics_port, retention_s=retention_s,
                                      max_concurrent=max_concurrent, qps_limit=qps_limit,
                                      partitions=_parse_partitions(partitions)).items() if v is not None}
    try:
        settings = ThunderSettings(**overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def run() -> None:
        start_metrics_server(settings.metrics_port)
        server = await start_thunder(settings, bootstrap=bootstrap)
        typer.echo(f"thunder listening on {settings.host}:{server.port} (NOT_SERVING until caught up)")
        stop = shutdown_event()
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(run())


def register(groups) -> None:
    groups.serve.command("thunder")(serve_thunder)
