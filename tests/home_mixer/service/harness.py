"""A small world and the whole serving stack around a REAL home-mixer for the service tests.

home-mixer runs with its production wiring (``start_home_mixer`` builds gRPC/Redis/Kafka
clients from ``ConnectionSettings``) against fake Thunder/retrieval/ranker gRPC servers, two
private redis-servers (user state; feed state, which a test may stop) and the session broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from home_mixer.feed_client import FeedClient
from home_mixer.server import HomeMixerServer, start_home_mixer
from home_mixer.settings import HomeMixerSettings
from infra.embedded import RedisServer
from infra.kafka_io import ensure_topics
from infra.settings import ConnectionSettings
from infra.snowflake import make_snowflake
from protos import events_pb2
from tests.home_mixer.service.fake_services import FakeRanker, FakeRetrieval, FakeServer, FakeThunder, serve
from user_state.redis_state import RedisUserState

HOUR_MS = 3_600_000
VIEWER = 1
FOLLOWED = (10, 11, 12)
BLOCKED, MUTED = 20, 21
OON_AUTHORS = (30, 31, 32, 33, BLOCKED, MUTED, VIEWER)


@dataclass
class World:
    now_ms: int
    posts: list[events_pb2.PostCreated] = field(default_factory=list)
    events: list = field(default_factory=list)

    def post(self, author: int, age_ms: int, text: str = "", **kw) -> events_pb2.PostCreated:
        pid = make_snowflake(self.now_ms - age_ms, len(self.posts) % 4096)
        p = events_pb2.PostCreated(post_id=pid, author_id=author, created_at=(self.now_ms - age_ms) // 1000,
                                   text=text or f"post {len(self.posts)} by {author}", conversation_id=pid, **kw)
        self.posts.append(p)
        self.events.append(events_pb2.PostEvent(event_id=f"p{pid}", created=p))
        return p

    def social(self, user: int, action: int, target: int = 0, keyword: str = "") -> None:
        self.events.append(events_pb2.SocialGraphEvent(
            event_id=uuid.uuid4().hex, user_id=user, action=action, target_user_id=target, keyword=keyword,
            timestamp_ms=self.now_ms))

    def post_of(self, author: int) -> events_pb2.PostCreated:
        return next(p for p in self.posts if p.author_id == author)


def make_world() -> World:
    w = World(now_ms=int(time.time() * 1000))
    for a in FOLLOWED:
        w.social(VIEWER, events_pb2.FOLLOW, a)
    w.social(VIEWER, events_pb2.BLOCK, BLOCKED)
    w.social(VIEWER, events_pb2.MUTE, MUTED)
    w.social(VIEWER, events_pb2.MUTE_KEYWORD, keyword="Spoiler")
    for k in range(6):
        for a in (*FOLLOWED, *OON_AUTHORS):
            w.post(a, (k + 1) * HOUR_MS + a * 1000)
    w.post(33, 30 * 60_000, text="huge SPOILER ahead")
    w.post(11, 50 * HOUR_MS, text="too old for the feed")
    return w


@dataclass
class Stack:
    world: World
    home_mixer: HomeMixerServer
    thunder: FakeServer
    retrieval: FakeServer
    ranker: FakeServer
    feed_redis: RedisServer
    served_topic: str
    client: FeedClient


@contextlib.asynccontextmanager
async def feed_stack(
    kafka_bootstrap: str, *, ranker: FakeRanker | None = None, deadline_s: float = 1.0,
    client_timeout_s: float | None = None,
) -> AsyncIterator[Stack]:
    world = make_world()
    user_redis = RedisServer().start()
    feed_redis = RedisServer().start()
    servers: list[FakeServer] = []
    home_mixer: HomeMixerServer | None = None
    client: FeedClient | None = None
    try:
        state = RedisUserState.from_url(user_redis.url)
        await state.apply(world.events)
        await state.close()
        in_network = set(FOLLOWED)
        servers = [
            await serve(FakeThunder(world.posts), "foryou.thunder.InNetworkPostsService"),
            await serve(FakeRetrieval(world.posts, in_network), "foryou.recsys.RecsysRetrievalPredictor"),
            await serve(ranker or FakeRanker(), "foryou.recsys.RecsysPredictor"),
        ]
        topic = f"served-{uuid.uuid4().hex[:8]}"
        await asyncio.to_thread(ensure_topics, [topic], bootstrap=kafka_bootstrap)
        connection = ConnectionSettings(
            kafka_bootstrap_servers=kafka_bootstrap, redis_url=user_redis.url, topic_served=topic,
            thunder_addr=servers[0].address, retrieval_addr=servers[1].address, ranker_addr=servers[2].address,
        )
        settings = HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0, feed_state_redis_url=feed_redis.url,
                                     request_deadline_s=deadline_s,
                                     client_timeout_s=client_timeout_s or deadline_s)
        home_mixer = await start_home_mixer(settings, connection)
        client = FeedClient(home_mixer.address, timeout_s=5.0)
        yield Stack(world, home_mixer, *servers, feed_redis, topic, client)
    finally:
        if client is not None:
            await client.close()
        if home_mixer is not None:
            await home_mixer.stop()
        for s in servers:
            await s.stop()
        user_redis.cleanup()
        feed_redis.cleanup()
