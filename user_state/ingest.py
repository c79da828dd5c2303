"""The user-state ingest: Kafka (engagements, social_graph, posts) -> Redis.

One ``infra.consumer_loop.EventConsumer`` per topic (each topic has its own value type) feeds a
shared ``RedisUserState`` whose coroutines run on one private asyncio loop thread. The consumer
loop gives the guarantees (malformed messages counted and skipped, commit after apply, caught-up
signal); ``RedisUserState.apply`` gives exactly-once application by event id, so replays and
duplicate deliveries change nothing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from google.protobuf.message import Message
from prometheus_client import Counter

from infra.consumer_loop import EventConsumer, Record
from infra.settings import connection_settings
from infra.topics import Topics
from protos import events_pb2
from user_state.events import validate_engagement, validate_post, validate_social
from user_state.redis_state import RedisUserState
from user_state.settings import UserStateSettings

APPLIED = Counter("foryou_user_state_applied_total", "Events applied to user state (new event ids)", ["topic"])
DUPLICATES = Counter("foryou_user_state_duplicates_total", "Events skipped as already applied", ["topic"])


class UserStateIngest:
    def __init__(self, redis_url: str | None = None, *, bootstrap: str | None = None, topics: Topics | None = None,
                 group_id: str | None = "user-state", settings: UserStateSettings | None = None,
                 max_records: int = 2000) -> None:
        conn = connection_settings()
        self.redis_url = redis_url or conn.redis_url
        if not self.redis_url:
            raise ValueError("no Redis: set REDIS_URL or start the embedded services")
        self.topics = topics or conn.topics()
        self.settings = settings or UserStateSettings()
        self._loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self._loop.run_forever, name="user-state-redis", daemon=True)
        self.state: RedisUserState | None = None
        self.new_events = 0
        specs = [
            (self.topics.engagements, events_pb2.EngagementEvent, validate_engagement),
            (self.topics.social_graph, events_pb2.SocialGraphEvent, validate_social),
            (self.topics.posts, events_pb2.PostEvent, validate_post),
        ]
        self.consumers: list[EventConsumer] = [
            EventConsumer(name=f"user-state-{topic}", topics=[topic], message_type=mtype, handler=self._handle,
                          bootstrap=bootstrap, group_id=f"{group_id}-{topic}" if group_id else None,
                          validator=validator, max_records=max_records)
            for topic, mtype, validator in specs
        ]
        self._lock = threading.Lock()

    def start(self) -> UserStateIngest:
        self._loop_thread.start()
        self.state = asyncio.run_coroutine_threadsafe(self._make_state(), self._loop).result(10)
        for consumer in self.consumers:
            consumer.start()
        return self

    async def _make_state(self) -> RedisUserState:
        return RedisUserState.from_url(self.redis_url, self.settings)

    def _handle(self, records: Sequence[Record[Message]]) -> None:
        assert self.state is not None, "start() the ingest first"
        new = asyncio.run_coroutine_threadsafe(self.state.apply([r.message for r in records]), self._loop).result(60)
        topic = records[0].topic
        APPLIED.labels(topic).inc(new)
        DUPLICATES.labels(topic).inc(len(records) - new)
        with self._lock:
            self.new_events += new

    # -- progress ----------------------------------------------------------------------------
    @property
    def processed(self) -> int:
        """Messages fully handled (applied, deduplicated, malformed or failed)."""
        return sum(c.applied + c.malformed + c.handler_errors for c in self.consumers)

    @property
    def malformed(self) -> int:
        return sum(c.malformed for c in self.consumers)

    def wait_caught_up(self, timeout_s: float) -> bool:
        return all(c.wait_caught_up(timeout_s) for c in self.consumers)

    def stop(self) -> None:
        for consumer in self.consumers:
            consumer.stop()
        if self.state is not None:
            asyncio.run_coroutine_threadsafe(self.state.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._loop_thread.join(5)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> UserStateIngest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
