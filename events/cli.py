"""``foryou produce`` (events into Kafka) and ``foryou generate`` (a world into an event log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import typer
from google.protobuf.message import Message

from events.world.config import PRESET_NAMES


def _ending_now(config):  # noqa: ANN001, ANN202 - WorldConfig
    """The same world shifted so it ends at the current time: Thunder and the retrieval index keep
    only the last 48 h, so a world dated in the past would age out the moment it is ingested."""
    import time
    from dataclasses import replace

    from events.world.config import DAY_MS

    return replace(config, start_ms=int(time.time() * 1000) - int(config.days * DAY_MS))


def _source(world: str | None, log: Path | None, movielens: bool, seed: int, end_now: bool = True) -> Iterator[tuple[str, Message]]:
    chosen = sum([world is not None, log is not None, movielens])
    if chosen != 1:
        raise typer.BadParameter("give exactly one of --world PRESET, --log DIR, --movielens")
    if log is not None:
        from events.log import EventLog

        return EventLog(log).merged()
    if movielens:
        from events.movielens import load_movielens_100k, movielens_events

        return movielens_events(load_movielens_100k())
    from events.world import World, WorldConfig

    try:
        config = WorldConfig.preset(world or "tiny", seed=seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    return World.generate(_ending_now(config) if end_now else config).events()


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    @groups.root.command("produce")
    def produce_cmd(
        world: str = typer.Option(None, help="stream a synthetic world: " + " | ".join(PRESET_NAMES)),
        log: Path = typer.Option(None, exists=True, file_okay=False, help="stream an event log directory"),  # noqa: B008
        movielens: bool = typer.Option(False, "--movielens", help="stream MovieLens-100K (mapped events)"),
        seed: int = typer.Option(0, help="world seed"),
        speed: float = typer.Option(None, help="time scale (60 = a minute of event time per second); default: as fast as possible"),
        limit: int = typer.Option(None, help="stop after this many events"),
        bootstrap: str = typer.Option(None, help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS)"),
        end_now: bool = typer.Option(True, "--end-now/--fixed-dates", help="shift a --world so it ends now (default) or keep its preset dates"),
    ) -> None:
        """Stream events into Kafka keyed by author/user (safe to re-run: consumers dedupe by event id)."""
        from rich.progress import Progress

        from events.producer import produce

        events = _source(world, log, movielens, seed, end_now)
        with Progress(transient=True) as bar:
            task = bar.add_task("producing", total=limit)
            stats = produce(events, bootstrap=bootstrap, speed=speed, limit=limit,
                            on_progress=lambda n: bar.advance(task, n))
        per_topic = ", ".join(f"{t}={n}" for t, n in sorted(stats.per_topic.items()))
        typer.echo(f"sent {stats.sent} events in {stats.seconds:.1f} s ({stats.events_per_s:,.0f} events/s): {per_topic}")

    @groups.root.command("generate")
    def generate_cmd(
        out: Path = typer.Option(..., help="event log directory to write"),  # noqa: B008
        preset: str = typer.Option("tiny", help=" | ".join(PRESET_NAMES)),
        seed: int = typer.Option(0),
        users: int = typer.Option(None, help="override the number of users"),
        days: float = typer.Option(None, help="override the simulated days"),
        movielens: bool = typer.Option(False, "--movielens", help="write MovieLens-100K mapped events instead"),
        end_now: bool = typer.Option(False, "--end-now/--fixed-dates", help="shift the world so it ends now (for serving) or keep its preset dates (default, reproducible)"),
    ) -> None:
        """Write a synthetic world (or MovieLens-100K) to an on-disk event log."""
        if movielens:
            from events.log import EventLogWriter
            from events.movielens import load_movielens_100k, movielens_events

            with EventLogWriter(out) as writer:
                for topic, message in movielens_events(load_movielens_100k()):
                    writer.write(topic, message)
                counts = writer.counts()
        else:
            from events.world import World, WorldConfig, write_to_log

            overrides = {k: v for k, v in (("n_users", users), ("days", days)) if v is not None}
            try:
                config = WorldConfig.preset(preset, seed=seed, **overrides)
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from exc
            if end_now:
                config = _ending_now(config)
            counts = write_to_log(World.generate(config), out)
        typer.echo(f"wrote {out}: " + ", ".join(f"{t}={n}" for t, n in sorted(counts.items())))

