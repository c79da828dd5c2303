"""Session fixtures: a real tansu Kafka broker and a real redis-server on free loopback ports.

Started once per test session (or taken from KAFKA_BOOTSTRAP_SERVERS / REDIS_URL) and always
stopped. Tests that need isolation use unique topic names and key prefixes, or their own
short-lived instances (``infra.embedded.KafkaBroker`` / ``RedisServer``) when they kill or pause them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from infra.embedded import EmbeddedServices


@pytest.fixture(scope="session")
def services() -> Iterator[EmbeddedServices]:
    svc = EmbeddedServices.start()
    old = {k: os.environ.get(k) for k in ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")}
    os.environ.update(svc.env())
    try:
        yield svc
    finally:
        svc.stop()
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def kafka_bootstrap(services: EmbeddedServices) -> str:
    return services.kafka_bootstrap


@pytest.fixture(scope="session")
def redis_url(services: EmbeddedServices) -> str:
    return services.redis_url


@pytest.fixture
def redis_client(redis_url: str):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def unique_name() -> str:
    """A fresh suffix for topic names / groups so tests never see each other's data."""
    return uuid.uuid4().hex[:10]
