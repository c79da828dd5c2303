"""home-mixer's Redis user-state reader: ``RedisUserState`` plus the batched lookups a feed
request needs and the store's Protocol does not have (one round trip instead of one per author)."""

from __future__ import annotations

from collections.abc import Iterable

from user_state import keys
from user_state.redis_state import RedisUserState


class FeedUserStateReader(RedisUserState):
    async def blockers_of_viewer_among(self, viewer_id: int, user_ids: Iterable[int]) -> set[int]:
        """The users among ``user_ids`` whose block list contains ``viewer_id`` (pipelined SISMEMBER)."""
        users = list(dict.fromkeys(user_ids))
        if not users:
            return set()
        pipe = self.client.pipeline(transaction=False)
        for u in users:
            pipe.sismember(keys.blocked(u), viewer_id)
        flags = await pipe.execute()
        return {u for u, f in zip(users, flags, strict=True) if f}
