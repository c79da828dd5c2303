"""gRPC ``foryou.recsys.RecsysPredictor``: PredictNextActions and ReloadModel.

* PredictNextActions validates the request (INVALID_ARGUMENT with the reason), hands it to the
  micro-batcher (RESOURCE_EXHAUSTED when overloaded; gRPC itself also refuses calls beyond
  ``max_concurrent_rpcs``) and answers with the model version: in X's layout for a candidate set
  of TweetInfos, as columns (``packed.py``) for a set of ``PackedCandidates``.
* ReloadModel loads a checkpoint off the event loop, validates it on a probe batch, and only
  then swaps the engine reference (one assignment, so every batch sees either the old or the new
  model, never a mix). A bad checkpoint is refused with ok=false and the reason; the old model
  keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

import grpc
import torch

from infra.grpc_server import ServerHandle, start_server
from phoenix.checkpoint import CheckpointError
from phoenix.ranker.batcher import MicroBatcher, Overloaded
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.request import InvalidRequest, to_distribution_set, to_score_requests
from protos import recsys_pb2 as pb
from protos import recsys_pb2_grpc

log = logging.getLogger(__name__)
SERVICE_NAME = "foryou.recsys.RecsysPredictor"


class RankerService(recsys_pb2_grpc.RecsysPredictorServicer):
    def __init__(
        self, engine: RankerEngine, *, max_wait_ms: float = 0.0, max_queued_candidates: int = 50_000
    ) -> None:
        self.engine = engine
        self.checkpoint_path = ""
        self.batcher = MicroBatcher(
            lambda: self.engine, max_wait_ms=max_wait_ms, max_queued_candidates=max_queued_candidates
        )
        self._reload_lock = asyncio.Lock()

    async def PredictNextActions(
        self, request: pb.PredictNextActionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.PredictNextActionsResponse:  # noqa: N802
        try:
            jobs = to_score_requests(request, int(time.time() * 1000), self.engine.cfg.max_candidates)
        except InvalidRequest as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        try:
            results, version = await self.batcher.submit(jobs)
        except Overloaded as exc:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        sets = [
            to_distribution_set(cs, res, self.checkpoint_path)
            for cs, res in zip(request.candidate_sets, results, strict=True)
        ]
        return pb.PredictNextActionsResponse(distribution_sets=sets, model_version=version)

    async def ReloadModel(
        self, request: pb.ReloadModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReloadModelResponse:  # noqa: N802
        async with self._reload_lock:
            path = request.checkpoint_path
            if not path:
                return pb.ReloadModelResponse(
                    ok=False, model_version=self.engine.version, message="checkpoint_path is empty"
                )
            current = self.engine
            try:
                engine = await asyncio.to_thread(
                    RankerEngine.from_checkpoint, path, str(current.device), current.chunk_size, current.workers
                )
            except (CheckpointError, ValueError, OSError) as exc:  # a bad path (too long, NUL) is refused too
                log.warning("refused checkpoint %s: %s", path[:200], exc)
                return pb.ReloadModelResponse(
                    ok=False, model_version=current.version, message=f"refused: {exc}"
                )
            self.engine = engine
            self.checkpoint_path = path
            log.info("ranker now serving %s from %s", engine.version, path)
            return pb.ReloadModelResponse(ok=True, model_version=engine.version, message=f"loaded {path}")


async def serve(
    engine: RankerEngine,
    address: str = "127.0.0.1:0",
    *,
    max_concurrent_rpcs: int | None = 64,
    max_queued_candidates: int = 50_000,
    max_wait_ms: float = 0.0,
) -> tuple[ServerHandle, RankerService]:
    """Start the ranker server (ready) and its batcher; stop with ``handle.stop()`` then ``service.batcher.stop()``."""
    service = RankerService(engine, max_wait_ms=max_wait_ms, max_queued_candidates=max_queued_candidates)
    handle = await start_server(
        register=lambda s: recsys_pb2_grpc.add_RecsysPredictorServicer_to_server(service, s),
        service_names=[SERVICE_NAME],
        address=address,
        max_concurrent_rpcs=max_concurrent_rpcs,
        ready=True,
    )
    service.batcher.start()
    return handle, service


def default_threads() -> int:
    """Half the cores (1 on the 2-core dev box): the ranker shares the machine with Kafka, Redis and
    the other services, and OpenMP intra-op threads degrade badly when cores are oversubscribed
    (measured: 2 threads on a loaded 2-core box ran 10-30x slower than 1)."""
    return max(1, (os.cpu_count() or 2) // 2)


def default_workers(threads: int | None = None) -> int:
    """Chunk workers (``RankerEngine(workers=...)``) for torch at ``threads`` intra-op threads
    (default: ``default_threads()``): one per that many cores, so a request's chunks can use every
    core without OpenMP's oversubscription (2 on the 2-core box)."""
    return max(1, (os.cpu_count() or 1) // max(1, threads or default_threads()))


def configure_torch_threads(threads: int | None = None) -> int:
    n = threads or default_threads()
    torch.set_num_threads(n)
    return n
