"""Viewer social-graph hydrators: followed, blocked and muted users, muted keywords.

Four stages (as X's four hydrators) so that one failing lookup loses only its own field and
the stats say which one failed; they run concurrently in the first wave.
"""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, UserStateReader
from home_mixer.models import FeedQuery


class _ReaderStage(BaseStage):
    def __init__(self, reader: UserStateReader) -> None:
        self.reader = reader


class FollowedUserIdsQueryHydrator(_ReaderStage):
    """``followed_user_ids``; only fetched when the request did not carry the list (as X)."""

    def enable(self, query: FeedQuery) -> bool:
        return not query.followed_user_ids

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"followed_user_ids": set(await self.reader.following(query.viewer_id))}


class BlockedUserIdsQueryHydrator(_ReaderStage):
    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"blocked_user_ids": set(await self.reader.blocked(query.viewer_id))}


class MutedUserIdsQueryHydrator(_ReaderStage):
    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"muted_user_ids": set(await self.reader.muted(query.viewer_id))}


class MutedKeywordsQueryHydrator(_ReaderStage):
    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"muted_keywords": list(await self.reader.muted_keywords(query.viewer_id))}


def _factory(cls: type[_ReaderStage]):
    def build(deps: Deps) -> _ReaderStage:
        return cls(deps.require("user_state"))  # type: ignore[arg-type]

    return build


build_followed = _factory(FollowedUserIdsQueryHydrator)
build_blocked = _factory(BlockedUserIdsQueryHydrator)
build_muted = _factory(MutedUserIdsQueryHydrator)
build_muted_keywords = _factory(MutedKeywordsQueryHydrator)
