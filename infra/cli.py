"""``foryou``: the one command-line entry point.

Each product package contributes its own commands through a ``register(groups)`` function in its
``cli.py`` (so no package edits this file): ``groups.root`` for top-level commands (demo, produce,
ingest, replay, feed), ``groups.serve`` for ``foryou serve <service>`` and ``groups.train`` for
``foryou train <model>``.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import typer

from events.world.config import PRESET_NAMES
from infra.embedded import EmbeddedServices
from infra.logging_setup import setup_logging
from infra.settings import connection_settings

log = logging.getLogger(__name__)

CLI_MODULES = ["thunder.cli", "phoenix.cli", "events.cli", "user_state.cli", "home_mixer.cli", "home_mixer.replay.cli"]


@dataclass
class CliGroups:
    root: typer.Typer
    serve: typer.Typer
    train: typer.Typer


app = typer.Typer(help="Open, runnable For You feed recommender (Thunder, Phoenix, home-mixer).", no_args_is_help=True)
serve_app = typer.Typer(help="Run one service (config from environment variables / FORYOU_CONFIG).", no_args_is_help=True)
train_app = typer.Typer(help="Train a model from an event log.", no_args_is_help=True)
app.add_typer(serve_app, name="serve")
app.add_typer(train_app, name="train")


@app.callback()
def _configure(
    log_level: str = typer.Option(None, help="DEBUG, INFO, WARNING (default from LOG_LEVEL)"),
    log_json: bool = typer.Option(None, "--log-json/--log-plain", help="JSON log lines"),
) -> None:
    settings = connection_settings()
    setup_logging(log_level or settings.log_level, settings.log_json if log_json is None else log_json)


@app.command()
def services(
    topics: bool = typer.Option(True, help="create the project's topics on the broker"),
) -> None:
    """Start a tansu Kafka broker and a redis-server on free loopback ports and keep them running
    until Ctrl-C; prints the environment variables that point other commands at them."""
    from infra.kafka_io import ensure_topics

    svc = EmbeddedServices.start(force_embedded=True)
    try:
        if topics:
            ensure_topics(connection_settings().topics().all(), bootstrap=svc.kafka_bootstrap)
        for key, value in svc.env().items():
            typer.echo(f"export {key}={value}")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    finally:
        svc.stop()


@app.command()
def demo(
    users: int = typer.Option(300, help="users in the synthetic world"),
    preset: str = typer.Option("tiny", help="world preset the sizes start from: " + " | ".join(PRESET_NAMES)),
    days: float = typer.Option(2.0, help="simulated days, ending now (at most 2: Thunder keeps 48 h)"),
    seed: int = typer.Option(0, help="world, training and replay seed"),
    feeds: int = typer.Option(3, help="how many users' feeds to print (the most active ones)"),
    fresh: bool = typer.Option(False, "--fresh", help="ignore cached world + checkpoints in OUT/checkpoints"),
    out: Path = typer.Option(Path("runs/demo"), "--out", help="working folder (world, checkpoints, logs, replay)"),  # noqa: B008
    skip_replay: bool = typer.Option(False, "--skip-replay", help="stop after the feeds"),
    serve: bool = typer.Option(
        False, "--serve", help="keep the services up after the feeds for your own requests, until Ctrl-C (no replay)"
    ),
    replay_requests: int = typer.Option(20, help="request points in the replay comparison"),
    ranker_steps: int = typer.Option(300, help="ranker training steps"),
) -> None:
    """End-to-end demo: world -> Kafka -> trained models -> every service as its own process ->
    explained feeds over gRPC -> replay of two configurations. Stops everything it started."""
    from infra.demo import DemoOptions, run_demo
    from infra.supervisor import ServiceFailed

    options = DemoOptions(users=users, preset=preset, days=days, seed=seed, feeds=feeds, fresh=fresh, out=out,
                          skip_replay=skip_replay, serve=serve, replay_requests=replay_requests, ranker_steps=ranker_steps)
    try:
        options.validate()
        code = run_demo(options)
    except KeyboardInterrupt:
        typer.echo("interrupted: every process the demo started has been stopped", err=True)
        raise typer.Exit(130) from None
    except ValueError as exc:
        typer.echo(f"demo failed: {exc}", err=True)
        raise typer.Exit(2) from None
    except ServiceFailed as exc:
        typer.echo(f"demo failed: a service did not come up (logs in {out / 'logs'}):\n{exc}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def _register_packages() -> None:
    groups = CliGroups(app, serve_app, train_app)
    for name in CLI_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # package not built yet
            raise
        register = getattr(module, "register", None)
        if register is not None:
            register(groups)


_register_packages()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
