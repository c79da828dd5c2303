"""The `served` event side effect publishing through the real broker."""

from __future__ import annotations

import asyncio
import time

import pytest
from kafka import TopicPartition

from candidate_pipeline import SideEffectInput
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.served_publisher import KafkaServedPublisher
from home_mixer.server import _producer
from home_mixer.side_effects.served_event import ServedEventSideEffect, candidate_probabilities
from infra.kafka_io import ensure_topics, make_consumer
from infra.settings import ConnectionSettings
from protos import events_pb2

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("producer", ["plain", "home-mixer"])  # home-mixer's own: zstd, large events
def test_served_event_reaches_the_topic(kafka_bootstrap: str, unique_name: str, producer: str) -> None:
    topic = f"served_{unique_name}_{producer}"
    ensure_topics([topic], partitions=1, bootstrap=kafka_bootstrap)
    if producer == "plain":
        publisher = KafkaServedPublisher.connect(kafka_bootstrap, topic)
    else:
        publisher = KafkaServedPublisher(_producer(ConnectionSettings(kafka_bootstrap_servers=kafka_bootstrap)), topic)
    try:
        query = FeedQuery(viewer_id=77, request_id="req-9", now_ms=123, degraded=["ranker"])
        selected = [PostCandidate(1, 2, score=0.5, weighted_score=0.5, phoenix_scores={"favorite": 0.3}, in_network=True)]
        non_selected = [PostCandidate(3, 4, score=None)]
        asyncio.run(ServedEventSideEffect(publisher).run(SideEffectInput(query, selected, non_selected)))
    finally:
        publisher.close()
    consumer = make_consumer(bootstrap=kafka_bootstrap)
    try:
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        got: list[events_pb2.ServedFeed] = []
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                got.extend(events_pb2.ServedFeed.FromString(r.value) for r in records)
    finally:
        consumer.close()
    assert len(got) == 1
    feed = got[0]
    assert feed.viewer_id == 77 and feed.request_id == "req-9" and list(feed.degraded) == ["ranker"]
    first, second = feed.candidates
    assert first.selected and first.position == 0 and candidate_probabilities(feed)[0]["favorite"] == pytest.approx(0.3)
    assert not second.selected and second.position == -1 and second.score != second.score  # NaN = unscored
