"""kafka-python clients configured for this project, with the tansu quirks handled.

* Producers disable idempotence: after a broker restart the idempotent producer cannot send
  again, a plain one reconnects at once. ``acks='all'`` plus retries keeps delivery safe; every
  consumer is idempotent by event id, so a retried duplicate changes nothing.
* Consumers use short group session timeouts (a new group's first join waits session_timeout/2).
* Lag uses ``consumer.highwater()`` after a fetch: ``end_offsets()`` is wrong on tansu.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from infra.settings import ConnectionSettings, connection_settings
from infra.topics import DEFAULT_PARTITIONS

log = logging.getLogger(__name__)

GROUP_SESSION_TIMEOUT_MS = 6000
GROUP_HEARTBEAT_MS = 500


def _bootstrap(settings: ConnectionSettings, bootstrap: str | None) -> str:
    servers = bootstrap or settings.kafka_bootstrap_servers
    if not servers:
        raise ValueError("no Kafka bootstrap servers: set KAFKA_BOOTSTRAP_SERVERS or start the embedded services")
    return servers


def make_producer(bootstrap: str | None = None, settings: ConnectionSettings | None = None, **overrides: object) -> KafkaProducer:
    """A batching producer (bytes keys and values) that survives broker restarts."""
    settings = settings or connection_settings()
    kwargs: dict[str, object] = dict(
        bootstrap_servers=_bootstrap(settings, bootstrap),
        acks="all",
        retries=10,
        enable_idempotence=False,
        linger_ms=5,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=1,  # keeps per-key order across retries
        reconnect_backoff_max_ms=1000,
        request_timeout_ms=15000,
        **settings.kafka_client_kwargs(),
    )
    kwargs.update(overrides)
    return KafkaProducer(**kwargs)


def make_consumer(
    topics: Iterable[str] | None = None,
    *,
    group_id: str | None = None,
    bootstrap: str | None = None,
    settings: ConnectionSettings | None = None,
    **overrides: object,
) -> KafkaConsumer:
    """A consumer reading raw bytes from the earliest offset; commits are manual by default."""
    settings = settings or connection_settings()
    kwargs: dict[str, object] = dict(
        bootstrap_servers=_bootstrap(settings, bootstrap),
        group_id=group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=GROUP_SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=GROUP_HEARTBEAT_MS,
        max_poll_records=2000,
        fetch_max_wait_ms=100,
        reconnect_backoff_max_ms=1000,
        request_timeout_ms=30000,
        **settings.kafka_client_kwargs(),
    )
    kwargs.update(overrides)
    consumer = KafkaConsumer(**kwargs)
    if topics:
        consumer.subscribe(list(topics))
    return consumer


def ensure_topics(
    topics: Iterable[str],
    *,
    partitions: int = DEFAULT_PARTITIONS,
    bootstrap: str | None = None,
    settings: ConnectionSettings | None = None,
    timeout_s: float = 20.0,
) -> None:
    """Create the topics that do not exist yet (idempotent; retried while the broker starts)."""
    settings = settings or connection_settings()
    wanted = list(dict.fromkeys(topics))
    deadline = time.monotonic() + timeout_s
    while True:
        admin = None
        try:
            admin = KafkaAdminClient(bootstrap_servers=_bootstrap(settings, bootstrap), **settings.kafka_client_kwargs())
            existing = set(admin.list_topics())
            missing = [t for t in wanted if t not in existing]
            if missing:
                try:
                    admin.create_topics([NewTopic(t, partitions, 1) for t in missing])
                except TopicAlreadyExistsError:
                    pass
            return
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("ensure_topics retrying after %s", exc)
            time.sleep(0.2)
        finally:
            if admin is not None:
                admin.close()
