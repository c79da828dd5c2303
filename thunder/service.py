"""gRPC ``foryou.thunder.InNetworkPostsService`` over one store (reference §3.4).

The response is written by :func:`thunder.wire.encode_response` (the handler returns bytes and
the method is registered with an identity serializer), so clients see an ordinary
``GetInNetworkPostsResponse``; a request with ``packed`` set gets the posts as columns
(:mod:`thunder.packed_posts`), copied straight out of the store's column arrays. A query for
up to ``inline_max_following`` followees costs well under a millisecond of CPU and runs right
on the event loop: handing it to a worker thread (X's
``spawn_blocking``) buys no parallelism under the GIL and costs two thread wake-ups, which on a
loaded machine each wait for a core. Bigger requests still go to a worker thread so they do not
stall the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import numpy as np

from protos import thunder_pb2
from thunder.admission import Admission
from thunder.constants import RECENCY_ALGORITHMS
from thunder.metrics import LATENCY, REQUESTS, RESULTS
from thunder.post_store import PostStore
from thunder.retrieval import InNetworkQuery, InNetworkRetriever
from thunder.wire import encode_packed_response, encode_response

log = logging.getLogger(__name__)

SERVICE_NAME = "foryou.thunder.InNetworkPostsService"
_INT64_MAX = np.uint64(2**63 - 1)


class InvalidRequest(ValueError):
    """The request cannot be answered; the message goes back as INVALID_ARGUMENT."""


def _ids(values, field: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.uint64)
    if len(arr) and arr.max() > _INT64_MAX:
        i = int(np.flatnonzero(arr > _INT64_MAX)[0])
        raise InvalidRequest(f"{field}[{i}]={int(arr[i])} is not a valid id (ids must be < 2^63)")
    return arr.view(np.int64)


def query_from_request(request: thunder_pb2.GetInNetworkPostsRequest) -> InNetworkQuery:
    """X's input handling: defaults, truncation to 10,000 ids; clear errors for what is unusable."""
    if request.user_id == 0:
        raise InvalidRequest("user_id is required (got 0)")
    if request.user_id > int(_INT64_MAX):
        raise InvalidRequest(f"user_id={request.user_id} is not a valid id (ids must be < 2^63)")
    if request.algorithm not in RECENCY_ALGORITHMS:
        log.info("unknown algorithm %r: serving by recency as X does", request.algorithm)
    return InNetworkQuery.build(
        request.user_id,
        _ids(request.following_user_ids, "following_user_ids"),
        _ids(request.exclude_tweet_ids, "exclude_tweet_ids"),
        request.max_results,
        request.is_video_request,
    )


class InNetworkPostsServicer:
    def __init__(self, store: PostStore, admission: Admission, instance: str = "thunder",
                 inline_max_following: int = 2_000) -> None:
        self.retriever = InNetworkRetriever(store)
        self.admission = admission
        self.instance = instance
        self.inline_max_following = inline_max_following
        # the labelled metric children, looked up once (each .labels() call takes a lock and a dict lookup)
        self._results = RESULTS.labels(instance)
        self._latency = LATENCY.labels(instance)
        self._ok = REQUESTS.labels(instance, "OK")

    def answer(self, request: thunder_pb2.GetInNetworkPostsRequest) -> bytes:
        """Validated query -> serialized response, packed when asked (raises :class:`InvalidRequest`)."""
        posts = self.retriever.query(query_from_request(request), columns=request.packed)
        self._results.observe(len(posts))
        return encode_packed_response(posts) if request.packed else encode_response(posts)

    async def GetInNetworkPosts(self, request: thunder_pb2.GetInNetworkPostsRequest, context: grpc.aio.ServicerContext) -> bytes:  # noqa: N802
        refusal = self.admission.enter()
        if refusal is not None:
            REQUESTS.labels(self.instance, "RESOURCE_EXHAUSTED").inc()
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, refusal)
        started = time.perf_counter()
        try:
            if len(request.following_user_ids) <= self.inline_max_following:
                body = self.answer(request)
            else:
                body = await asyncio.to_thread(self.answer, request)
        except InvalidRequest as exc:
            REQUESTS.labels(self.instance, "INVALID_ARGUMENT").inc()
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        finally:
            self.admission.leave()
        self._latency.observe(time.perf_counter() - started)
        self._ok.inc()
        return body

    def register(self, server: grpc.aio.Server) -> None:
        handlers = {
            "GetInNetworkPosts": grpc.unary_unary_rpc_method_handler(
                self.GetInNetworkPosts,
                request_deserializer=thunder_pb2.GetInNetworkPostsRequest.FromString,
                response_serializer=bytes,  # already serialized by encode_response
            )
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, handlers),))
        server.add_registered_method_handlers(SERVICE_NAME, handlers)
