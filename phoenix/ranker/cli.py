"""``foryou serve ranker`` and ``foryou train ranker``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import typer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.grpc_server import bind_address
from infra.shutdown import shutdown_event

log = logging.getLogger(__name__)


class RankerServeSettings(BaseSettings):
    """``RANKER_HOST`` / ``RANKER_PORT`` / ``RANKER_METRICS_PORT`` / ``RANKER_CHECKPOINT`` (also read
    from the ``FORYOU_CONFIG`` file), so the service runs from its environment alone."""

    model_config = SettingsConfigDict(env_prefix="RANKER_", env_file=os.environ.get("FORYOU_CONFIG"), extra="ignore")

    host: str | None = None
    port: int | None = Field(default=None, ge=0)
    metrics_port: int = Field(default=0, ge=0)
    checkpoint: str = ""


def register(groups) -> None:  # noqa: ANN001 - infra.cli.CliGroups
    @groups.serve.command("ranker")
    def serve_ranker(
        checkpoint: str = typer.Option(
            "", help="checkpoint directory (model.safetensors + config.json); empty = untrained default model"
        ),  # noqa: B008
        host: str = typer.Option(None, help="bind address (default RANKER_HOST, else the host of RANKER_ADDR)"),  # noqa: B008
        port: int = typer.Option(None, help="gRPC port (default RANKER_PORT, else the port of RANKER_ADDR; 0 = free)"),  # noqa: B008
        metrics_port: int = typer.Option(None, help="Prometheus port, 0 = off (default RANKER_METRICS_PORT or 0)"),  # noqa: B008
        address: str = typer.Option("", hidden=True, help="old form of --host/--port: host:port"),  # noqa: B008
        device: str = typer.Option("cpu", help="cpu or cuda[:N]"),  # noqa: B008
        chunk_size: int = typer.Option(1024, help="candidates per KV-cached chunk (engine.DEFAULT_CHUNK_SIZE)"),  # noqa: B008
        threads: int = typer.Option(0, help="torch intra-op threads (0 = half the cores)"),  # noqa: B008
        workers: int = typer.Option(
            0, min=0, help="threads scoring a request's candidate chunks concurrently (0 = cores / threads)"
        ),  # noqa: B008
        max_concurrent_rpcs: int = typer.Option(
            64, help="gRPC refuses calls beyond this with RESOURCE_EXHAUSTED"
        ),  # noqa: B008
        max_queued_candidates: int = typer.Option(50_000, help="queued candidates before RESOURCE_EXHAUSTED"),  # noqa: B008
    ) -> None:
        """Serve foryou.recsys.RecsysPredictor (PredictNextActions, ReloadModel)."""
        from infra.grpc_server import start_metrics_server
        from infra.settings import connection_settings
        from phoenix.ranker.config import RankerConfig
        from phoenix.ranker.engine import RankerEngine
        from phoenix.ranker.model import PhoenixRanker
        from phoenix.ranker.server import configure_torch_threads, default_workers, serve

        env = RankerServeSettings()
        checkpoint = checkpoint or env.checkpoint
        workers = workers or default_workers(configure_torch_threads(threads or None))
        if checkpoint:
            engine = RankerEngine.from_checkpoint(checkpoint, device, chunk_size, workers)
        else:
            log.warning("no --checkpoint: serving an UNTRAINED default ranker (scores are meaningless)")
            engine = RankerEngine(PhoenixRanker(RankerConfig()), "untrained", device, chunk_size, workers)
        addr = bind_address(host if host is not None else env.host, port if port is not None else env.port,
                            address or connection_settings().ranker_addr)
        start_metrics_server(metrics_port if metrics_port is not None else env.metrics_port)

        async def run() -> None:
            handle, service = await serve(
                engine,
                addr,
                max_concurrent_rpcs=max_concurrent_rpcs,
                max_queued_candidates=max_queued_candidates,
            )
            typer.echo(f"ranker {engine.version} serving on port {handle.port}")
            stop = shutdown_event()
            await stop.wait()
            await handle.stop()
            await service.batcher.stop()

        asyncio.run(run())

    @groups.train.command("ranker")
    def train_ranker(
        out: Path = typer.Option(..., help="checkpoint directory to write"),  # noqa: B008
        events: Path = typer.Option(None, help="event log directory (foryou generate / the data pipeline)"),  # noqa: B008
        world: str = typer.Option(
            "", help="instead of --events: generate this synthetic world preset and report AUC vs its oracle"
        ),  # noqa: B008
        valid_fraction: float = typer.Option(0.25, help="the last fraction of the timeline is held out"),  # noqa: B008
        epochs: int = typer.Option(3),  # noqa: B008
        batch_size: int = typer.Option(32),  # noqa: B008
        lr: float = typer.Option(2e-3),  # noqa: B008
        seed: int = typer.Option(0),  # noqa: B008
        device: str = typer.Option("cpu"),  # noqa: B008
        size: str = typer.Option(
            "small", help="small (fast CPU training) or serving (d=128, 4 layers, history 320)"
        ),  # noqa: B008
        max_candidates: int = typer.Option(16, help="shown posts per training example"),  # noqa: B008
    ) -> None:
        """Train the ranker (torchrun-aware: one process per rank, gloo on CPU, nccl on CUDA)."""
        from phoenix.ranker.evaluate import evaluate
        from phoenix.ranker.model import PhoenixRanker
        from phoenix.ranker.train import TrainConfig, init_distributed_from_env, save_ranker, train
        from phoenix.ranker.world_eval import REPORT_ACTIONS, split_topics, world_examples

        cfg = _model_config(size)
        oracle = None
        if world:
            train_ex, valid_ex, oracle = world_examples(
                world,
                history_len=cfg.history_len,
                max_candidates=max_candidates,
                valid_fraction=valid_fraction,
            )
        elif events is not None:
            train_ex, valid_ex = _log_examples(
                events, cfg.history_len, max_candidates, valid_fraction, split_topics
            )
        else:
            raise typer.BadParameter("give --events DIR or --world PRESET")
        rank, world_size, device = init_distributed_from_env(device)
        import torch

        torch.manual_seed(seed)
        model = PhoenixRanker(cfg)
        stats = train(
            model, train_ex, TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device),
            rank=rank, world_size=world_size,
        )  # fmt: skip
        if rank != 0:
            return
        version = save_ranker(model.cpu(), out)
        metrics = evaluate(
            model, valid_ex, oracle=oracle, actions=REPORT_ACTIONS if oracle else REPORT_ACTIONS
        )
        report = {
            "model_version": version,
            "train_examples": len(train_ex),
            "valid_examples": len(valid_ex),
            "train_examples_per_s": stats.examples_per_s,
            "metrics": {k: v.to_dict() for k, v in metrics.items()},
        }
        (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n")
        for name, m in metrics.items():
            oracle_txt = f"  oracle_auc {m.oracle_auc:.3f}" if m.oracle_auc is not None else ""
            typer.echo(
                f"{name:16s} auc {m.auc:.3f}{oracle_txt}  logloss {m.log_loss:.4f}  rce {m.rce:6.2f}  "
                f"pred {m.mean_predicted:.4f} obs {m.observed_rate:.4f}  (n={m.count}, pos={m.positives})"
            )
        typer.echo(f"saved {version} to {out}")


def _model_config(size: str):  # noqa: ANN202
    from phoenix.ranker.config import sized_config

    if size not in ("small", "serving"):
        raise typer.BadParameter(f"unknown size {size!r} (small|serving)")
    return sized_config(size)


def _log_examples(events: Path, history_len: int, max_candidates: int, valid_fraction: float, split_topics):  # noqa: ANN001, ANN202
    from events.log import EventLog
    from phoenix.ranker.examples import build_examples

    split = split_topics(EventLog(events).merged())
    times = sorted(e.timestamp_ms for e in split.engagements)
    if not times:
        raise typer.BadParameter(f"{events} holds no engagement events")
    cut = times[min(len(times) - 1, int(len(times) * (1 - valid_fraction)))]
    return build_examples(
        split.posts, split.engagements, history_len=history_len, max_candidates=max_candidates,
        split_time_ms=cut, social=split.social,
    )  # fmt: skip
