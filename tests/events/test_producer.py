"""The producer against the real broker: every event arrives once, keyed by author / user."""

from __future__ import annotations

import itertools
import time

import pytest
from kafka import TopicPartition

from events.producer import partition_key, produce
from events.world import World, WorldConfig
from infra.kafka_io import make_consumer
from infra.topics import Topics
from protos import events_pb2

pytestmark = pytest.mark.integration


def _read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 20.0) -> list:
    consumer = make_consumer(None, bootstrap=bootstrap)
    try:
        deadline = time.monotonic() + timeout_s
        parts = None
        while not parts and time.monotonic() < deadline:
            parts = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def test_produce_world_keyed(kafka_bootstrap: str, unique_name: str) -> None:
    topics = Topics(posts=f"posts-{unique_name}", engagements=f"eng-{unique_name}",
                    social_graph=f"sg-{unique_name}", served=f"served-{unique_name}")
    events = list(itertools.islice(World.generate(WorldConfig.preset("tiny", n_users=60, days=1.0)).events(), 3000))
    stats = produce(events, bootstrap=kafka_bootstrap, topics=topics)
    assert stats.sent == 3000 and stats.events_per_s > 0
    want_eng = [m for t, m in events if t == "engagements"]
    got = _read_all(kafka_bootstrap, topics.engagements, len(want_eng))
    assert len(got) == len(want_eng)
    for r in got[:200]:
        msg = events_pb2.EngagementEvent.FromString(r.value)
        assert r.key == str(msg.user_id).encode()
    posts = [m for t, m in events if t == "posts"]
    got_posts = _read_all(kafka_bootstrap, topics.posts, len(posts))
    assert {events_pb2.PostEvent.FromString(r.value).event_id for r in got_posts} == {p.event_id for p in posts}
    assert all(r.key == str(events_pb2.PostEvent.FromString(r.value).created.author_id).encode() for r in got_posts)


def test_time_scaled_respects_event_time(kafka_bootstrap: str, unique_name: str) -> None:
    base = 1_800_000_000_000
    events = [("social_graph", events_pb2.SocialGraphEvent(event_id=f"g{i}", user_id=1, action=events_pb2.FOLLOW,
                                                           target_user_id=2 + i, timestamp_ms=base + i * 1000))
              for i in range(4)]
    topics = Topics(social_graph=f"sg-{unique_name}", posts=f"p-{unique_name}", engagements=f"e-{unique_name}",
                    served=f"s-{unique_name}")
    stats = produce(events, bootstrap=kafka_bootstrap, topics=topics, speed=10.0)  # 3 s of event time -> 0.3 s
    assert stats.seconds >= 0.3


def test_partition_key_rejects_unknown_topic() -> None:
    with pytest.raises(ValueError):
        partition_key("nope", events_pb2.ServedFeed())
