"""FeedUserStateReader (one Lua script per lookup, cached posts) answers exactly as RedisUserState
on a real redis-server, and sees a post's deletion on the very next read; with the feed-state
store on one read batch, the query hydrators read the viewer in one round trip."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from candidate_pipeline.updates import apply_candidate_results
from events.world.actions import ACTION_NUMBERS
from home_mixer.candidate_hydrators.engagement_counts import COUNT_FIELDS, EngagementCountsHydrator
from home_mixer.feed_state_store import RedisFeedStateStore
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.query_hydrators.cached_posts import CachedPostsQueryHydrator
from home_mixer.query_hydrators.impression_bloom import ImpressionBloomFilterQueryHydrator
from home_mixer.query_hydrators.retrieval_sequence import RetrievalSequenceQueryHydrator
from home_mixer.query_hydrators.scoring_sequence import ScoringSequenceQueryHydrator
from home_mixer.query_hydrators.served_history import ServedHistoryQueryHydrator
from home_mixer.query_hydrators.social_graph import (
    BlockedUserIdsQueryHydrator,
    FollowedUserIdsQueryHydrator,
    MutedKeywordsQueryHydrator,
    MutedUserIdsQueryHydrator,
)
from home_mixer.query_hydrators.viewer_stats import ViewerStatsQueryHydrator
from home_mixer.user_state_reader import FeedUserStateReader, PostCache
from protos import events_pb2, recsys_pb2
from user_state import keys
from user_state.batched_reads import ReadBatch
from user_state.memory import InMemoryUserState
from user_state.redis_state import RedisUserState

VIEWER = 1


def post(pid: int, author: int, **kw) -> events_pb2.PostEvent:
    return events_pb2.PostEvent(event_id=f"p{pid}", created=events_pb2.PostCreated(post_id=pid, author_id=author, **kw))


def deleted(pid: int) -> events_pb2.PostEvent:
    return events_pb2.PostEvent(event_id=f"d{pid}", deleted=events_pb2.PostDeleted(post_id=pid, author_id=50))


def eng(eid: str, user: int, pid: int, action: str, author: int = 50) -> events_pb2.EngagementEvent:
    return events_pb2.EngagementEvent(event_id=eid, user_id=user, post_id=pid, author_id=author,
                                      action=ACTION_NUMBERS[action], timestamp_ms=1_800_000_000_000,
                                      product_surface=recsys_pb2.HOME_TIMELINE_RANKING)


def social(eid: str, user: int, action: int, target: int) -> events_pb2.SocialGraphEvent:
    return events_pb2.SocialGraphEvent(event_id=eid, user_id=user, action=action, target_user_id=target,
                                       timestamp_ms=1_800_000_000_000)


WORLD = [
    post(10, 50, text="a", quoted_user_id=60), post(11, 51, text="b"), post(12, 50, text="c"),
    eng("e1", 2, 10, "favorite"), eng("e2", 3, 10, "favorite"), eng("e3", 2, 10, "reply"),
    eng("e4", 2, 11, "impression", author=51),
    social("s1", 50, events_pb2.FOLLOW, 51), social("s2", 52, events_pb2.FOLLOW, 51),
    social("s3", 51, events_pb2.UNFOLLOW, 99), social("s4", 50, events_pb2.BLOCK, VIEWER),
    social("s5", 53, events_pb2.BLOCK, VIEWER), social("s6", 54, events_pb2.BLOCK, 7),
]


def run_both(redis_url: str, fn):
    async def go():
        fast, plain = FeedUserStateReader.from_url(redis_url), RedisUserState.from_url(redis_url)
        try:
            await plain.apply(WORLD)
            return await fn(fast, plain)
        finally:
            await fast.close()
            await plain.close()

    return asyncio.run(go())


@pytest.mark.integration
def test_batched_reads_equal_the_plain_reader(redis_url: str, redis_client) -> None:
    async def fn(fast: FeedUserStateReader, plain: RedisUserState):
        post_ids, authors = [10, 11, 12, 13, 10], [50, 51, 52, 99, 12345, 51]
        for ids in (post_ids, []):
            assert await fast.engagement_counts(ids) == await plain.engagement_counts(ids)
            assert await fast.posts(ids) == await plain.posts(ids)
        for ids in (authors, []):
            assert await fast.author_stats(ids) == await plain.author_stats(ids)
        counts = await fast.engagement_counts([10, 13])
        assert counts == {10: {"favorite": 2, "reply": 1}, 13: {}}
        assert (await fast.author_stats([51]))[51].followers == 2
        assert await fast.blockers_of_viewer_among(VIEWER, [50, 51, 53, 54, 53]) == {50, 53}
        assert await fast.blockers_of_viewer_among(VIEWER, []) == set()
        for viewer, among in ((51, [50, 52, 99, 50, 51]), (51, []), (12345, [50])):
            expected = await plain.followers_of_viewer_among(viewer, among)
            assert await fast.followers_of_viewer_among(viewer, among) == expected
        assert await fast.followers_of_viewer_among(51, [50, 52, 99]) == {50, 52}
        assert (await fast.posts([10]))[10].quoted_user_id == 60

    run_both(redis_url, fn)


@pytest.mark.integration
def test_count_columns_equal_the_counts_hydrated_from_mappings(redis_url: str, redis_client) -> None:
    """The matrix read (one int per post and column, aliases resolved in Lua) gives the candidates
    the same counts as the ``{name: count}`` read of the plain reader."""
    async def fn(fast: FeedUserStateReader, plain: RedisUserState):
        ids = [10, 11, 13, 10]
        table = await fast.engagement_count_columns(ids, [("fav", "favorite"), ("impression",), ("reply", "favorite")])
        assert table.tolist() == [[2, 0, 1], [0, 1, 0], [0, 0, 0], [2, 0, 1]]
        assert (await fast.engagement_count_columns([], [("reply",)])).shape == (0, 1)
        with pytest.raises(ValueError, match="commas"):
            await fast.engagement_count_columns(ids, [("a,b",)])
        fields = list(COUNT_FIELDS)
        by_matrix = [PostCandidate(10, 50), PostCandidate(12, 50, retweeted_tweet_id=11), PostCandidate(13, 50)]
        by_mapping = [PostCandidate(10, 50), PostCandidate(12, 50, retweeted_tweet_id=11), PostCandidate(13, 50)]
        for reader, cands in ((fast, by_matrix), (plain, by_mapping)):
            apply_candidate_results(cands, await EngagementCountsHydrator(reader).hydrate(FeedQuery(VIEWER), cands))
        assert [[getattr(c, f) for f in fields] for c in by_matrix] == [[getattr(c, f) for f in fields]
                                                                         for c in by_mapping]
        assert (by_matrix[0].fav_count, by_matrix[1].view_count, by_matrix[2].fav_count) == (2, 1, 0)

    run_both(redis_url, fn)


@pytest.mark.integration
def test_cached_posts_see_deletions_and_concurrent_reads_share_one_fetch(redis_url: str, redis_client) -> None:
    async def fn(fast: FeedUserStateReader, plain: RedisUserState):
        first = await fast.posts([10, 11, 12])
        assert set(first) == {10, 11, 12} and len(fast.post_cache) == 3
        await plain.apply([deleted(11)])
        again = await fast.posts([10, 11, 12])
        assert set(again) == {10, 12} and again[10] is first[10]  # served from the cache, 11 gone
        assert fast.post_cache.get(11) is None
        a, b = await asyncio.gather(fast.posts([12, 10, 14]), fast.posts([12, 10, 14]))
        assert a == b == {10: first[10], 12: first[12]}
        a[10] = None  # callers get their own dicts
        assert b[10] is first[10]

    run_both(redis_url, fn)


def test_post_cache_is_a_bounded_lru() -> None:
    cache = PostCache(2)
    for pid in (1, 2):
        cache.put(pid, events_pb2.PostCreated(post_id=pid))
    assert cache.get(1) is not None  # 1 is now the most recent
    cache.put(3, events_pb2.PostCreated(post_id=3))
    assert cache.get(2) is None and cache.get(1) is not None and len(cache) == 2
    PostCache(0).put(1, events_pb2.PostCreated(post_id=1))
    with pytest.raises(ValueError):
        PostCache(-1)
    many = PostCache(2)
    for pid in (1, 2):
        many.put(pid, events_pb2.PostCreated(post_id=pid))
    assert [p and p.post_id for p in many.get_many([2, 9, 1])] == [2, None, 1]  # 1 is now the most recent
    many.put(3, events_pb2.PostCreated(post_id=3))
    assert many.get(2) is None and many.get(1) is not None


def test_in_memory_twin_answers_batched_block_checks_like_the_redis_reader() -> None:
    """Replay's in-process state answers the blocked-by check in one call too (same world as above:
    50 and 53 block the viewer, 54 blocks someone else)."""
    state = InMemoryUserState()
    state.apply_sync(WORLD)

    async def go():
        assert await state.blockers_of_viewer_among(VIEWER, [50, 51, 53, 54, 53]) == {50, 53}
        assert await state.blockers_of_viewer_among(VIEWER, []) == set()
        assert await state.blockers_of_viewer_among(7, [50, 54]) == {54}

    asyncio.run(go())


def _query_hydrators(reader: FeedUserStateReader, store: RedisFeedStateStore) -> list:
    """The default config's ten query hydrators."""
    on_reader = (ScoringSequenceQueryHydrator, RetrievalSequenceQueryHydrator, BlockedUserIdsQueryHydrator,
                 MutedUserIdsQueryHydrator, FollowedUserIdsQueryHydrator, MutedKeywordsQueryHydrator,
                 ViewerStatsQueryHydrator)
    on_store = (CachedPostsQueryHydrator, ImpressionBloomFilterQueryHydrator, ServedHistoryQueryHydrator)
    return [cls(reader) for cls in on_reader] + [cls(store) for cls in on_store]


