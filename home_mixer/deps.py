"""The clients the For You stages depend on, as Protocols, and the ``Deps`` bundle passed to factories.

Stages only see these interfaces, never a gRPC stub or a Redis connection, so the same
pipeline runs against the real services (``service.py`` wires them), against in-process fakes
in unit tests, and against replayed state in offline evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from phoenix.ranker.packed import Predictions
from protos import events_pb2, recsys_pb2, thunder_pb2


@runtime_checkable
class ThunderClient(Protocol):
    """In-network post store (X's InNetworkPostsService). A client may also offer
    ``get_in_network_columns`` (same arguments, the posts as ``thunder.light_posts.LightPosts``
    columns): ThunderSource then reads that instead (the gRPC client and replay's in-process
    Thunder do; a minimal client or fake need not)."""

    async def get_in_network_posts(
        self,
        user_id: int,
        following_ids: Sequence[int],
        exclude_ids: Sequence[int],
        max_results: int,
        is_video_request: bool,
    ) -> list[thunder_pb2.LightPost]: ...


@runtime_checkable
class RankerClient(Protocol):
    """Phoenix ranker (RecsysPredictor.PredictNextActions) with the candidates as columns. The
    answer's row i is for ``tweet_ids[i]``; the real ranker answers every candidate in order, a
    candidate left out stays unscored."""

    async def predict_packed(
        self,
        sequence: recsys_pb2.UserActionSequence,
        candidates: recsys_pb2.PackedCandidates,
        product_surface: int,
    ) -> Predictions: ...


@runtime_checkable
class RetrievalClient(Protocol):
    """Phoenix two-tower retrieval: [(post_id, author_id, score)] and the model version."""

    async def retrieve(
        self,
        user_id: int,
        sequence: recsys_pb2.UserActionSequence | None,
        top_k: int,
        exclude_ids: Sequence[int],
    ) -> tuple[list[tuple[int, int, float]], str]: ...


@runtime_checkable
class UserStateReader(Protocol):
    """Read side of the user-state store (the ``user_state`` package, Redis-backed)."""

    async def action_sequence(self, user_id: int, max_len: int) -> recsys_pb2.UserActionSequence: ...
    async def following(self, user_id: int) -> set[int]: ...
    async def followers_of_viewer_among(self, viewer_id: int, author_ids: Sequence[int]) -> set[int]: ...
    async def blocked(self, user_id: int) -> set[int]: ...
    async def muted(self, user_id: int) -> set[int]: ...
    async def muted_keywords(self, user_id: int) -> list[str]: ...
    async def posts(self, post_ids: Sequence[int]) -> dict[int, events_pb2.PostCreated]: ...
    async def engagement_counts(self, post_ids: Sequence[int]) -> dict[int, dict[str, int]]: ...
    async def author_stats(self, author_ids: Sequence[int]) -> dict[int, dict[str, int]]: ...


@runtime_checkable
class FeedStateStore(Protocol):
    """home-mixer's own per-viewer state: served history, impressions, scored-candidate cache."""

    async def served_ids(self, viewer_id: int, now_ms: int, window_ms: int, max_ids: int) -> set[int]: ...
    async def record_served(self, viewer_id: int, post_ids: Sequence[int], now_ms: int) -> None: ...
    async def impression_bloom(self, viewer_id: int): ...  # -> BloomFilter | None
    async def add_impressions(self, viewer_id: int, post_ids: Sequence[int]) -> None: ...
    async def cached_posts(self, viewer_id: int, variant: str) -> list: ...  # -> list[PostCandidate]
    async def cache_posts(self, viewer_id: int, variant: str, posts: Sequence, ttl_s: int) -> None: ...


@runtime_checkable
class ServedPublisher(Protocol):
    """Publishes what was served (the ``served`` Kafka topic, keyed by viewer)."""

    async def publish(self, feed: events_pb2.ServedFeed) -> None: ...


@runtime_checkable
class PostEmbeddings(Protocol):
    """Post embeddings for the DPP re-ranker: one L2-normalised row per post id."""

    def embed(self, post_ids: Sequence[int]) -> np.ndarray: ...


@dataclass
class Deps:
    """Everything a stage factory may need; fields a pipeline does not use may be None."""

    user_state: UserStateReader | None = None
    thunder: ThunderClient | None = None
    ranker: RankerClient | None = None
    retrieval: RetrievalClient | None = None
    feed_state: FeedStateStore | None = None
    served_publisher: ServedPublisher | None = None
    embeddings: PostEmbeddings | None = None

    def require(self, name: str) -> object:
        """The named dependency, or a clear error at BUILD time (not on the first request)."""
        value = getattr(self, name)
        if value is None:
            raise ValueError(f"this stage needs deps.{name}, which is not configured")
        return value
