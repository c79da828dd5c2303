"""Configurable fake stages and data types shared by the candidate_pipeline tests.

Every fake can record its start/end time (to prove overlap or ordering from timestamps,
not wall time), wait on a barrier (to prove concurrency deterministically: sequential
execution would never release it), sleep, raise, or be disabled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from candidate_pipeline import BaseStage, FilterResult, SideEffectInput


@dataclass
class Query:
    request_id: str = "req-1"
    user_id: int = 7
    a: Any = None
    b: Any = None
    c: Any = None


@dataclass
class Cand:
    id: int
    score: float | None = None
    x: Any = None
    y: Any = None


def cands(*ids: int) -> list[Cand]:
    return [Cand(i) for i in ids]


def ids(items: Sequence[Any]) -> list[int]:
    return [c.id for c in items]


@dataclass
class Clock:
    """Start/end timestamps per stage name."""

    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    _starts: dict[str, float] = field(default_factory=dict)

    def start(self, name: str) -> None:
        self._starts[name] = time.perf_counter()

    def end(self, name: str) -> None:
        self.spans[name] = (self._starts[name], time.perf_counter())

    def all_overlap(self, names: Sequence[str]) -> bool:
        """True when one instant lies inside every span: the latest start precedes the earliest end."""
        return max(self.spans[n][0] for n in names) < min(self.spans[n][1] for n in names)

    def strictly_after(self, later: str, earlier: str) -> bool:
        return self.spans[later][0] >= self.spans[earlier][1]


class Fake(BaseStage):
    """Common behaviour knobs; subclasses add the kind's work method."""

    def __init__(
        self,
        name: str,
        *,
        delay: float = 0.0,
        error: BaseException | None = None,
        timeout_s: float | None = None,
        enabled: bool | Callable[[Any], bool] = True,
        clock: Clock | None = None,
        barrier: asyncio.Barrier | None = None,
    ) -> None:
        self.name = name
        self.delay = delay
        self.error = error
        self.timeout_s = timeout_s
        self._enabled = enabled
        self.clock = clock
        self.barrier = barrier
        self.calls = 0
        self.seen: list[list[Any]] = []

    def enable(self, query: Any) -> bool:
        return self._enabled(query) if callable(self._enabled) else self._enabled

    async def _work(self) -> None:
        self.calls += 1
        if self.clock:
            self.clock.start(self.name)
        try:
            if self.barrier is not None:
                await self.barrier.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.error is not None:
                raise self.error
        finally:
            if self.clock:
                self.clock.end(self.name)


class FakeQueryHydrator(Fake):
    def __init__(self, name: str, fields: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]], **kw: Any):
        super().__init__(name, **kw)
        self.fields = fields

    async def hydrate(self, query: Any) -> Mapping[str, Any]:
        await self._work()
        return self.fields(query) if callable(self.fields) else dict(self.fields)


class FakeSource(Fake):
    def __init__(self, name: str, ids: Sequence[int], **kw: Any):
        super().__init__(name, **kw)
        self.ids = list(ids)

    async def get_candidates(self, query: Any) -> list[Cand]:
        await self._work()
        return cands(*self.ids)


Batch = Callable[[Any, Sequence[Any]], Sequence[Any]]


class FakeHydrator(Fake):
    def __init__(self, name: str, fn: Batch, **kw: Any):
        super().__init__(name, **kw)
        self.fn = fn

    async def hydrate(self, query: Any, candidates: Sequence[Any]) -> Sequence[Any]:
        self.seen.append(list(candidates))
        await self._work()
        return self.fn(query, candidates)


class FakeScorer(FakeHydrator):
    async def score(self, query: Any, candidates: Sequence[Any]) -> Sequence[Any]:
        return await self.hydrate(query, candidates)


class FakeFilter(Fake):
    """Sync filter (like X [Aug]) keeping candidates for which ``keep`` is true."""

    def __init__(self, name: str, keep: Callable[[Any], bool], reason: str | None = None, **kw: Any):
        super().__init__(name, **kw)
        self.keep = keep
        self.reason = reason

    def _split(self, candidates: list[Any]) -> FilterResult[Any]:
        self.seen.append(list(candidates))
        kept = [c for c in candidates if self.keep(c)]
        removed = [c for c in candidates if not self.keep(c)]
        reasons = [self.reason] * len(removed) if self.reason else None
        return FilterResult(kept, removed, reasons=reasons)

    def filter(self, query: Any, candidates: list[Any]) -> FilterResult[Any]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self._split(candidates)


class AsyncFakeFilter(FakeFilter):
    async def filter(self, query: Any, candidates: list[Any]) -> FilterResult[Any]:  # type: ignore[override]
        await self._work()
        return self._split(candidates)


class FakeSideEffect(Fake):
    def __init__(self, name: str, **kw: Any):
        super().__init__(name, **kw)
        self.done = asyncio.Event()
        self.inputs: list[SideEffectInput[Any, Any]] = []

    async def run(self, inp: SideEffectInput[Any, Any]) -> None:
        self.inputs.append(inp)
        await self._work()
        self.done.set()


def set_each(**fields: Any) -> Batch:
    """Batch fn giving every candidate the same field values."""
    return lambda q, cs: [dict(fields) for _ in cs]


def by_candidate(fn: Callable[[Any], Any]) -> Batch:
    """Batch fn mapping each candidate through ``fn`` (returning a mapping, None or an Exception)."""
    return lambda q, cs: [fn(c) for c in cs]
