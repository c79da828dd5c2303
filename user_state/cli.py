"""``foryou serve user-state``: run the Kafka -> Redis user-state ingest with a metrics port."""

from __future__ import annotations

import signal
import threading

import typer


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    @groups.serve.command("user-state")
    def serve_user_state(
        metrics_port: int = typer.Option(None, help="Prometheus port (default USER_STATE_METRICS_PORT, 9104)"),
        group_id: str = typer.Option("user-state", help="consumer group prefix; '' = rebuild from the beginning without a group"),
    ) -> None:
        """Consume engagements, social_graph and posts into Redis until SIGTERM / Ctrl-C."""
        from prometheus_client import start_http_server

        from user_state.ingest import UserStateIngest
        from user_state.settings import UserStateSettings

        settings = UserStateSettings()
        port = metrics_port if metrics_port is not None else settings.metrics_port
        start_http_server(port)
        ingest = UserStateIngest(group_id=group_id or None, settings=settings).start()
        typer.echo(f"user-state ingest running (metrics on :{port})")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            ingest.stop()
