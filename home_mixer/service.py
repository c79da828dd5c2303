"""gRPC ``foryou.home_mixer.ForYouFeedService``: one For You feed per call.

Per request: validate (INVALID_ARGUMENT with the reason), build the ``FeedQuery``, run the
pipeline under the request's deadline (the client's gRPC deadline, or the configured default
when the client sets none), record which dependencies were unavailable, and answer. A failing
dependency only degrades the feed (the executor isolates stage failures); a deadline hit
answers an empty, flagged feed. Neither is ever an INTERNAL error. The side effects (served
history, the scored-posts cache, the ``served`` event) start once the response is sent: run
with the result on the same event loop, their synchronous work held the response back ~20 ms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import grpc
from prometheus_client import Counter, Histogram

from candidate_pipeline import CandidatePipeline, PipelineResult
from home_mixer.degradation import degraded_dependencies
from home_mixer.feed_request import query_from_request, request_problem
from home_mixer.feed_response import deadline_response, feed_response
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.settings import HomeMixerSettings
from protos import home_mixer_pb2 as hm
from protos import home_mixer_pb2_grpc as hm_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = "foryou.home_mixer.ForYouFeedService"

REQUESTS = Counter("foryou_feed_requests_total", "GetForYouFeed calls", ["outcome"])
DEGRADED = Counter("foryou_feed_degraded_total", "Feeds served without a dependency", ["dependency"])
LATENCY = Histogram(
    "foryou_feed_latency_seconds", "GetForYouFeed latency",
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
)

ForYouPipeline = CandidatePipeline[FeedQuery, PostCandidate]


async def execute_marking_degraded(pipeline: ForYouPipeline, query: FeedQuery) -> PipelineResult:
    """Execute (side effects deferred: :meth:`PipelineResult.start_side_effects`) and set
    ``query.degraded``, which the ``served`` event reads."""
    result = await pipeline.execute(query, defer_side_effects=True)
    query.degraded = degraded_dependencies(result)
    return result


class ForYouFeedService(hm_grpc.ForYouFeedServiceServicer):
    def __init__(self, pipeline: ForYouPipeline, settings: HomeMixerSettings | None = None) -> None:
        self.pipeline = pipeline
        self.settings = settings or HomeMixerSettings()

    def register(self, server: grpc.aio.Server) -> None:
        hm_grpc.add_ForYouFeedServiceServicer_to_server(self, server)

    def budget_s(self, context: grpc.aio.ServicerContext) -> float:
        """Time the pipeline may use: the tighter of the client's deadline and the default."""
        remaining = context.time_remaining()
        deadline = self.settings.request_deadline_s if remaining is None else min(remaining, self.settings.request_deadline_s)
        return max(deadline - self.settings.deadline_margin_s, 0.0)

    async def GetForYouFeed(self, request: hm.ForYouFeedRequest, context: grpc.aio.ServicerContext):  # noqa: N802
        problem = request_problem(request, self.settings)
        if problem:
            REQUESTS.labels("invalid").inc()
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, problem)
        started = time.perf_counter()
        query = query_from_request(request, now_ms=int(time.time() * 1000))
        response, start_side_effects = await self.answer(query, self.budget_s(context))
        context.add_done_callback(lambda _: start_side_effects())  # once the response is out
        LATENCY.observe(time.perf_counter() - started)
        for dependency in response.degraded:
            DEGRADED.labels(dependency).inc()
        REQUESTS.labels("degraded" if response.degraded else "ok").inc()
        return response

    async def feed(self, query: FeedQuery, budget_s: float) -> hm.ForYouFeedResponse:
        """The feed for a valid query within ``budget_s`` seconds, side effects started with it
        (for in-process callers)."""
        response, start_side_effects = await self.answer(query, budget_s)
        start_side_effects()
        return response

    async def answer(self, query: FeedQuery, budget_s: float) -> tuple[hm.ForYouFeedResponse, Callable[[], None]]:
        """(the feed for a valid query within ``budget_s`` seconds, what starts its side effects)."""
        task = asyncio.ensure_future(execute_marking_degraded(self.pipeline, query))
        done, _ = await asyncio.wait({task}, timeout=budget_s)
        if not done:
            task.cancel()
            log.warning("request %s for viewer %d hit its %.0f ms deadline", query.request_id, query.viewer_id,
                        budget_s * 1000)
            return deadline_response(query), _nothing
        try:
            result = task.result()
        except Exception:  # the executor isolates stages; this is a bug, but still never an INTERNAL
            log.exception("pipeline failed for request %s", query.request_id)
            return hm.ForYouFeedResponse(request_id=query.request_id, degraded=["pipeline"]), _nothing
        # the starter alone, not the result: the context keeps its callbacks in a reference cycle
        deferred = result.deferred_side_effects
        return feed_response(result, query), (_nothing if deferred is None else deferred.start)


def _nothing() -> None:
    """No side effects to start (no result)."""
