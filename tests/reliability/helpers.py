"""Small shared helpers for the reliability tests: polling with a deadline and raw produce."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from infra.kafka_io import make_producer


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Poll ``predicate`` until true; fail with ``what`` after ``timeout_s`` (never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def produce_raw(bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]]) -> int:
    """Send (key, value) pairs as they are (malformed ones included); returns how many."""
    producer = make_producer(bootstrap)
    sent = 0
    try:
        for key, value in records:
            producer.send(topic, key=key, value=value)
            sent += 1
        producer.flush(30)
    finally:
        producer.close(5)
    return sent
