"""Streams events into Kafka, keyed as DESIGN.md §3 says, as fast as possible or time-scaled.

Re-running a producer re-sends the same events with the same event ids; every consumer is
idempotent by event id, so a re-run (or a crash and retry halfway) changes nothing downstream.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from google.protobuf.message import Message

from events.log import event_time_ms
from infra.kafka_io import ensure_topics, make_producer
from infra.settings import connection_settings
from infra.topics import Topics, key_for


def partition_key(topic: str, message: Message) -> bytes:
    """posts by author, engagements / social_graph by acting user, served by viewer."""
    if topic == "posts":
        kind = message.WhichOneof("event")
        author = message.created.author_id if kind == "created" else message.deleted.author_id
        return key_for(author)
    if topic == "served":
        return key_for(message.viewer_id)
    if topic in ("engagements", "social_graph"):
        return key_for(message.user_id)
    raise ValueError(f"unknown topic {topic!r}")


@dataclass
class ProduceStats:
    sent: int = 0
    seconds: float = 0.0
    per_topic: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_s(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


def produce(
    events: Iterable[tuple[str, Message]],
    *,
    bootstrap: str | None = None,
    topics: Topics | None = None,
    speed: float | None = None,
    limit: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    create_topics: bool = True,
) -> ProduceStats:
    """Send ``(topic, message)`` pairs; ``speed`` None = as fast as possible, else event time runs
    ``speed`` times faster than real time (1.0 = real time). ``topics`` maps the logical topic
    names to the deployment's names."""
    if speed is not None and speed <= 0:
        raise ValueError("speed must be positive (or None for as fast as possible)")
    topics = topics or connection_settings().topics()
    names = {"posts": topics.posts, "engagements": topics.engagements, "social_graph": topics.social_graph,
             "served": topics.served}
    if create_topics:
        ensure_topics(names.values(), bootstrap=bootstrap)
    producer = make_producer(bootstrap)
    stats = ProduceStats()
    start = time.perf_counter()
    first_event_ms: int | None = None
    try:
        for topic, message in events:
            if limit is not None and stats.sent >= limit:
                break
            if topic not in names:
                raise ValueError(f"unknown topic {topic!r}")
            if speed is not None:
                at = event_time_ms(topic, message)
                if first_event_ms is None:
                    first_event_ms = at
                wait = (at - first_event_ms) / 1000.0 / speed - (time.perf_counter() - start)
                if wait > 0:
                    producer.flush()
                    time.sleep(wait)
            producer.send(names[topic], key=partition_key(topic, message), value=message.SerializeToString())
            stats.sent += 1
            stats.per_topic[topic] = stats.per_topic.get(topic, 0) + 1
            if on_progress is not None and stats.sent % 1000 == 0:
                on_progress(1000)
        producer.flush()
    finally:
        producer.close(timeout=10)
    stats.seconds = time.perf_counter() - start
    return stats
