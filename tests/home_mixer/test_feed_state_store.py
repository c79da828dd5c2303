"""RedisFeedStateStore against the real redis-server fixture."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from home_mixer.bloom import BloomFilter
from home_mixer.feed_state_store import RedisFeedStateStore
from home_mixer.models import ActionTerm, PostCandidate, ScoreExplanation
from user_state import keys

pytestmark = pytest.mark.integration
VIEWER = 4242


def with_store(redis_url: str, fn):
    async def go():
        store = RedisFeedStateStore.from_url(redis_url)
        try:
            return await fn(store)
        finally:
            await store.close()

    return asyncio.run(go())


def test_served_history_window_and_cap(redis_url: str, redis_client) -> None:
    async def fn(store: RedisFeedStateStore):
        await store.record_served(VIEWER, [1, 2], now_ms=1_000)
        await store.record_served(VIEWER, [3, 4, 5], now_ms=700_000)
        recent = await store.served_ids(VIEWER, now_ms=800_000, window_ms=600_000, max_ids=100)
        capped = await store.served_ids(VIEWER, now_ms=800_000, window_ms=10**9, max_ids=2)
        empty = await store.served_ids(999, now_ms=800_000, window_ms=600_000, max_ids=100)
        await store.record_served(VIEWER, [], now_ms=1)
        return recent, capped, empty

    recent, capped, empty = with_store(redis_url, fn)
    assert recent == {3, 4, 5} and len(capped) == 2 and empty == set()
    redis_client.lpush(keys.served_history(VIEWER), b"garbage")
    assert with_store(redis_url, lambda s: s.served_ids(VIEWER, 800_000, 600_000, 100)) == {3, 4, 5}


def test_impression_bloom_is_shared_with_local_bloom(redis_url: str, redis_client) -> None:
    async def fn(store: RedisFeedStateStore):
        assert await store.impression_bloom(VIEWER) is None
        await store.add_impressions(VIEWER, [11, 12, 2**60])
        return await store.impression_bloom(VIEWER)

    bloom = with_store(redis_url, fn)
    assert 11 in bloom and 12 in bloom and 2**60 in bloom
    local = BloomFilter(10_000, 0.001)
    local.update([11, 12, 2**60])
    assert bloom.to_bytes() == local.to_bytes()  # SETBIT order == local bit order
    assert redis_client.ttl(keys.impression_bloom(VIEWER)) > 0


def test_scored_posts_cache_roundtrip_and_ttl(redis_url: str, redis_client) -> None:
    exp = ScoreExplanation(terms=(ActionTerm("favorite", 0.5, 0.5, 0.25),), weighted_score=0.251, scored=True,
                           other_multipliers={"x": 2.0})
    posts = [PostCandidate(i, 7, phoenix_scores={"favorite": 0.5}, weighted_score=0.251, explanation=exp,
                           ancestors=[1, 2]) for i in range(3)]

    async def fn(store: RedisFeedStateStore):
        assert await store.cached_posts(VIEWER, "all") == []
        await store.cache_posts(VIEWER, "all", posts, ttl_s=180)
        return await store.cached_posts(VIEWER, "all"), await store.cached_posts(VIEWER, "in_network")

    got, other_variant = with_store(redis_url, fn)
    # the derived weighted-score terms are not cached (the weighted scorer recomputes them on replay)
    assert got == [dataclasses.replace(p, explanation=dataclasses.replace(exp, terms=())) for p in posts]
    assert other_variant == []
    assert 0 < redis_client.ttl(f"{keys.scored_posts_cache(VIEWER)}:all") <= 180
