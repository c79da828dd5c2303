"""The broker frozen with SIGSTOP for 10 s (a network stall), then resumed.

A private tansu broker is paused while Thunder (manual assignment, no commits) and the user-state
ingest (consumer groups, commits) are reading and a producer keeps sending: what was produced
before, during (buffered by the producer) and after the pause must all arrive, exactly once,
and Thunder keeps answering from memory while the broker is frozen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from infra.embedded import KafkaBroker, RedisServer
from infra.kafka_io import ensure_topics, make_producer
from infra.snowflake import make_snowflake
from infra.topics import Topics, key_for
from protos import events_pb2
from tests.reliability.helpers import wait_until
from thunder.client import ThunderClient
from thunder.server import start_thunder
from thunder.settings import ThunderSettings
from user_state.ingest import UserStateIngest
from user_state.memory import InMemoryUserState
from user_state.redis_state import RedisUserState

pytestmark = pytest.mark.integration

PAUSE_S = 10.0  # the fault being tested, not a wait for data
AUTHORS = list(range(500, 510))


@pytest.fixture
def broker() -> Iterator[KafkaBroker]:
    b = KafkaBroker().start()
    try:
        yield b
    finally:
        b.resume()
        b.stop()


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    r = RedisServer().start()
    try:
        yield r
    finally:
        r.cleanup()


def _phase(name: str, n: int, now_ms: int, offset: int) -> list[tuple[str, int, events_pb2.PostEvent | events_pb2.EngagementEvent]]:
    out: list = []
    for i in range(n):
        author = AUTHORS[i % len(AUTHORS)]
        ts = now_ms - 600_000 + offset + i
        pid = make_snowflake(ts, offset + i)
        post = events_pb2.PostCreated(post_id=pid, author_id=author, created_at=ts // 1000, conversation_id=pid)
        out.append(("posts", author, events_pb2.PostEvent(event_id=f"{name}{i}", created=post)))
        user = 1 + i % 7
        out.append(("engagements", user, events_pb2.EngagementEvent(
            event_id=f"{name}e{i}", user_id=user, post_id=pid, author_id=author, action=1, timestamp_ms=ts)))
    return out


def test_consumers_and_producer_recover_from_a_10s_broker_pause_without_losing_events(
        broker: KafkaBroker, redis: RedisServer) -> None:
    topics = Topics(posts="posts", engagements="engagements", social_graph="social_graph")
    ensure_topics([topics.posts, topics.engagements, topics.social_graph], partitions=2, bootstrap=broker.bootstrap)
    now_ms = int(time.time() * 1000)
    before, during, after = _phase("a", 40, now_ms, 0), _phase("b", 40, now_ms, 1000), _phase("c", 40, now_ms, 2000)
    every = before + during + after
    names = {"posts": topics.posts, "engagements": topics.engagements}

    async def scenario() -> None:
        thunder = await start_thunder(ThunderSettings(host="127.0.0.1", port=0, metrics_port=0),
                                      bootstrap=broker.bootstrap, topic=topics.posts, instance="pause")
        ingest = UserStateIngest(redis.url, bootstrap=broker.bootstrap, topics=topics, group_id="pause-test").start()
        producer = make_producer(broker.bootstrap)
        client = ThunderClient([thunder.address], timeout_s=5)
        try:
            def send(events: list) -> None:
                for topic, key, ev in events:
                    producer.send(names[topic], key=key_for(key), value=ev.SerializeToString())

            def posts_stored() -> int:
                return len(thunder.store)

            send(before)
            await asyncio.to_thread(producer.flush, 30)
            await asyncio.to_thread(wait_until, lambda: posts_stored() == len(before) // 2
                                    and ingest.new_events == len(before), 60, "the events sent before the pause")
            assert await thunder.wait_serving(30)

            broker.pause()
            paused_at = time.monotonic()
            send(during)  # buffered by the producer while the broker is frozen
            served = await client.get_in_network_posts(1, AUTHORS, max_results=500)
            assert len(served) == len(before) // 2, "Thunder answers from memory while the broker is frozen"
            await asyncio.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused_at)))
            broker.resume()

            send(after)
            await asyncio.to_thread(producer.flush, 60)
            await asyncio.to_thread(wait_until, lambda: posts_stored() == len(every) // 2
                                    and ingest.new_events == len(every), 90, "every event after the pause")
            assert all(c.running for c in ingest.consumers) and thunder.consumer.running
            assert thunder.consumer.handler.inserted == len(every) // 2  # type: ignore[attr-defined]
            served = await client.get_in_network_posts(1, AUTHORS, max_results=500)
            assert {p.post_id for p in served} == {ev.created.post_id for t, _, ev in every if t == "posts"}
        finally:
            await client.close()
            producer.close(5)
            await asyncio.to_thread(ingest.stop)
            await thunder.stop()

        memory = InMemoryUserState()
        memory.apply_sync(ev for _, _, ev in every)
        state = RedisUserState.from_url(redis.url)
        try:
            for user in range(1, 8):
                assert await state.action_sequence(user) == await memory.action_sequence(user)
        finally:
            await state.close()

    asyncio.run(scenario())
