"""``KafkaServedPublisher``: the ``served`` topic producer, keyed by viewer for per-user order."""

from __future__ import annotations

import asyncio

from kafka import KafkaProducer

from infra.kafka_io import make_producer
from infra.topics import key_for
from protos import events_pb2


class KafkaServedPublisher:
    """Implements :class:`home_mixer.deps.ServedPublisher`.

    kafka-python is blocking; ``send`` only enqueues into the producer's batch, and waiting
    for the broker's ack happens in a worker thread so the event loop never blocks.
    """

    def __init__(self, producer: KafkaProducer, topic: str = "served", ack_timeout_s: float = 10.0) -> None:
        self._producer = producer
        self.topic = topic
        self.ack_timeout_s = ack_timeout_s

    @classmethod
    def connect(cls, bootstrap: str | None = None, topic: str = "served") -> KafkaServedPublisher:
        return cls(make_producer(bootstrap), topic)

    async def publish(self, feed: events_pb2.ServedFeed) -> None:
        future = self._producer.send(self.topic, key=key_for(feed.viewer_id), value=feed.SerializeToString())
        await asyncio.to_thread(future.get, self.ack_timeout_s)

    def close(self) -> None:
        self._producer.flush(timeout=5)
        self._producer.close(timeout=5)
