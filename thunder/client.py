"""Client for one Thunder or a sharded set of Thunders (used by home-mixer's Thunder source).

Sharded mode keys posts by author, so each shard holds a disjoint set of authors: the client
sends the same request to every shard concurrently and merges by recency (created_at, then post
id, newest first, exactly the store's own order), truncating to ``max_results``. With one
address it is a plain client.

:meth:`ThunderClient.get_in_network_columns` asks for packed posts (:mod:`thunder.packed_posts`,
what home-mixer reads) and still reads a server that answers with messages;
:meth:`ThunderClient.get_in_network_posts` is X's one-message-per-post answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np

from infra.grpc_server import make_channel
from protos import thunder_pb2, thunder_pb2_grpc
from thunder import constants as c
from thunder.light_posts import LightPosts
from thunder.packed_posts import posts_of_response
from thunder.post_table import INT_COLUMNS


def merge_by_recency(parts: Sequence[Sequence[thunder_pb2.LightPost]], max_results: int) -> list[thunder_pb2.LightPost]:
    """Newest first across shards; a post id seen twice (replicas behind one address) is kept once."""
    seen: set[int] = set()
    merged: list[thunder_pb2.LightPost] = []
    for post in sorted((p for part in parts for p in part), key=lambda p: (p.created_at, p.post_id), reverse=True):
        if post.post_id not in seen:
            seen.add(post.post_id)
            merged.append(post)
    return merged[:max_results]


def merge_columns(parts: Sequence[LightPosts], max_results: int) -> LightPosts:
    """:func:`merge_by_recency` for columns."""
    columns = {name: np.concatenate([p.columns[name] for p in parts]) for name in INT_COLUMNS}
    flags = np.concatenate([p.flags for p in parts])
    # newest first; among equal (created_at, post_id) the earlier part first, as the stable sort does
    order = np.lexsort((-np.arange(len(flags)), columns["post_id"], columns["created_at"]))[::-1]
    _, first = np.unique(columns["post_id"][order], return_index=True)
    order = order[np.sort(first)][:max_results]
    return LightPosts({name: col[order] for name, col in columns.items()}, flags[order])


def _merged_limit(max_results: int, is_video_request: bool) -> int:
    """How many posts the shards' merged answer keeps (the server's default when 0)."""
    return max_results or (c.MAX_VIDEOS_TO_RETURN if is_video_request else c.MAX_POSTS_TO_RETURN)


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

    def _request(self, user_id: int, following_ids: Sequence[int], exclude_ids: Sequence[int], max_results: int,
                 is_video_request: bool, packed: bool) -> thunder_pb2.GetInNetworkPostsRequest:
        return thunder_pb2.GetInNetworkPostsRequest(
            user_id=user_id, following_user_ids=list(following_ids), exclude_tweet_ids=list(exclude_ids),
            max_results=max_results, is_video_request=is_video_request, packed=packed,
        )

    async def _ask(self, request: thunder_pb2.GetInNetworkPostsRequest) -> list[thunder_pb2.GetInNetworkPostsResponse]:
        return await asyncio.gather(*(stub.GetInNetworkPosts(request, timeout=self.timeout_s) for stub in self._stubs))

    async def get_in_network_columns(
        self,
        user_id: int,
        following_ids: Sequence[int],
        exclude_ids: Sequence[int] = (),
        max_results: int = 0,
        is_video_request: bool = False,
    ) -> LightPosts:
        """The same posts as :meth:`get_in_network_posts`, as columns. Raises
        ``grpc.aio.AioRpcError`` when any shard fails and
        :class:`thunder.packed_posts.PackedPostsError` for malformed columns."""
        request = self._request(user_id, following_ids, exclude_ids, max_results, is_video_request, True)
        parts = [posts_of_response(r) for r in await self._ask(request)]
        if len(parts) == 1:
            return parts[0]
        return merge_columns(parts, _merged_limit(max_results, is_video_request))

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
        request = self._request(user_id, following_ids, exclude_ids, max_results, is_video_request, False)
        responses = await self._ask(request)
        if len(responses) == 1:
            return list(responses[0].posts)
        return merge_by_recency([r.posts for r in responses], _merged_limit(max_results, is_video_request))


__all__ = ["ThunderClient", "merge_by_recency", "merge_columns"]
