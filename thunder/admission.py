"""Admission control for GetInNetworkPosts: a concurrency cap ([Jan] ``Semaphore.try_acquire``)
and a token-bucket QPS limit ([Aug] ``governor``), both refusing at once instead of queueing,
so an overloaded Thunder sheds load with RESOURCE_EXHAUSTED and home-mixer degrades gracefully."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second, bursts up to ``burst`` (default: one second's worth)."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


class Admission:
    """``enter()`` returns None when admitted (call ``leave()`` after), else the refusal message."""

    def __init__(self, max_concurrent: int, qps_limit: float, clock: Callable[[], float] = time.monotonic) -> None:
        if max_concurrent <= 0:
            raise ValueError("max_concurrent must be positive")
        self.max_concurrent = max_concurrent
        self.bucket = TokenBucket(qps_limit, clock=clock)
        self.in_flight = 0
        self._lock = threading.Lock()

    def enter(self) -> str | None:
        with self._lock:
            if self.in_flight >= self.max_concurrent:
                return f"Server at capacity ({self.max_concurrent} concurrent requests)"
            if not self.bucket.try_take():
                return "QPS rate limit exceeded"
            self.in_flight += 1
            return None

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1
