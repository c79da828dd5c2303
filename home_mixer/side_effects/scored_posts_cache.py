"""Cache this request's scored candidates for 180 s (X's RedisPostCandidateCacheSideEffect).

Selected and non-selected candidates with ``weighted_score > 0`` are stored sorted by
weighted score, at most 750, so the next page or a quick refresh can replay them (the cached
posts query hydrator reuses them when >= 500). Not done when this request itself replayed
the cache, so the TTL is not extended forever on stale predictions.
"""

from __future__ import annotations

import asyncio

from candidate_pipeline import BaseStage, SideEffectInput
from home_mixer.deps import Deps, FeedStateStore
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import MAX_POSTS_TO_CACHE, SCORED_POSTS_CACHE_TTL_S


class ScoredPostsCacheSideEffect(BaseStage):
    def __init__(self, store: FeedStateStore, ttl_s: int = SCORED_POSTS_CACHE_TTL_S, max_posts: int = MAX_POSTS_TO_CACHE):
        self.store = store
        self.ttl_s = ttl_s
        self.max_posts = max_posts

    def enable(self, query: FeedQuery) -> bool:
        return not query.has_cached_posts

    async def run(self, inp: SideEffectInput) -> None:
        # sorting ~2,000 candidates off the event loop (reads only), as the cache entry's encoding
        posts = await asyncio.to_thread(self.to_cache, inp)
        if posts:
            await self.store.cache_posts(inp.query.viewer_id, inp.query.cache_variant, posts, self.ttl_s)

    def to_cache(self, inp: SideEffectInput) -> list[PostCandidate]:
        """The candidates with ``weighted_score > 0``, best first (stable), at most ``max_posts``."""
        pool = [c for c in (*inp.selected, *inp.non_selected) if c.weighted_score is not None and c.weighted_score > 0]
        weighted = [c.weighted_score for c in pool]
        best = sorted(range(len(pool)), key=weighted.__getitem__, reverse=True)[: self.max_posts]
        return [pool[i] for i in best]


def build(deps: Deps, ttl_s: int = SCORED_POSTS_CACHE_TTL_S, max_posts: int = MAX_POSTS_TO_CACHE):
    return ScoredPostsCacheSideEffect(deps.require("feed_state"), ttl_s, max_posts)  # type: ignore[arg-type]