def _shared(redis_url: str) -> tuple[FeedUserStateReader, RedisFeedStateStore]:
    """Reader and store on one client with one read batch, as ``build_clients`` wires one Redis."""
    batch = ReadBatch(aioredis.Redis.from_url(redis_url))
    return FeedUserStateReader(batch.client, batch=batch), RedisFeedStateStore(batch.client, batch=batch)


VIEWER_WORLD = [
    social("v1", 2, events_pb2.FOLLOW, 50), social("v2", 2, events_pb2.BLOCK, 53), social("v3", 2, events_pb2.MUTE, 51),
    events_pb2.SocialGraphEvent(event_id="v4", user_id=2, action=events_pb2.MUTE_KEYWORD, keyword="Spoilers",
                                timestamp_ms=1_800_000_000_000),
    social("v5", 50, events_pb2.FOLLOW, 2),
]


@pytest.mark.integration
def test_the_query_hydrators_read_the_viewer_in_one_round_trip(redis_url: str, redis_client) -> None:
    """All ten together: one batched round trip for the viewer's keys (the sequences' post reads
    follow), and each hydrator's fields equal those read one hydrator at a time."""
    viewer, now_ms = 2, 1_800_000_000_000

    async def go():
        plain = RedisUserState.from_url(redis_url)
        reader, store = _shared(redis_url)
        try:
            await plain.apply(WORLD + VIEWER_WORLD)
            await store.record_served(viewer, [10, 12], now_ms - 1_000)
            await store.add_impressions(viewer, [11])
            query = FeedQuery(viewer, now_ms=now_ms)
            together = await asyncio.gather(*(h.hydrate(query) for h in _query_hydrators(reader, store)))
            assert reader.batch.round_trips == 1
            one_by_one = _shared(redis_url)
            alone = [await h.hydrate(query) for h in _query_hydrators(*one_by_one)]
            assert one_by_one[0].batch.round_trips == 10  # awaited one by one: a round trip per hydrator
            await one_by_one[0].close()
            plain_fields = [await h.hydrate(query) for h in _query_hydrators(plain, store)[:7]]
            return together, alone, plain_fields
        finally:
            await plain.close()
            await reader.close()

    together, alone, plain_fields = asyncio.run(go())
    merged = {k: v for fields in together for k, v in fields.items()}
    assert len(merged) == 11  # the cache hydrator sets two fields
    assert merged["followed_user_ids"] == {50} and merged["blocked_user_ids"] == {53}
    assert merged["muted_user_ids"] == {51} and merged["muted_keywords"] == ["spoilers"]
    assert merged["viewer_followers_count"] == 1 and merged["served_history_ids"] == {10, 12}
    assert 11 in merged["impression_bloom"] and merged["cached_posts"] == []
    assert [a.tweet_info.tweet_id for a in merged["scoring_sequence"].user_actions] == [10]  # 11: an impression only
    bloom = merged.pop("impression_bloom")
    for fields in alone:
        if "impression_bloom" in fields:
            assert fields.pop("impression_bloom").to_bytes() == bloom.to_bytes()
    assert together[:7] == plain_fields
    assert {k: v for fields in alone for k, v in fields.items()} == merged


