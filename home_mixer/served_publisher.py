"""``KafkaServedPublisher``: the ``served`` topic producer, keyed by viewer for per-user order."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from kafka import KafkaProducer
from kafka.producer.future import FutureRecordMetadata

from infra.kafka_io import make_producer
from infra.topics import key_for
from protos import events_pb2


class KafkaServedPublisher:
    """Implements :class:`home_mixer.deps.ServedPublisher`.

    kafka-python is blocking. ``send`` (serialising the ~120 KB event, appending it to the
    producer's batch and waking the producer's network thread: ~1.5 ms) runs on one dedicated
    thread, so events still enter the producer in publish order (per-viewer order) without
    holding up the event loop; waiting for the broker's ack happens in a worker thread.
    """

    def __init__(self, producer: KafkaProducer, topic: str = "served", ack_timeout_s: float = 10.0) -> None:
        self._producer = producer
        self.topic = topic
        self.ack_timeout_s = ack_timeout_s
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="served-publisher")

    @classmethod
    def connect(cls, bootstrap: str | None = None, topic: str = "served") -> KafkaServedPublisher:
        return cls(make_producer(bootstrap), topic)

    async def publish(self, feed: events_pb2.ServedFeed) -> None:
        future = await asyncio.get_running_loop().run_in_executor(self._sender, self._send, feed)
        await asyncio.to_thread(future.get, self.ack_timeout_s)

    def _send(self, feed: events_pb2.ServedFeed) -> FutureRecordMetadata:
        return self._producer.send(self.topic, key=key_for(feed.viewer_id), value=feed.SerializeToString())

    def close(self) -> None:
        self._sender.shutdown(wait=True)
        self._producer.flush(timeout=5)
        self._producer.close(timeout=5)
