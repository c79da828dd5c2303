"""``foryou serve user-state``: run the Kafka -> Redis user-state ingest with a metrics port and a
gRPC health endpoint (NOT_SERVING until every topic is caught up), like every other service."""

from __future__ import annotations

import asyncio

import typer

from infra.shutdown import shutdown_event


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    @groups.serve.command("user-state")
    def serve_user_state(
        host: str = typer.Option(None, help="health gRPC bind address (default USER_STATE_HOST or 0.0.0.0)"),
        port: int = typer.Option(None, help="health gRPC port, 0 = pick a free one (default USER_STATE_PORT or 9094)"),
        metrics_port: int = typer.Option(None, help="Prometheus port, 0 = off (default USER_STATE_METRICS_PORT, 9104)"),
        group_id: str = typer.Option("user-state", help="consumer group prefix; '' = rebuild from the beginning without a group"),
        catch_up_timeout_s: float = typer.Option(600.0, help="report NOT_SERVING until caught up, at most this long"),
    ) -> None:
        """Consume engagements, social_graph and posts into Redis until SIGTERM / Ctrl-C, then stop
        the consumers (committing their offsets) and close Redis."""
        from infra.grpc_server import start_metrics_server, start_server
        from infra.kafka_io import ensure_topics
        from infra.settings import connection_settings
        from user_state.ingest import UserStateIngest
        from user_state.settings import UserStateSettings

        overrides = {k: v for k, v in dict(host=host, port=port, metrics_port=metrics_port).items() if v is not None}
        try:
            settings = UserStateSettings(**overrides)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

        conn = connection_settings()
        topics = conn.topics()
        # On a fresh broker the ingest would wait forever for topics nobody created yet.
        ensure_topics([topics.engagements, topics.social_graph, topics.posts], bootstrap=conn.kafka_bootstrap_servers)

        async def run() -> None:
            start_metrics_server(settings.metrics_port)
            handle = await start_server(register=lambda server: None, service_names=[],
                                        address=f"{settings.host}:{settings.port}")
            stop = shutdown_event()
            ingest = UserStateIngest(group_id=group_id or None, settings=settings).start()
            typer.echo(f"user-state ingest running (health on {settings.host}:{handle.port}, "
                       f"metrics on :{settings.metrics_port}); NOT_SERVING until caught up")
            try:
                caught_up = asyncio.create_task(asyncio.to_thread(ingest.wait_caught_up, catch_up_timeout_s))
                stopped = asyncio.create_task(stop.wait())
                await asyncio.wait({caught_up, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if caught_up.done() and caught_up.result():
                    await handle.set_serving(True)
                    typer.echo("user-state caught up: SERVING")
                await stopped
            finally:
                await handle.stop(1.0)
                await asyncio.to_thread(ingest.stop)

        asyncio.run(run())