@pytest.mark.integration
def test_a_failed_viewer_read_fails_only_its_hydrator(redis_url: str, redis_client) -> None:
    """A wrong-typed blocked set (a string) fails the blocked hydrator alone; the nine others of the
    same round trip answer."""
    viewer = 2

    async def go():
        reader, store = _shared(redis_url)
        try:
            await RedisUserState(reader.client).apply(WORLD + VIEWER_WORLD)
            await reader.client.delete(keys.blocked(viewer))
            await reader.client.set(keys.blocked(viewer), b"not a set")
            hydrators = _query_hydrators(reader, store)
            results = await asyncio.gather(*(h.hydrate(FeedQuery(viewer, now_ms=1)) for h in hydrators),
                                           return_exceptions=True)
            return hydrators, results, reader.batch.round_trips
        finally:
            await reader.close()

    hydrators, results, round_trips = asyncio.run(go())
    failed = [type(h).__name__ for h, r in zip(hydrators, results, strict=True) if isinstance(r, BaseException)]
    assert failed == ["BlockedUserIdsQueryHydrator"] and round_trips == 1
    assert "WRONGTYPE" in str(results[2])
    assert results[4] == {"followed_user_ids": {50}} and results[3] == {"muted_user_ids": {51}}


def test_joined_ids_are_digits_only_whatever_int_like_they_come_as() -> None:
    import numpy as np

    from home_mixer.user_state_reader import _joined

    assert _joined([3, 10**18, -2, True]) == "3,1000000000000000000,-2,1"
    assert _joined(i for i in (5, 6)) == "5,6" and _joined(()) == ""
    assert _joined(np.array([7, 8], dtype=np.int64)) == "7,8" and _joined([np.int64(9), "12"]) == "9,12"
    for bad in (["1,2"], [None]):
        with pytest.raises((TypeError, ValueError)):
            _joined(bad)
