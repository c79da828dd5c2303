"""The ingest end to end: real broker -> consumer loop -> Lua scripts -> real Redis."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from events.producer import produce
from events.world import World, WorldConfig
from infra.kafka_io import ensure_topics, make_producer
from infra.topics import Topics, key_for
from user_state.ingest import UserStateIngest
from user_state.memory import InMemoryUserState
from user_state.redis_state import RedisUserState

pytestmark = pytest.mark.integration


def _wait(pred, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_ingest_matches_in_memory_and_survives_replays_and_garbage(kafka_bootstrap, redis_url, redis_client, unique_name) -> None:
    topics = Topics(posts=f"p-{unique_name}", engagements=f"e-{unique_name}", social_graph=f"g-{unique_name}",
                    served=f"s-{unique_name}")
    events = list(itertools.islice(World.generate(WorldConfig.preset("tiny", n_users=80, days=1.0)).events(), 4000))
    ensure_topics([topics.posts, topics.engagements, topics.social_graph], bootstrap=kafka_bootstrap)
    produce(events, bootstrap=kafka_bootstrap, topics=topics)
    produce(events[:500], bootstrap=kafka_bootstrap, topics=topics)  # a re-run: duplicates
    producer = make_producer(kafka_bootstrap)
    producer.send(topics.engagements, key=key_for(1), value=b"\xff\xffnot a protobuf")
    producer.send(topics.social_graph, key=key_for(1), value=b"")
    producer.flush()
    producer.close()

    memory = InMemoryUserState()
    memory.apply_sync(m for _, m in events)
    with UserStateIngest(redis_url, bootstrap=kafka_bootstrap, topics=topics, group_id=None) as ingest:
        _wait(lambda: ingest.processed >= len(events) + 500 + 2)
        assert ingest.malformed == 2
        assert ingest.new_events == len(events)

    async def compare() -> None:
        redis_state = RedisUserState.from_url(redis_url)
        try:
            users = sorted({m.user_id for t, m in events if t == "engagements"})[:20]
            for u in users:
                assert await redis_state.following(u) == await memory.following(u)
                assert await redis_state.muted_keywords(u) == await memory.muted_keywords(u)
                assert (await redis_state.action_sequence(u)) == (await memory.action_sequence(u))
            post_ids = [m.created.post_id for t, m in events if t == "posts"][:50]
            assert await redis_state.posts(post_ids) == await memory.posts(post_ids)
            assert await redis_state.engagement_counts(post_ids) == await memory.engagement_counts(post_ids)
            authors = list(range(1, 81))
            assert await redis_state.author_stats(authors) == await memory.author_stats(authors)
        finally:
            await redis_state.close()

    asyncio.run(compare())
