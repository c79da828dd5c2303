"""A running Thunder: Kafka ingest -> PostStore -> gRPC, with X's startup and trim lifecycle.

Start order follows X's serving mode: the gRPC server comes up NOT_SERVING, the consumer
replays the ``posts`` topic from the beginning (a fresh group in X; manual assignment of every
partition here; in sharded mode only the shard's own partitions are served, see
:mod:`thunder.ingest`), and once it has caught up the store runs a full trim
(``finalize_init``) and health flips to SERVING. Then an auto-trim pass runs every
``trim_interval_s`` over one TRIM_FRACTION shard of the authors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infra.consumer_loop import RawBatchConsumer
from infra.grpc_server import ServerHandle, start_server
from infra.settings import ConnectionSettings, connection_settings
from thunder import metrics
from thunder.admission import Admission
from thunder.ingest import PostIngest
from thunder.post_store import LIST_NAMES, PostStore
from thunder.service import SERVICE_NAME, InNetworkPostsServicer
from thunder.settings import ThunderSettings

log = logging.getLogger(__name__)


@dataclass
class ThunderServer:
    store: PostStore
    consumer: RawBatchConsumer
    handle: ServerHandle
    settings: ThunderSettings
    instance: str
    serving: bool = False
    _tasks: list[asyncio.Task] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.handle.port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.handle.port}"

    async def wait_serving(self, timeout_s: float) -> bool:
        """True once caught up and SERVING (polls, so it never waits longer than needed)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.serving:
                return True
            await asyncio.sleep(0.02)
        return self.serving

    async def _lifecycle(self) -> None:
        while not self.consumer.caught_up.is_set():
            await asyncio.sleep(0.02)
        removed = await asyncio.to_thread(self.store.trim_all)
        log.info("%s: caught up with %d posts (%d trimmed, %d malformed skipped); SERVING",
                 self.instance, len(self.store), removed, self.consumer.malformed)
        await self.handle.set_serving(True)
        self.serving = True
        while True:
            await asyncio.sleep(self.settings.trim_interval_s)
            await asyncio.to_thread(self.store.trim)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.handle.stop(grace_s=1.0)
        await asyncio.to_thread(self.consumer.stop)


def _export_metrics(instance: str, store: PostStore, consumer: RawBatchConsumer) -> None:
    for name in LIST_NAMES:
        metrics.POSTS_STORED.labels(instance, name).set_function(lambda n=name: store.list_sizes()[n])
    metrics.POSTS_IN_STORE.labels(instance).set_function(lambda: len(store))
    metrics.TOMBSTONES.labels(instance).set_function(lambda: len(store.tombstones))
    metrics.MALFORMED.labels(instance).set_function(lambda: consumer.malformed)
    metrics.LAG.labels(instance).set_function(lambda: consumer.lag if consumer.lag is not None else -1)


async def start_thunder(
    settings: ThunderSettings | None = None,
    *,
    bootstrap: str | None = None,
    topic: str | None = None,
    connection: ConnectionSettings | None = None,
    clock: Callable[[], float] = time.time,
    instance: str = "thunder",
) -> ThunderServer:
    """Start gRPC (NOT_SERVING), the ingest consumer and the lifecycle task; returns at once."""
    settings = settings or ThunderSettings()
    connection = connection or connection_settings()
    topic = topic or connection.topic_posts
    store = PostStore(retention_s=settings.retention_s, clock=clock)
    consumer = RawBatchConsumer(
        name=f"thunder-{instance}",
        topics=[topic],
        handler=PostIngest(store, instance, None if settings.partitions is None else set(settings.partitions)),
        bootstrap=bootstrap or connection.kafka_bootstrap_servers,
        group_id=None,
        dead_letter_topic=connection.topic_dead_letter if settings.dead_letter else None,
        max_records=settings.poll_max_records,
    )
    servicer = InNetworkPostsServicer(store, Admission(settings.max_concurrent, settings.qps_limit), instance)
    handle = await start_server(
        register=servicer.register,
        service_names=[SERVICE_NAME],
        address=f"{settings.host}:{settings.port}",
        settings=connection,
    )
    _export_metrics(instance, store, consumer)
    consumer.start()
    server = ThunderServer(store, consumer, handle, settings, instance)
    server._tasks.append(asyncio.create_task(server._lifecycle(), name=f"{instance}-lifecycle"))
    return server
