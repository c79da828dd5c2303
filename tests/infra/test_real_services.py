"""Smoke integration against the real broker and Redis started by the session fixtures."""

from __future__ import annotations

import time

import pytest

from infra.consumer_loop import EventConsumer, Record
from infra.embedded import KafkaBroker, RedisServer
from infra.kafka_io import ensure_topics, make_consumer, make_producer
from infra.topics import key_for
from protos import events_pb2

pytestmark = pytest.mark.integration


def _post_event(i: int) -> events_pb2.PostEvent:
    return events_pb2.PostEvent(
        event_id=f"e{i}", created=events_pb2.PostCreated(post_id=1000 + i, author_id=i % 3, created_at=1, text=f"t{i}")
    )


def _poll_until(consumer, want: int, deadline_s: float = 20.0) -> list:
    got: list = []
    deadline = time.monotonic() + deadline_s
    while len(got) < want and time.monotonic() < deadline:
        for part in consumer.poll(timeout_ms=200).values():
            got.extend(part)
    return got


def test_protobuf_events_group_commit_and_resume(kafka_bootstrap: str, unique_name: str) -> None:
    topic, group = f"smoke-{unique_name}", f"g-{unique_name}"
    ensure_topics([topic], partitions=2, bootstrap=kafka_bootstrap)
    producer = make_producer(kafka_bootstrap)
    for i in range(10):
        ev = _post_event(i)
        producer.send(topic, key=key_for(ev.created.author_id), value=ev.SerializeToString())
    producer.flush(10)

    first = make_consumer([topic], group_id=group, bootstrap=kafka_bootstrap)
    got = _poll_until(first, 10)
    assert sorted(events_pb2.PostEvent.FromString(r.value).created.post_id for r in got) == list(range(1000, 1010))
    first.commit()
    first.close(autocommit=False)

    for i in range(10, 15):
        producer.send(topic, key=key_for(i % 3), value=_post_event(i).SerializeToString())
    producer.flush(10)
    producer.close()

    resumed = make_consumer([topic], group_id=group, bootstrap=kafka_bootstrap)
    got2 = _poll_until(resumed, 5)
    resumed.close(autocommit=False)
    ids = sorted(events_pb2.PostEvent.FromString(r.value).created.post_id for r in got2)
    assert ids == list(range(1010, 1015)), "resume must start at the committed offset"


def test_event_consumer_skips_malformed_and_catches_up(kafka_bootstrap: str, unique_name: str) -> None:
    topic, dlq = f"loop-{unique_name}", f"dlq-{unique_name}"
    ensure_topics([topic, dlq], partitions=3, bootstrap=kafka_bootstrap)
    producer = make_producer(kafka_bootstrap)
    for i in range(200):
        producer.send(topic, key=key_for(i), value=_post_event(i).SerializeToString())
        if i % 10 == 0:
            producer.send(topic, key=key_for(i), value=b"\xff\xff\xffnot-a-protobuf")
    producer.flush(10)
    producer.close()

    applied: list[int] = []

    def handler(batch: list[Record[events_pb2.PostEvent]]) -> None:
        applied.extend(r.message.created.post_id for r in batch)

    loop = EventConsumer(
        name=f"smoke-{unique_name}", topics=[topic], message_type=events_pb2.PostEvent, handler=handler,
        bootstrap=kafka_bootstrap, dead_letter_topic=dlq,
    ).start()
    try:
        assert loop.wait_caught_up(20), "consumer never caught up"
    finally:
        loop.stop()
    assert sorted(applied) == list(range(1000, 1200))
    assert loop.malformed == 20

    dlq_consumer = make_consumer([dlq], group_id=f"dlq-{unique_name}", bootstrap=kafka_bootstrap)
    assert len(_poll_until(dlq_consumer, 20)) == 20
    dlq_consumer.close()


def test_redis_round_trip(redis_client) -> None:
    redis_client.set("k", b"v")
    assert redis_client.get("k") == b"v"
    redis_client.rpush("l", 1, 2, 3)
    assert redis_client.lrange("l", 0, -1) == [b"1", b"2", b"3"]


def test_launcher_starts_and_stops_processes() -> None:
    broker, server = KafkaBroker().start(), RedisServer().start()
    try:
        assert broker.process and broker.process.poll() is None
        assert server.process and server.process.poll() is None
    finally:
        broker.stop()
        server.cleanup()
    assert broker.process.poll() is not None and server.process.poll() is not None
