"""End to end over gRPC: the synthetic world streamed through Kafka into REAL Thunder, the
user-state ingest (Redis) and the retrieval index, served by REAL retrieval and ranker
services (fresh models) and home-mixer; then the feed's promises are checked post by post.
Both ways the local stack deploys: every service in this process, and Thunder, retrieval and
the ranker each in its own process (which must serve the very same feed)."""

from __future__ import annotations

import asyncio
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from bench.synthetic_feed import HOUR_MS, FeedWorld
from events.world.config import WorldConfig
from events.world.world import World
from home_mixer.local_stack import CHILD_SERVICES, local_stack
from home_mixer.settings import HomeMixerSettings
from infra.snowflake import snowflake_age_ms
from protos import events_pb2

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DAY_MS = 86_400_000
MAX_AGE_MS = 48 * 3_600_000


def world_events(viewer: int, block: int, mute: int, now_ms: int):
    config = WorldConfig(seed=7, n_users=150, days=2.0, start_ms=now_ms - 2 * DAY_MS)
    data = World.generate(config)
    posts: dict[int, events_pb2.PostCreated] = {}
    for topic, message in data.events():
        if topic == "posts" and message.WhichOneof("event") == "created":
            posts[message.created.post_id] = message.created
        yield topic, message
    for action, target in ((events_pb2.BLOCK, block), (events_pb2.MUTE, mute)):
        yield "social_graph", events_pb2.SocialGraphEvent(
            event_id=uuid.uuid4().hex, user_id=viewer, action=action, target_user_id=target, timestamp_ms=now_ms)
    world_events.posts = posts  # type: ignore[attr-defined]


@pytest.mark.parametrize("own_processes", [(), CHILD_SERVICES], ids=["one-process", "own-processes"])
def test_feed_end_to_end(kafka_bootstrap: str, redis_url: str, redis_client, own_processes: tuple[str, ...]) -> None:
    now_ms = int(time.time() * 1000)
    config = WorldConfig(seed=7, n_users=150, days=2.0, start_ms=now_ms - 2 * DAY_MS)
    world = World.build(config)
    viewer = max(world.user_ids.tolist(), key=lambda u: len(world.population.follows[u - 1]))
    followed = [int(a) + 1 for a in world.population.follows[viewer - 1]]
    block, mute = followed[0], followed[1]

    async def go():
        events = world_events(viewer, block, mute, now_ms)
        async with local_stack(events, bootstrap=kafka_bootstrap, redis_url=redis_url,
                               topic_prefix=f"e2e{uuid.uuid4().hex[:6]}-", own_processes=own_processes,
                               settings=HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0,
                                                          request_deadline_s=10, client_timeout_s=8)) as stack:
            assert set(stack.children) == set(own_processes)
            first = await stack.client.get_feed(viewer, debug=True, timeout_s=10)
            seen = [p.tweet_id for p in first.posts[:5]]
            await stack.home_mixer.pipeline.drain_side_effects()
            second = await stack.client.get_feed(viewer, seen_ids=seen, debug=True, timeout_s=10)
            return first, second

    first, second = asyncio.run(go())
    posts: dict[int, events_pb2.PostCreated] = world_events.posts  # type: ignore[attr-defined]
    assert not first.degraded and not second.degraded
    recent = [p for p in posts.values() if now_ms - p.created_at * 1000 < MAX_AGE_MS - 60_000]
    assert any(p.author_id in (block, mute) for p in recent)  # the block/mute checks below can fail
    assert len(first.posts) == 35 and second.posts
    assert first.model_version.startswith("fresh-ranker")
    assert any(p.in_network for p in first.posts)
    sources = {t.stage: t for t in first.stages if t.kind == "source"}
    assert sources["ThunderSource"].kept > 0 and sources["PhoenixSource"].kept > 0  # both real services answered
    assert not {p.tweet_id for p in first.posts} & {p.tweet_id for p in second.posts}  # seen + served
    for feed in (first, second):
        multipliers: dict[int, list[float]] = {}
        for p in feed.posts:
            post = posts[p.tweet_id]
            authors = {post.author_id, post.source_user_id, post.quoted_user_id} - {0}
            assert not authors & {block, mute}, f"blocked/muted author in {p.tweet_id}"
            assert viewer not in authors or post.author_id != viewer
            assert post.author_id != viewer
            assert snowflake_age_ms(p.tweet_id, now_ms + 60_000) <= MAX_AGE_MS
            exp = p.explanation
            assert exp.scored and exp.terms and exp.note == ""
            assert exp.final_score == pytest.approx(p.score)
            multipliers.setdefault(p.author_id, []).append(exp.author_diversity_multiplier)
        for values in multipliers.values():  # decay 0.5, floor 0.25: one full-weight post per author
            assert values.count(1.0) <= 1 and set(values) <= {1.0, 0.5, 0.25}


def _database(url: str, db: int) -> str:
    """``url`` pointing at Redis database ``db`` (flushed): each stack gets a store of its own."""
    parts = urlsplit(url)
    fresh = urlunsplit(parts._replace(path=f"/{db}"))
    with redis.Redis.from_url(fresh) as client:
        client.flushdb()
    return fresh


def test_services_in_their_own_processes_serve_the_same_feed(kafka_bootstrap: str, redis_url: str) -> None:
    """The children build the same seeded models and consume the same topics: same posts, same scores."""
    world = FeedWorld(followed=30, posts_per_followed=4, oon_authors=100, oon_posts=400, span_ms=30 * HOUR_MS)
    now_ms = int(time.time() * 1000)
    viewer = 1

    async def feed(own_processes: tuple[str, ...], db: int) -> list[tuple[int, float]]:
        events = world.events(now_ms, [(viewer, world.followed_ids)])
        async with local_stack(events, bootstrap=kafka_bootstrap, redis_url=_database(redis_url, db),
                               topic_prefix=f"same{uuid.uuid4().hex[:6]}-", own_processes=own_processes,
                               settings=HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0,
                                                          request_deadline_s=10, client_timeout_s=8)) as stack:
            answer = await stack.client.get_feed(viewer, timeout_s=10)
        assert not answer.degraded
        return [(p.tweet_id, p.score) for p in answer.posts]

    one = asyncio.run(feed((), 2))
    own = asyncio.run(feed(CHILD_SERVICES, 3))
    assert len(one) == 35 and len({s for _, s in one}) > 1  # ranked by real scores, not a fallback order
    assert [p for p, _ in own] == [p for p, _ in one]
    assert [s for _, s in own] == pytest.approx([s for _, s in one], rel=1e-5)
