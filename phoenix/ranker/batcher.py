"""Micro-batching of concurrent scoring requests onto one model call.

Requests that arrive while the model is busy (or within ``max_wait_ms`` of each other) are scored
together: their user/history prefixes run as one batch, which amortises per-call overhead and
fills wide hardware (a GPU) better than one user at a time. ``max_wait_ms`` defaults to 0: an idle
model starts on a request at once (waiting only delays a lone request), and whatever queued up
while it computed forms the next batch. The model runs in a single worker
thread, so the asyncio loop keeps accepting calls, and at most one batch computes at a time.
Overload protection: when more than ``max_queued_candidates`` candidates are waiting, new work is
refused with ``Overloaded`` (the server maps it to RESOURCE_EXHAUSTED) instead of queueing
unboundedly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from phoenix.ranker.engine import RankerEngine, ScoreRequest, ScoreResult


class Overloaded(RuntimeError):
    pass


@dataclass
class _Job:
    requests: Sequence[ScoreRequest]
    future: asyncio.Future
    size: int


class MicroBatcher:
    def __init__(
        self,
        engine_ref: Callable[[], RankerEngine],
        *,
        max_wait_ms: float = 0.0,
        max_batch_users: int = 16,
        max_queued_candidates: int = 50_000,
    ) -> None:
        self._engine_ref = engine_ref
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_batch_users = max_batch_users
        self.max_queued_candidates = max_queued_candidates
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._queued = 0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ranker-model")
        self._task: asyncio.Task | None = None
        self.batches = 0  # model calls made (tests/metrics)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._executor.shutdown(wait=True)

    async def submit(self, requests: Sequence[ScoreRequest]) -> tuple[list[ScoreResult], str]:
        """Score ``requests``; returns (results, model version that produced them)."""
        size = sum(len(r.candidates) for r in requests) + len(requests)
        if self._queued + size > self.max_queued_candidates:
            raise Overloaded(f"ranker overloaded: {self._queued} candidates already queued")
        self._queued += size
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(requests, future, size))
        try:
            return await future
        finally:
            self._queued -= size

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [await self._queue.get()]
            deadline = loop.time() + self.max_wait_s
            users = len(jobs[0].requests)
            while users < self.max_batch_users:
                timeout = deadline - loop.time()
                if timeout <= 0 and self._queue.empty():
                    break
                try:
                    job = (
                        await asyncio.wait_for(self._queue.get(), max(timeout, 0))
                        if timeout > 0
                        else self._queue.get_nowait()
                    )
                except (TimeoutError, asyncio.QueueEmpty):
                    break
                jobs.append(job)
                users += len(job.requests)
            engine = self._engine_ref()  # one model version for the whole batch
            flat = [r for j in jobs for r in j.requests]
            try:
                results = await loop.run_in_executor(self._executor, engine.score, flat)
                self.batches += 1
            except Exception as exc:  # noqa: BLE001 - delivered to every waiting caller
                for j in jobs:
                    if not j.future.done():
                        j.future.set_exception(exc)
                continue
            start = 0
            for j in jobs:
                n = len(j.requests)
                if not j.future.done():
                    j.future.set_result((results[start : start + n], engine.version))
                start += n
