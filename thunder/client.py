"""Client for one Thunder or a sharded set of Thunders (used by home-mixer's Thunder source).

Sharded mode keys posts by author, so each shard holds a disjoint set of authors: the client
sends the same request to every shard concurrently and merges by recency (created_at, then post
id, newest first, exactly the store's own order), truncating to ``max_results``. With one
address it is a plain client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from infra.grpc_server import make_channel
from protos import thunder_pb2, thunder_pb2_grpc
from thunder import constants as c


def merge_by_recency(parts: Sequence[Sequence[thunder_pb2.LightPost]], max_results: int) -> list[thunder_pb2.LightPost]:
    """Newest first across shards; a post id seen twice (replicas behind one address) is kept once."""
    seen: set[int] = set()
    merged: list[thunder_pb2.LightPost] = []
    for post in sorted((p for part in parts for p in part), key=lambda p: (p.created_at, p.post_id), reverse=True):
        if post.post_id not in seen:
            seen.add(post.post_id)
            merged.append(post)
    return merged[:max_results]


class ThunderClient:
    """``async with ThunderClient([...]) as client:`` or call :meth:`close` when done."""

    def __init__(self, addresses: list[str], timeout_s: float = 1.0) -> None:
        if not addresses:
            raise ValueError("ThunderClient needs at least one address")
        self.addresses = list(addresses)
        self.timeout_s = timeout_s
        self._channels = [make_channel(a) for a in self.addresses]
        self._stubs = [thunder_pb2_grpc.InNetworkPostsServiceStub(ch) for ch in self._channels]

    async def __aenter__(self) -> ThunderClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await asyncio.gather(*(ch.close() for ch in self._channels))

    async def get_in_network_posts(
        self,
        user_id: int,
        following_ids: Sequence[int],
        exclude_ids: Sequence[int] = (),
        max_results: int = 0,
        is_video_request: bool = False,
    ) -> list[thunder_pb2.LightPost]:
        """Raises ``grpc.aio.AioRpcError`` when any shard fails (a partial answer would silently
        lose authors; the caller decides whether to degrade)."""
        request = thunder_pb2.GetInNetworkPostsRequest(
            user_id=user_id, following_user_ids=list(following_ids), exclude_tweet_ids=list(exclude_ids),
            max_results=max_results, is_video_request=is_video_request,
        )
        responses = await asyncio.gather(*(stub.GetInNetworkPosts(request, timeout=self.timeout_s) for stub in self._stubs))
        if len(responses) == 1:
            return list(responses[0].posts)
        limit = max_results or (c.MAX_VIDEOS_TO_RETURN if is_video_request else c.MAX_POSTS_TO_RETURN)
        return merge_by_recency([r.posts for r in responses], limit)


__all__ = ["ThunderClient", "merge_by_recency"]
