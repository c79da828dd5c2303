"""Malformed and fuzzed Kafka messages into EVERY consumer, duplicates and full replays.

12,000 malformed messages (random bytes, truncated valid events, events of another type, invalid
field values; 10,000 on ``posts`` alone, read by three consumers) are interleaved with a small
valid stream produced TWICE. Real broker, real Redis, real consumers: Thunder's ingest (behind
its gRPC server), the user-state ingest and the retrieval live index. Each must count every
malformed message, apply every valid event exactly once (state equal to the in-memory reference
or the known answer) and, re-run from the beginning over the same state, change nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from home_mixer.local_stack import fresh_retrieval_model
from infra.embedded import RedisServer
from infra.kafka_io import ensure_topics
from infra.topics import Topics
from phoenix.retrieval.index import IndexConfig
from phoenix.retrieval.live_index import LiveIndex
from tests.reliability.fuzz_events import FuzzStream, build
from tests.reliability.helpers import produce_raw, wait_until
from thunder.client import ThunderClient
from thunder.server import start_thunder
from thunder.settings import ThunderSettings
from user_state.ingest import UserStateIngest
from user_state.memory import InMemoryUserState
from user_state.redis_state import RedisUserState

pytestmark = pytest.mark.integration

CATCH_UP_S = 90.0


@dataclass
class Produced:
    stream: FuzzStream
    topics: Topics
    bootstrap: str
    redis: RedisServer


@pytest.fixture(scope="module")
def produced(kafka_bootstrap: str, request: pytest.FixtureRequest) -> Iterator[Produced]:
    suffix = f"{int(time.time() * 1000) % 10**9}"
    topics = Topics(posts=f"fz-posts-{suffix}", engagements=f"fz-eng-{suffix}", social_graph=f"fz-graph-{suffix}",
                    served=f"fz-served-{suffix}", dead_letter=f"fz-dlq-{suffix}")
    stream = build(seed=7, now_ms=int(time.time() * 1000))
    ensure_topics([topics.posts, topics.engagements, topics.social_graph], partitions=2, bootstrap=kafka_bootstrap)
    names = {"posts": topics.posts, "engagements": topics.engagements, "social_graph": topics.social_graph}
    for logical, raw in stream.raw.items():
        produce_raw(kafka_bootstrap, names[logical], raw)
    redis = RedisServer().start()
    try:
        yield Produced(stream, topics, kafka_bootstrap, redis)
    finally:
        redis.cleanup()


def test_generator_is_what_it_claims(produced: Produced) -> None:
    s = produced.stream
    assert s.malformed["posts"] >= 10_000 and s.total_malformed >= 12_000
    valid_per_topic = {t: sum(1 for tt, _ in s.valid if tt == t) for t in s.raw}
    for topic, raw in s.raw.items():
        assert len(raw) == 2 * valid_per_topic[topic] + s.malformed[topic]  # every valid event twice


# -- Thunder -----------------------------------------------------------------------------------------


async def _thunder_answers(p: Produced, instance: str) -> tuple[list[bytes], int, int, int]:
    server = await start_thunder(ThunderSettings(host="127.0.0.1", port=0, metrics_port=0),
                                 bootstrap=p.bootstrap, topic=p.topics.posts, instance=instance)
    try:
        total = len(p.stream.raw["posts"])
        deadline = time.monotonic() + CATCH_UP_S
        while server.consumer.consumed < total or not server.serving:
            assert time.monotonic() < deadline, f"thunder read {server.consumer.consumed}/{total}"
            assert server.consumer.running, "the Thunder consumer thread died"
            await asyncio.sleep(0.05)
        authors = sorted({post.author_id for post in p.stream.posts})
        async with ThunderClient([server.address], timeout_s=10) as client:
            posts = await client.get_in_network_posts(1, authors, max_results=1200)
        ingest = server.consumer.handler
        return ([x.SerializeToString() for x in posts], server.consumer.malformed, ingest.inserted,  # type: ignore[attr-defined]
                server.consumer.handler_errors)
    finally:
        await server.stop()


def test_thunder_counts_every_malformed_message_applies_each_event_once_and_replays_identically(
        produced: Produced) -> None:
    from protos import thunder_pb2

    s = produced.stream
    first, malformed, inserted, errors = asyncio.run(_thunder_answers(produced, "fuzz-a"))
    assert malformed == s.malformed["posts"]
    assert errors == 0
    assert inserted == len(s.posts), "each create inserted once although delivered twice"
    ids = [thunder_pb2.LightPost.FromString(b).post_id for b in first]
    assert len(ids) == len(set(ids)) and set(ids) == s.live_post_ids
    # replay: a fresh Thunder re-reads the whole topic and answers byte for byte the same
    again, malformed_again, _, _ = asyncio.run(_thunder_answers(produced, "fuzz-b"))
    assert again == first and malformed_again == malformed


# -- user state ---------------------------------------------------------------------------------------


def _run_ingest(p: Produced) -> tuple[int, int, int]:
    total = sum(len(raw) for raw in p.stream.raw.values())
    with UserStateIngest(p.redis.url, bootstrap=p.bootstrap, topics=p.topics, group_id=None) as ingest:
        wait_until(lambda: ingest.processed >= total or not all(c.running for c in ingest.consumers), CATCH_UP_S,
                   f"user-state ingest to process {total} messages")
        assert all(c.running for c in ingest.consumers), "a user-state consumer thread died"
        return ingest.malformed, ingest.new_events, sum(c.handler_errors for c in ingest.consumers)


async def _assert_matches_reference(redis_url: str, s: FuzzStream) -> None:
    memory = InMemoryUserState()
    memory.apply_sync(m for _, m in s.valid)
    assert memory.malformed == 0
    state = RedisUserState.from_url(redis_url)
    try:
        for user in range(1, 51):
            assert await state.following(user) == await memory.following(user), user
            assert await state.blocked(user) == await memory.blocked(user), user
            assert await state.muted(user) == await memory.muted(user), user
            assert await state.muted_keywords(user) == await memory.muted_keywords(user), user
            assert await state.action_sequence(user) == await memory.action_sequence(user), user
        ids = [p.post_id for p in s.posts]
        assert await state.posts(ids) == await memory.posts(ids)
        assert await state.engagement_counts(ids) == await memory.engagement_counts(ids)
        authors = sorted({p.author_id for p in s.posts})
        assert await state.author_stats(authors) == await memory.author_stats(authors)
    finally:
        await state.close()


def test_user_state_counts_every_malformed_message_applies_each_event_once_and_replays_change_nothing(
        produced: Produced) -> None:
    s = produced.stream
    malformed, new, errors = _run_ingest(produced)
    assert malformed == s.total_malformed
    assert errors == 0
    assert new == len(s.valid), "every valid event applied once although delivered twice"
    asyncio.run(_assert_matches_reference(produced.redis.url, s))
    # replay from the beginning over the same Redis: nothing new, state unchanged
    malformed_again, new_again, _ = _run_ingest(produced)
    assert (malformed_again, new_again) == (s.total_malformed, 0)
    asyncio.run(_assert_matches_reference(produced.redis.url, s))


# -- retrieval live index -----------------------------------------------------------------------------


def _consume_into(live: LiveIndex, p: Produced) -> tuple[int, int]:
    consumer = live.consumer(p.topics.posts, bootstrap=p.bootstrap).start()
    try:
        total = len(p.stream.raw["posts"])
        wait_until(lambda: consumer.consumed >= total or not consumer.running, CATCH_UP_S,
                   f"retrieval index to read {total} messages")
        assert consumer.running, "the retrieval index consumer died"
        return consumer.malformed, consumer.handler_errors
    finally:
        consumer.stop()


def test_retrieval_index_counts_every_malformed_message_applies_each_event_once_and_replays_change_nothing(
        produced: Produced) -> None:
    s = produced.stream
    model = fresh_retrieval_model()
    live = LiveIndex(model, "fuzz", IndexConfig(dim=model.cfg.dim))
    malformed, errors = _consume_into(live, produced)
    assert (malformed, errors) == (s.malformed["posts"], 0)
    assert len(live) == len(s.live_post_ids)
    assert all(pid in live for pid in s.live_post_ids) and not any(pid in live for pid in s.deleted)
    # each post added at most once (a create and its delete in one batch never reach the index)
    assert live.created <= len(s.posts) and live.created - live.deleted == len(live)
    counts = (live.created, live.deleted)
    # the same index re-reads the topic from the beginning: no post added or removed
    malformed_again, _ = _consume_into(live, produced)
    assert malformed_again == s.malformed["posts"]
    assert (live.created, live.deleted) == counts and len(live) == len(s.live_post_ids)
