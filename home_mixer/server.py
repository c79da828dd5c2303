"""A running home-mixer: real dependency clients built from settings, the pipeline, gRPC.

``build_clients`` is the one place that turns addresses into clients (Thunder, retrieval and
ranker over gRPC, user state and feed state in Redis, the ``served`` publisher on Kafka), so
tests and benches start the real wiring by pointing ``ConnectionSettings`` at their servers.
User state and feed state may live in different Redis instances (``HOME_MIXER_FEED_STATE_REDIS_URL``):
losing the feed-state Redis only drops seen/served filtering (flagged ``redis``), while the
user-state store holds the blocks and mutes that a feed must never be served without. In one
Redis (the default) the two share one client and one ``ReadBatch``: the query hydrators' reads of
the viewer's keys then go out as one round trip.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from home_mixer.deps import Deps
from home_mixer.feed_state_store import RedisFeedStateStore
from home_mixer.gc_tuning import tune_for_serving
from home_mixer.pipeline_factory import build_for_you_pipeline
from home_mixer.served_publisher import KafkaServedPublisher
from home_mixer.service import SERVICE_NAME, ForYouFeedService, ForYouPipeline
from home_mixer.settings import HomeMixerSettings
from home_mixer.user_state_reader import FeedUserStateReader
from infra.grpc_server import ServerHandle, start_server
from infra.settings import ConnectionSettings, connection_settings
from phoenix.ranker.client import RankerClient
from phoenix.retrieval.client import RetrievalClient
from thunder.client import ThunderClient
from user_state.batched_reads import ReadBatch

log = logging.getLogger(__name__)


@dataclass
class Clients:
    """The real clients behind ``Deps``, kept so they can be closed."""

    thunder: ThunderClient
    retrieval: RetrievalClient
    ranker: RankerClient
    user_state: FeedUserStateReader
    feed_state: RedisFeedStateStore
    publisher: KafkaServedPublisher

    def deps(self) -> Deps:
        return Deps(
            user_state=self.user_state, thunder=self.thunder, ranker=self.ranker, retrieval=self.retrieval,
            feed_state=self.feed_state, served_publisher=self.publisher,
        )

    async def close(self) -> None:
        for close in (self.thunder.close, self.retrieval.close, self.ranker.close, self.user_state.close,
                      self.feed_state.close):
            with contextlib.suppress(Exception):
                await close()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.publisher.close)


def build_clients(settings: HomeMixerSettings, connection: ConnectionSettings) -> Clients:
    """Clients for every dependency named in ``connection`` (Thunder may be ``a,b,c`` shards)."""
    if not connection.redis_url and not settings.feed_state_redis_url:
        raise ValueError("home-mixer needs REDIS_URL (user state) to be set")
    timeout = settings.client_timeout_s
    user_state_url = connection.redis_url or settings.feed_state_redis_url or ""
    feed_state_url = settings.feed_state_redis_url or connection.redis_url or ""
    if user_state_url == feed_state_url:  # one Redis: one client, and the viewer's reads in one round trip
        batch = ReadBatch(aioredis.Redis.from_url(user_state_url))
        user_state = FeedUserStateReader(batch.client, batch=batch)
        feed_state = RedisFeedStateStore(batch.client, batch=batch)
    else:
        user_state = FeedUserStateReader.from_url(user_state_url)
        feed_state = RedisFeedStateStore.from_url(feed_state_url)
    return Clients(
        thunder=ThunderClient([a.strip() for a in connection.thunder_addr.split(",") if a.strip()], timeout),
        retrieval=RetrievalClient(connection.retrieval_addr, timeout),
        ranker=RankerClient(connection.ranker_addr, timeout),
        user_state=user_state,
        feed_state=feed_state,
        publisher=KafkaServedPublisher(
            _producer(connection), topic=connection.topic_served
        ),
    )


SERVED_EVENT_MAX_BYTES = 16 * 1024 * 1024
"""A served event carries the selected and up to 500 other candidates with their action
probabilities (~120 KB with the probabilities as one matrix, ~290-360 KB in the older
per-candidate maps; more with a larger ``max_non_selected``): allow it, and compress it with
zstd, which every consumer here reads (``zstandard`` is a dependency): kafka-python's gzip
(level 9) took ~19 ms of CPU per event, zstd ~1 ms for a smaller batch, which also shortens the
producer's CRC-32C pass over it."""


def _producer(connection: ConnectionSettings):  # noqa: ANN202 - kafka.KafkaProducer
    from infra.kafka_io import make_producer

    return make_producer(connection.kafka_bootstrap_servers, connection, max_request_size=SERVED_EVENT_MAX_BYTES,
                         compression_type="zstd")


@dataclass
class HomeMixerServer:
    handle: ServerHandle
    service: ForYouFeedService
    pipeline: ForYouPipeline
    clients: Clients | None = None
    _closed: bool = field(default=False, init=False)

    @property
    def port(self) -> int:
        return self.handle.port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.handle.port}"

    async def stop(self, grace_s: float = 1.0) -> None:
        """Stop serving, let side effects finish (served history, the served event), close clients."""
        if self._closed:
            return
        self._closed = True
        await self.handle.stop(grace_s)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pipeline.drain_side_effects(), timeout=5.0)
        if self.clients is not None:
            await self.clients.close()


async def start_home_mixer(
    settings: HomeMixerSettings | None = None,
    connection: ConnectionSettings | None = None,
    *,
    deps: Deps | None = None,
) -> HomeMixerServer:
    """Build the pipeline (real clients unless ``deps`` is given) and serve it; SERVING at once,
    because a missing dependency degrades the feed rather than making it unavailable."""
    settings = settings or HomeMixerSettings()
    connection = connection or connection_settings()
    clients = None
    if deps is None:
        clients = build_clients(settings, connection)
        deps = clients.deps()
    try:
        pipeline: ForYouPipeline = build_for_you_pipeline(deps, settings.config_path)
        service = ForYouFeedService(pipeline, settings)
        handle = await start_server(
            register=service.register,
            service_names=[SERVICE_NAME],
            address=f"{settings.host}:{settings.port}",
            max_concurrent_rpcs=settings.max_concurrent_rpcs,
            settings=connection,
            ready=True,
        )
    except BaseException:
        if clients is not None:
            await clients.close()
        raise
    if settings.tune_gc:
        tune_for_serving()
    return HomeMixerServer(handle, service, pipeline, clients)
