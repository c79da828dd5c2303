"""Side effects: work triggered by a served response that the user must not wait for.

Examples are writing served history to Redis, caching scored candidates and publishing to
the ``served`` topic. X ``tokio::spawn``s them after the response is built and ignores the
results; here they become asyncio tasks owned by a :class:`SideEffectTasks` set (so they are
not garbage-collected mid-flight) that ``drain()`` awaits at shutdown and in tests. Their
outcome cannot be part of the already-returned request stats, so it goes to Prometheus and
the log only.

On one event loop a task started with the result runs its synchronous part (building a
``served`` event, encoding the cache entry: ~20 ms for a 2,200-candidate feed) before the
caller gets to send its response, which tokio's worker threads never make X's response wait
for. A server therefore asks for :class:`DeferredSideEffects` and starts them once its
response is out (at the latest ``latest_start_s`` later, so they always run; ``drain()`` also
waits for ones not started yet).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, runtime_checkable

from candidate_pipeline.stage import CandidateT, QueryT, Stage, stage_name
from candidate_pipeline.stage_runner import RequestContext


@dataclass(frozen=True)
class SideEffectInput(Generic[QueryT, CandidateT]):
    """What a side effect sees: the hydrated query and the final selected/non-selected lists."""

    query: QueryT
    selected: list[CandidateT]
    non_selected: list[CandidateT]


@runtime_checkable
class SideEffect(Stage, Protocol[QueryT, CandidateT]):
    """Fire-and-forget work after a response; its failure never reaches the caller."""

    async def run(self, inp: SideEffectInput[QueryT, CandidateT]) -> None: ...


class SideEffectTasks:
    """Strong references to running side-effect tasks, plus a way to wait for them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Any, name: str) -> None:
        """Start ``coro`` as a task and keep it referenced until it finishes."""
        self.track(asyncio.create_task(coro, name=name))

    def track(self, future: asyncio.Future[None]) -> None:
        """Keep ``future`` (a task, or a placeholder for side effects not started yet) until done."""
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every side effect (including deferred ones, and ones started meanwhile) finished."""
        while self._tasks:
            await asyncio.gather(*tuple(self._tasks), return_exceptions=True)


def enabled_side_effects(
    ctx: RequestContext, side_effects: Sequence[SideEffect[Any, Any]]
) -> list[SideEffect[Any, Any]]:
    """Evaluate enable() now (recording disabled ones in the request stats); return the rest."""
    runnable = []
    for effect in side_effects:
        skipped = ctx.check_enabled("side_effect", effect)
        if skipped is None:
            runnable.append(effect)
        else:
            ctx.record("side_effect", effect, skipped)
    return runnable


async def _run_detached(
    ctx: RequestContext, effect: SideEffect[Any, Any], inp: SideEffectInput[Any, Any]
) -> None:
    """Run one side effect under its timeout; outcome goes to metrics/logs, never raises."""
    call = await ctx.call("side_effect", effect, partial(effect.run, inp))
    ctx.record("side_effect", effect, call, input_count=len(inp.selected))


def start_side_effects(
    ctx: RequestContext,
    side_effects: Sequence[SideEffect[Any, Any]],
    inp: SideEffectInput[Any, Any],
    tasks: SideEffectTasks,
) -> list[str]:
    """Spawn every given side effect as a detached task; return their names."""
    for effect in side_effects:
        tasks.spawn(_run_detached(ctx, effect, inp), name=f"side_effect:{ctx.pipeline}:{stage_name(effect)}")
    return [stage_name(effect) for effect in side_effects]


DEFAULT_LATEST_START_S = 1.0
"""Deferred side effects start by themselves this long after the result if nobody started them."""


class DeferredSideEffects:
    """One execution's side effects, started by :meth:`start` (idempotent) or after ``latest_start_s``."""

    def __init__(
        self,
        ctx: RequestContext,
        side_effects: Sequence[SideEffect[Any, Any]],
        inp: SideEffectInput[Any, Any],
        tasks: SideEffectTasks,
        latest_start_s: float = DEFAULT_LATEST_START_S,
    ) -> None:
        self._launch: Callable[[], list[str]] | None = partial(start_side_effects, ctx, side_effects, inp, tasks)
        loop = asyncio.get_running_loop()
        self._pending: asyncio.Future[None] = loop.create_future()
        tasks.track(self._pending)  # drain() waits for the start, then for the tasks it spawns
        self._timer = loop.call_later(latest_start_s, self.start)

    @property
    def started(self) -> bool:
        return self._pending.done()

    def start(self) -> None:
        """Spawn the side effects now (a no-op after the first call).

        Lets go of the request (query, candidates) once spawned: whoever holds this object (a
        gRPC context's done callbacks sit in a reference cycle) must not keep ~2,200
        candidates alive until the next garbage collection."""
        launch, self._launch = self._launch, None
        if launch is None:
            return
        self._timer.cancel()
        try:
            launch()
        finally:
            self._pending.set_result(None)
