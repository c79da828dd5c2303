"""Real grpc.aio servers implementing Thunder's and Phoenix's services over canned data.

They let the service tests run the REAL home-mixer wiring (gRPC clients, Redis, Kafka) and
stop a dependency for real (``await server.stop()``), without training models. Their answers
follow the contracts: Thunder returns followed authors' posts newest first minus excluded ids;
retrieval returns out-of-network posts minus excluded ids; the ranker returns X's wire layout
(log-probabilities indexed by ActionName number, dwell seconds by ContinuousActionName).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from infra.grpc_server import ServerHandle, start_server
from phoenix.ranker.packed import pack_distributions, unpack_candidates
from protos import events_pb2, recsys_pb2, recsys_pb2_grpc, thunder_pb2, thunder_pb2_grpc

RANKER_VERSION = "fake-ranker-v3"
RETRIEVAL_VERSION = "fake-retrieval-v1"


def light_post(p: events_pb2.PostCreated) -> thunder_pb2.LightPost:
    return thunder_pb2.LightPost(
        post_id=p.post_id, author_id=p.author_id, created_at=p.created_at, in_reply_to_post_id=p.in_reply_to_post_id,
        is_retweet=p.is_retweet, is_reply=p.is_reply, source_post_id=p.source_post_id,
        source_user_id=p.source_user_id, has_video=p.has_video, conversation_id=p.conversation_id,
    )


class FakeThunder(thunder_pb2_grpc.InNetworkPostsServiceServicer):
    def __init__(self, posts: Sequence[events_pb2.PostCreated]) -> None:
        self.posts = sorted(posts, key=lambda p: (p.created_at, p.post_id), reverse=True)

    async def GetInNetworkPosts(self, request, context):  # noqa: N802
        following, exclude = set(request.following_user_ids), set(request.exclude_tweet_ids)
        out = [light_post(p) for p in self.posts if p.author_id in following and p.post_id not in exclude]
        return thunder_pb2.GetInNetworkPostsResponse(posts=out[: request.max_results or 1200])

    def register(self, server) -> None:  # noqa: ANN001
        thunder_pb2_grpc.add_InNetworkPostsServiceServicer_to_server(self, server)


class FakeRetrieval(recsys_pb2_grpc.RecsysRetrievalPredictorServicer):
    """Every original post not by ``followed_by_viewer`` authors, best score = newest."""

    def __init__(self, posts: Sequence[events_pb2.PostCreated], in_network_authors: set[int]) -> None:
        self.posts = [p for p in posts if p.author_id not in in_network_authors and not p.is_reply
                      and not p.is_retweet]

    async def RetrieveTopKCandidates(self, request, context):  # noqa: N802
        exclude = set(request.exclude_post_ids)
        response = recsys_pb2.RetrieveTopKCandidatesResponse(model_version=RETRIEVAL_VERSION)
        scored = response.top_k_candidates.add(user_id=request.user_ids[0])
        hits = sorted((p for p in self.posts if p.post_id not in exclude), key=lambda p: -p.post_id)
        for rank, p in enumerate(hits[: request.top_k]):
            scored.candidates.add(candidate=recsys_pb2.TweetInfo(tweet_id=p.post_id, author_id=p.author_id),
                                  score=1.0 / (rank + 1))
        return response

    def register(self, server) -> None:  # noqa: ANN001
        recsys_pb2_grpc.add_RecsysRetrievalPredictorServicer_to_server(self, server)


def fake_probability(tweet_id: int) -> float:
    """A deterministic pseudo-random favorite probability in [0.05, 0.65)."""
    return 0.05 + 0.6 * ((tweet_id * 2654435761) % 1000) / 1000.0


class FakeRanker(recsys_pb2_grpc.RecsysPredictorServicer):
    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.requests = 0

    async def PredictNextActions(self, request, context):  # noqa: N802
        self.requests += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        response = recsys_pb2.PredictNextActionsResponse(model_version=RANKER_VERSION)
        for cs in request.candidate_sets:
            out = response.distribution_sets.add(user_id=cs.user_id)
            if cs.HasField("packed"):
                ids, _ = unpack_candidates(cs.packed)
                ids = ids["tweet_id"]
                p = np.array([fake_probability(t) for t in ids.tolist()])
                log_probs = np.full((len(ids), 64), -30.0)
                log_probs[:, recsys_pb2.SERVER_TWEET_FAV] = np.log(p)
                log_probs[:, recsys_pb2.SERVER_TWEET_REPLY] = np.log(p / 10)
                log_probs[:, recsys_pb2.CLIENT_TWEET_REPORT] = math.log(1e-4)
                out.packed.CopyFrom(pack_distributions(ids, log_probs, 4.0 + 10 * p))
                continue
            for info in cs.candidates:
                p = fake_probability(info.tweet_id)
                log_probs = [-30.0] * 64
                log_probs[recsys_pb2.SERVER_TWEET_FAV] = math.log(p)
                log_probs[recsys_pb2.SERVER_TWEET_REPLY] = math.log(p / 10)
                log_probs[recsys_pb2.CLIENT_TWEET_REPORT] = math.log(1e-4)
                out.candidate_distributions.add(
                    candidate=info, top_log_probs=log_probs, continuous_actions_values=[0.0, 4.0 + 10 * p])
        return response

    def register(self, server) -> None:  # noqa: ANN001
        recsys_pb2_grpc.add_RecsysPredictorServicer_to_server(self, server)


@dataclass
class FakeServer:
    """One started fake; ``stop()`` really stops the gRPC server (the dependency goes down)."""

    handle: ServerHandle
    name: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.handle.port}"

    async def stop(self) -> None:
        await self.handle.server.stop(0)


async def serve(servicer, name: str) -> FakeServer:  # noqa: ANN001
    handle = await start_server(register=servicer.register, service_names=[name], ready=True)
    return FakeServer(handle, name)
