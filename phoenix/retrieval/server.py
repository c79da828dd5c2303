"""gRPC ``foryou.recsys.RecsysRetrievalPredictor``: top-k retrieval and model reload.

``RetrieveTopKCandidates`` takes user ids with their recent engagement sequences (or, when the
request carries none, fetches each user's sequence from the user-state store), runs the user
tower, and searches the live index, never returning an excluded post. Bad input (no users, a
sequence count that does not match, top_k out of range) gets INVALID_ARGUMENT with the reason.
``ReloadModel`` loads a checkpoint, rebuilds the index with it in a worker thread while the old
model keeps serving, and swaps atomically; responses name the model version that served them.
A request with ``packed`` set is answered with each user's hits as columns (``packed_hits.py``).
"""

from __future__ import annotations

import asyncio
import logging

import grpc
from prometheus_client import Counter, Histogram

from infra.grpc_server import ServerHandle, start_server
from phoenix.checkpoint import CheckpointError
from phoenix.retrieval.checkpoints import load_model
from phoenix.retrieval.features import histories_from_protos
from phoenix.retrieval.live_index import LiveIndex
from phoenix.retrieval.packed_hits import pack_hits
from phoenix.retrieval.search_threads import search_pool
from protos import recsys_pb2, recsys_pb2_grpc
from user_state.reader import UserStateReader

log = logging.getLogger(__name__)

SERVICE_NAME = "foryou.recsys.RecsysRetrievalPredictor"
MAX_TOP_K = 10_000
MAX_USERS = 256

REQUESTS = Counter("foryou_retrieval_requests_total", "Retrieval requests", ["outcome"])
LATENCY = Histogram("foryou_retrieval_latency_seconds", "RetrieveTopKCandidates latency",
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0))


class RetrievalService(recsys_pb2_grpc.RecsysRetrievalPredictorServicer):
    def __init__(self, live: LiveIndex, user_state: UserStateReader | None = None, device: str = "cpu") -> None:
        self.live = live
        self.user_state = user_state
        self.device = device
        self._search = search_pool()  # user tower + FAISS off the loop, OpenMP threads set per worker

    async def _sequences(self, request: recsys_pb2.RetrieveTopKCandidatesRequest,
                         max_len: int) -> list[recsys_pb2.UserActionSequence]:
        if request.sequences:
            return list(request.sequences)
        if self.user_state is None:
            return [recsys_pb2.UserActionSequence(user_id=u) for u in request.user_ids]
        return list(await asyncio.gather(*(self.user_state.action_sequence(u, max_len) for u in request.user_ids)))

    def _check(self, request: recsys_pb2.RetrieveTopKCandidatesRequest) -> str | None:
        if not request.user_ids:
            return "user_ids is empty"
        if len(request.user_ids) > MAX_USERS:
            return f"at most {MAX_USERS} users per request, got {len(request.user_ids)}"
        if request.sequences and len(request.sequences) != len(request.user_ids):
            return f"{len(request.sequences)} sequences for {len(request.user_ids)} user_ids (must match or be empty)"
        if not 1 <= request.top_k <= MAX_TOP_K:
            return f"top_k must be in [1, {MAX_TOP_K}], got {request.top_k}"
        return None

    async def RetrieveTopKCandidates(self, request, context):  # noqa: N802 - gRPC method name
        problem = self._check(request)
        if problem:
            REQUESTS.labels("invalid").inc()
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        with LATENCY.time():
            max_len = self.live.max_history
            try:
                sequences = await self._sequences(request, max_len)
            except Exception as exc:  # noqa: BLE001 - the store is a dependency: report, don't crash
                REQUESTS.labels("unavailable").inc()
                await context.abort(grpc.StatusCode.UNAVAILABLE, f"user-state store failed: {exc}")
            batch = histories_from_protos(list(request.user_ids), sequences, max_len)
            result, version = await asyncio.get_running_loop().run_in_executor(
                self._search, self.live.retrieve, batch, request.top_k, list(request.exclude_post_ids))
        response = recsys_pb2.RetrieveTopKCandidatesResponse(model_version=version, index_size=len(self.live))
        for row, user_id in enumerate(request.user_ids):
            scored = response.top_k_candidates.add(user_id=user_id)
            if request.packed:
                keep = result.post_ids[row] >= 0
                scored.packed.CopyFrom(pack_hits(result.post_ids[row][keep], result.author_ids[row][keep],
                                                 result.scores[row][keep]))
                continue
            for post_id, author_id, score in result.hits(row):
                scored.candidates.add(
                    candidate=recsys_pb2.TweetInfo(tweet_id=post_id, author_id=author_id,
                                                   author_info=recsys_pb2.AuthorInfo(author_id=author_id)),
                    score=score)
        REQUESTS.labels("ok").inc()
        return response

    def close(self) -> None:
        """Let the search workers exit once the searches in flight are done."""
        self._search.shutdown(wait=False)

    async def ReloadModel(self, request, context):  # noqa: N802 - gRPC method name
        if not request.checkpoint_path:
            return recsys_pb2.ReloadModelResponse(ok=False, model_version=self.live.model_version,
                                                  message="checkpoint_path is empty")
        try:
            model, version = await asyncio.to_thread(load_model, request.checkpoint_path, self.device)
            await asyncio.to_thread(self.live.reload, model, version)
        except (CheckpointError, ValueError, OSError) as exc:
            log.warning("reload from %s refused: %s", request.checkpoint_path, exc)
            return recsys_pb2.ReloadModelResponse(ok=False, model_version=self.live.model_version, message=str(exc))
        return recsys_pb2.ReloadModelResponse(ok=True, model_version=version,
                                              message=f"index rebuilt: {len(self.live)} posts")


async def serve(live: LiveIndex, user_state: UserStateReader | None = None, address: str = "127.0.0.1:0",
                device: str = "cpu", ready: bool = True) -> tuple[ServerHandle, RetrievalService]:
    """Start the service on ``address``; returns the handle (port, health) and the servicer."""
    service = RetrievalService(live, user_state, device)
    handle = await start_server(
        register=lambda s: recsys_pb2_grpc.add_RecsysRetrievalPredictorServicer_to_server(service, s),
        service_names=[SERVICE_NAME], address=address, ready=ready)
    return handle, service
