# ruff: noqa: B008 - typer declares options as argument defaults
"""``foryou replay``: replay an event log through one or more pipeline configurations and the
baselines, and write ``replay.json`` + ``report.md`` + plots to ``--out``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from events.world.config import PRESET_NAMES


def _parse_configs(values: list[str]) -> tuple[tuple[str, str | None], ...]:
    out = []
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise typer.BadParameter(f"--config takes NAME=PATH, got {v!r}")
        if not Path(path).is_file():
            raise typer.BadParameter(f"--config {name}: {path} does not exist")
        out.append((name, path))
    return tuple(out) or (("for_you", None),)


def replay(
    log: Path = typer.Option(None, "--log", help="event log directory (events.log format, e.g. a Kafka dump)"),
    world: str = typer.Option(None, "--world", help="synthetic world preset: " + ", ".join(PRESET_NAMES)),
    movielens: bool = typer.Option(False, "--movielens", help="MovieLens-100K (needs recbole==1.2.1)"),
    config: list[str] = typer.Option([], "--config", help="NAME=PATH of a pipeline config (repeatable); "
                                     "default: for_you = home_mixer/configs/default.yaml"),
    seed: int = typer.Option(0, help="seed for the world, the request sample, training and bootstrap"),
    out: Path = typer.Option(Path("runs/replay"), "--out", help="report folder"),
    max_requests: int = typer.Option(200, "--max-requests", min=1, help="request points sampled from the window"),
    baselines: str = typer.Option("chronological,popularity,random,retrieval", help="comma-separated baselines"),
    train_fraction: float = typer.Option(0.5, help="share of the log's time span used for training"),
    ranker_checkpoint: str = typer.Option(None, help="load the ranker instead of training it"),
    retrieval_checkpoint: str = typer.Option(None, help="load the retrieval model instead of training it"),
    ranker_epochs: int = typer.Option(3, min=1, help="ranker training epochs (when training; early stopping "
                                      "keeps the best)"),
    ranker_steps: int = typer.Option(None, min=1, help="cap on ranker training steps (default: no cap)"),
    oracle_ranker: bool = typer.Option(False, "--oracle-ranker", help="synthetic world: also run the first config "
                                       "with the world's true probabilities as the ranker (diagnostic)"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Offline replay evaluation: what would each configuration have served, and was it better?"""
    from home_mixer.replay.driver import ReplaySettings, run_replay
    from home_mixer.replay.event_sources import log_source, movielens_source, world_source
    from home_mixer.replay.models import TrainingBudget
    from home_mixer.replay.report import write_report
    from home_mixer.replay.summary import summarize

    chosen = [x for x in (log is not None, world is not None, movielens) if x]
    if len(chosen) != 1:
        raise typer.BadParameter("choose exactly one of --log DIR, --world PRESET, --movielens")
    try:
        if log is not None:
            source = log_source(log)
        elif world is not None:
            source = world_source(world, seed)
        else:
            source = movielens_source()
        settings = ReplaySettings(
            configs=_parse_configs(config), baselines=tuple(b for b in baselines.split(",") if b), seed=seed,
            max_requests=max_requests, train_fraction=train_fraction, ranker_checkpoint=ranker_checkpoint,
            retrieval_checkpoint=retrieval_checkpoint, oracle_ranker=oracle_ranker,
            budget=TrainingBudget(ranker_epochs=ranker_epochs, ranker_max_steps=ranker_steps, progress=progress),
            progress=progress)
        run = run_replay(source, settings)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        typer.echo(f"replay failed: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary = summarize(run)
    paths = write_report(run, summary, out)
    typer.echo(f"report: {paths['markdown']}")
    typer.echo(json.dumps({"quality_target": summary["quality_target"], "requests": summary["requests"]}))


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    groups.root.command("replay")(replay)
