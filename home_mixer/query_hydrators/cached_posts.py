"""Previously scored candidates of this viewer (X's CachedPostsQueryHydrator).

When at least ``min_cached`` (500) posts were cached by a request less than 180 s ago (the
key's TTL), the request replays them instead of calling Thunder, retrieval and the ranker:
pagination and quick refreshes then cost one Redis GET. Fewer cached posts mean the cache is
too thin to fill a page after filtering, so it is ignored.
"""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, FeedStateStore
from home_mixer.models import FeedQuery
from home_mixer.params import MIN_CACHED_POSTS_THRESHOLD, STORE_TIMEOUT_S


class CachedPostsQueryHydrator(BaseStage):
    timeout_s = STORE_TIMEOUT_S

    def __init__(self, store: FeedStateStore, min_cached: int = MIN_CACHED_POSTS_THRESHOLD) -> None:
        self.store = store
        self.min_cached = min_cached

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        posts = await self.store.cached_posts(query.viewer_id, query.cache_variant)
        return {"cached_posts": list(posts), "has_cached_posts": len(posts) >= self.min_cached}


def build(deps: Deps, min_cached: int = MIN_CACHED_POSTS_THRESHOLD) -> CachedPostsQueryHydrator:
    return CachedPostsQueryHydrator(deps.require("feed_state"), min_cached)  # type: ignore[arg-type]
