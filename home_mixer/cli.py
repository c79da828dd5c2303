"""``foryou serve home-mixer``: serve GetForYouFeed with real Thunder/Phoenix/Redis/Kafka clients."""

from __future__ import annotations

import asyncio

import typer

from infra.shutdown import shutdown_event


def serve_home_mixer(
    host: str = typer.Option(None, help="bind address (default HOME_MIXER_HOST or 0.0.0.0)"),
    port: int = typer.Option(None, help="gRPC port (default HOME_MIXER_PORT or 9093)"),
    metrics_port: int = typer.Option(None, help="Prometheus port, 0 = off (default HOME_MIXER_METRICS_PORT or 9103)"),
    config: str = typer.Option(None, help="pipeline YAML (default: home_mixer/configs/default.yaml)"),
) -> None:
    """Serve the For You feed; dependency addresses come from THUNDER_ADDR, RANKER_ADDR,
    RETRIEVAL_ADDR, REDIS_URL and KAFKA_BOOTSTRAP_SERVERS."""
    from home_mixer.server import start_home_mixer
    from home_mixer.settings import HomeMixerSettings
    from infra.grpc_server import start_metrics_server

    overrides = {k: v for k, v in dict(host=host, port=port, metrics_port=metrics_port, config_path=config).items()
                 if v is not None}
    try:
        settings = HomeMixerSettings(**overrides)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def run() -> None:
        start_metrics_server(settings.metrics_port)
        server = await start_home_mixer(settings)
        typer.echo(f"home-mixer listening on {settings.host}:{server.port}")
        stop = shutdown_event()
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(run())


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    groups.serve.command("home-mixer")(serve_home_mixer)
