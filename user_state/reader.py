"""What the feed pipeline and retrieval read about users, posts and authors.

``UserStateReader`` is the one interface home-mixer's query hydrators and retrieval depend on;
``RedisUserState`` (serving) and ``InMemoryUserState`` (offline replay, unit tests) implement it
with the same semantics, and the same scenario tests run against both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from protos import events_pb2, recsys_pb2


@dataclass(frozen=True)
class AuthorStats:
    followers: int = 0
    impressions: int = 0


@runtime_checkable
class UserStateReader(Protocol):
    async def action_sequence(self, user_id: int, max_len: int = 1024) -> recsys_pb2.UserActionSequence:
        """The user's engagements aggregated per post, newest last (impression-only posts left out)."""
        ...

    async def following(self, user_id: int) -> set[int]: ...

    async def followers_of_viewer_among(self, viewer_id: int, author_ids: Iterable[int]) -> set[int]:
        """The subset of ``author_ids`` that follow ``viewer_id``."""
        ...

    async def blocked(self, user_id: int) -> set[int]: ...

    async def muted(self, user_id: int) -> set[int]: ...

    async def muted_keywords(self, user_id: int) -> set[str]: ...

    async def posts(self, post_ids: Iterable[int]) -> dict[int, events_pb2.PostCreated]:
        """Core data of the known, not deleted posts among ``post_ids``."""
        ...

    async def engagement_counts(self, post_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        """Per post: action name -> count (an empty dict for posts nobody engaged with)."""
        ...

    async def author_stats(self, author_ids: Iterable[int]) -> dict[int, AuthorStats]: ...
