"""``foryou train retrieval`` and ``foryou serve retrieval``."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import typer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.grpc_server import bind_address
from infra.shutdown import shutdown_event

log = logging.getLogger(__name__)


class RetrievalServeSettings(BaseSettings):
    """``RETRIEVAL_HOST`` / ``RETRIEVAL_PORT`` / ``RETRIEVAL_METRICS_PORT`` / ``RETRIEVAL_CHECKPOINT`` (also
    read from the ``FORYOU_CONFIG`` file), so the service runs from its environment alone."""

    model_config = SettingsConfigDict(env_prefix="RETRIEVAL_", env_file=os.environ.get("FORYOU_CONFIG"),
                                      extra="ignore")

    host: str | None = None
    port: int | None = Field(default=None, ge=0)
    metrics_port: int = Field(default=0, ge=0)
    checkpoint: str = ""


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    groups.train.command("retrieval")(train_command)
    groups.serve.command("retrieval")(serve_command)


def train_command(
    out: Path = typer.Option(..., help="checkpoint directory to write (model.safetensors + config.json)"),  # noqa: B008
    event_log: Path = typer.Option(None, help="event log directory (events.log); default: MovieLens-100K"),  # noqa: B008
    epochs: int = typer.Option(20, min=1),
    dim: int = typer.Option(64, min=8),
    layers: int = typer.Option(2, min=1),
    max_history: int = typer.Option(50, min=1),
    positive: list[str] = typer.Option(["SERVER_TWEET_FAV"], help="positive action name(s) (ActionName)"),  # noqa: B008
    logq_scale: float = typer.Option(0.0, help="log-Q correction strength (X uses 2.0 at its scale)"),
    seed: int = typer.Option(0),
    device: str = typer.Option("cpu", help="cpu or cuda"),
) -> None:
    """Train the two-tower model on engagement histories and save a checkpoint."""
    from phoenix.retrieval.checkpoints import save_model
    from phoenix.retrieval.datasets import histories_from_events
    from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel
    from phoenix.retrieval.training import TrainConfig, train
    from phoenix.transformer import TransformerConfig
    from protos import recsys_pb2

    try:
        positives = tuple(recsys_pb2.ActionName.Value(p) for p in positive)
    except ValueError as exc:
        raise typer.BadParameter(f"unknown action name: {exc}") from exc
    if event_log is not None:
        from events.log import EventLog

        if not event_log.is_dir():
            raise typer.BadParameter(f"{event_log} is not an event log directory")
        events = EventLog(event_log).merged()
    else:
        from events.movielens import load_movielens_100k, movielens_events

        events = movielens_events(load_movielens_100k())
    histories = histories_from_events(events)
    if not histories:
        raise typer.BadParameter("no user has two or more engagements in the data")
    if dim % 2 or (dim // 2) % 2:
        raise typer.BadParameter("dim must be a multiple of 4")
    import torch

    torch.manual_seed(seed)
    cfg = RetrievalConfig(dim=dim, max_history=max_history, transformer=TransformerConfig(
        dim=dim, num_layers=layers, num_q_heads=2, num_kv_heads=1, head_dim=dim // 2))
    model = TwoTowerModel(cfg)
    result = train(model, histories, TrainConfig(epochs=epochs, positive_actions=positives, logq_scale=logq_scale,
                                                 seed=seed, device=device))
    version = save_model(out, model.cpu())
    typer.echo(f"trained on {len(histories)} users: {result.steps} steps, loss {result.final_loss:.3f}; "
               f"saved {out} ({version})")


def serve_command(
    checkpoint: Path = typer.Option(None, help="checkpoint directory written by `foryou train retrieval` "  # noqa: B008
                                    "(default RETRIEVAL_CHECKPOINT)"),
    host: str = typer.Option(None, help="bind address (default RETRIEVAL_HOST, else the host of RETRIEVAL_ADDR)"),
    port: int = typer.Option(None, help="gRPC port (default RETRIEVAL_PORT, else the port of RETRIEVAL_ADDR; 0 = free)"),
    address: str = typer.Option(None, hidden=True, help="old form of --host/--port: host:port"),
    index_kind: str = typer.Option("flat", help="flat (exact), hnsw, ivf, torch or auto"),
    ivf_nprobe: int = typer.Option(8, min=1),
    hnsw_ef_search: int = typer.Option(1024, min=1),
    retention_s: int = typer.Option(172_800, min=1, help="posts older than this are not servable"),
    device: str = typer.Option("cpu"),
    metrics_port: int = typer.Option(None, help="Prometheus port, 0 = off (default RETRIEVAL_METRICS_PORT or 0)"),
) -> None:
    """Serve RecsysRetrievalPredictor over a live index fed from the posts topic."""
    from infra.embedded import EmbeddedServices
    from infra.grpc_server import start_metrics_server
    from infra.kafka_io import ensure_topics
    from infra.settings import connection_settings
    from phoenix.checkpoint import CheckpointError
    from phoenix.retrieval.checkpoints import load_model
    from phoenix.retrieval.index import IndexConfig
    from phoenix.retrieval.live_index import LiveIndex
    from phoenix.retrieval.server import serve
    from user_state.redis_state import RedisUserState

    env = RetrievalServeSettings()
    checkpoint = checkpoint or (Path(env.checkpoint) if env.checkpoint else None)
    if checkpoint is None:
        raise typer.BadParameter("give --checkpoint DIR or RETRIEVAL_CHECKPOINT (train one with `foryou train retrieval`)")
    metrics_port = metrics_port if metrics_port is not None else env.metrics_port
    try:
        model, version = load_model(checkpoint, device)
        index_cfg = IndexConfig(dim=model.cfg.dim, kind=index_kind, ivf_nprobe=ivf_nprobe,
                                hnsw_ef_search=hnsw_ef_search, torch_device=device)
    except (CheckpointError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    embedded = EmbeddedServices.start()
    settings = connection_settings()
    start_metrics_server(metrics_port)
    live = LiveIndex(model, version, index_cfg, retention_s=retention_s)
    topics = settings.topics()
    ensure_topics([topics.posts], bootstrap=embedded.kafka_bootstrap)
    consumer = live.consumer(topics.posts, bootstrap=embedded.kafka_bootstrap,
                             dead_letter_topic=topics.dead_letter).start()

    async def main() -> None:
        user_state = RedisUserState.from_url(embedded.redis_url)
        bind = bind_address(host if host is not None else env.host, port if port is not None else env.port,
                            address or settings.retrieval_addr)
        handle, _ = await serve(live, user_state, bind, device, ready=False)
        stop = shutdown_event()
        await asyncio.to_thread(consumer.wait_caught_up, 60)
        await handle.set_serving(True)
        typer.echo(f"retrieval serving on port {handle.port}: {len(live)} posts, model {version}")
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=60)
            except TimeoutError:
                live.expire()
        await handle.stop()

    try:
        asyncio.run(main())
    finally:
        consumer.stop()
        embedded.stop()
