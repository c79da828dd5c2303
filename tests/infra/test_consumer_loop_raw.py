"""RawBatchConsumer against the real broker: whole polls of raw values reach the handler, the
malformed messages it reports (and null values) are counted and dead-lettered one by one, and a
handler that fails on a batch is retried message by message."""

from __future__ import annotations

import time

import pytest

from infra.consumer_loop import RawBatch, RawBatchConsumer
from infra.kafka_io import ensure_topics, make_consumer, make_producer

pytestmark = pytest.mark.integration


def _produce(bootstrap: str, topic: str, values: list[bytes | None]) -> None:
    producer = make_producer(bootstrap)
    for i, value in enumerate(values):
        producer.send(topic, key=str(i % 5).encode(), value=value)
    producer.flush(10)
    producer.close()


def _dead_letters(bootstrap: str, dlq: str, want: int) -> list:
    consumer = make_consumer([dlq], group_id=f"read-{dlq}", bootstrap=bootstrap)
    got: list = []
    deadline = time.monotonic() + 20
    while len(got) < want and time.monotonic() < deadline:
        for part in consumer.poll(timeout_ms=200).values():
            got.extend(part)
    consumer.close()
    return got


def test_batches_malformed_reports_and_null_values(kafka_bootstrap: str, unique_name: str) -> None:
    topic, dlq = f"raw-{unique_name}", f"raw-dlq-{unique_name}"
    ensure_topics([topic, dlq], partitions=3, bootstrap=kafka_bootstrap)
    values: list[bytes | None] = [f"ok{i}".encode() if i % 7 else b"bad" for i in range(300)] + [None, None]
    _produce(kafka_bootstrap, topic, values)
    applied: list[bytes] = []
    sizes: list[int] = []

    def handler(batch: RawBatch) -> list[tuple[int, str]]:
        sizes.append(len(batch.values))
        assert len(batch.partitions()) == len(batch.values) and set(batch.partitions().tolist()) <= {0, 1, 2}
        applied.extend(v for v in batch.values if v != b"bad")
        return [(i, "not ok") for i, v in enumerate(batch.values) if v == b"bad"]

    loop = RawBatchConsumer(name=f"raw-{unique_name}", topics=[topic], handler=handler, bootstrap=kafka_bootstrap,
                            dead_letter_topic=dlq).start()
    try:
        assert loop.wait_caught_up(20), "consumer never caught up"
    finally:
        loop.stop()
    assert sorted(applied) == sorted(f"ok{i}".encode() for i in range(300) if i % 7)
    assert loop.malformed == 43 + 2 and loop.applied == 300 - 43 and loop.consumed == 302
    assert max(sizes) > 1, "whole polls, not single messages"
    reasons = sorted({dict(r.headers)["reason"] for r in _dead_letters(kafka_bootstrap, dlq, 45)})
    assert reasons == [b"empty value", b"not ok"]


def test_a_failing_batch_is_retried_message_by_message(kafka_bootstrap: str, unique_name: str) -> None:
    topic = f"raw-fail-{unique_name}"
    ensure_topics([topic], partitions=1, bootstrap=kafka_bootstrap)
    _produce(kafka_bootstrap, topic, [b"a", b"boom", b"c", b"d"])
    applied: list[bytes] = []

    def handler(batch: RawBatch) -> list[tuple[int, str]]:
        if b"boom" in batch.values:
            raise RuntimeError("cannot apply boom")
        applied.extend(batch.values)
        return []

    loop = RawBatchConsumer(name=f"raw-fail-{unique_name}", topics=[topic], handler=handler,
                            bootstrap=kafka_bootstrap).start()
    try:
        assert loop.wait_caught_up(20)
    finally:
        loop.stop()
    assert applied == [b"a", b"c", b"d"]
    assert loop.handler_errors == 1 and loop.applied == 3 and loop.malformed == 0
