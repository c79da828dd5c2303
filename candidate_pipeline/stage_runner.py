"""Running one stage call in isolation: enable check, timeout, error capture, timing.

This is where X's "a failing or slow stage is isolated" rule lives. Every stage kind's
runner goes through :meth:`RequestContext.call`, so a raise or a timeout anywhere becomes a
status on a :class:`StageCall` instead of an exception escaping ``execute()``. Only
cancellation of the request itself (``asyncio.CancelledError``) propagates.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from candidate_pipeline.stage import stage_name, stage_timeout
from candidate_pipeline.stats import StageKind, StageStats, StageStatus, record_stage_metrics

logger = logging.getLogger("candidate_pipeline")

StageT = TypeVar("StageT")


@dataclass(frozen=True)
class StageCall:
    """Outcome of one stage invocation; ``value`` is meaningful only when status is "ok"."""

    status: StageStatus
    enabled: bool = True
    value: Any = None
    error: BaseException | None = None
    latency_ms: float = 0.0


async def _resolve(invoke: Callable[[], object], timeout_s: float | None) -> object:
    """Call ``invoke`` and await its result, if awaitable, within ``timeout_s`` (sync or async stages).

    In the calling task under ``asyncio.timeout``: ``wait_for`` wrapped every stage call in a
    task of its own (~45 per request), each costing a trip around the event loop, in which
    whatever else was ready (other services, side effects) ran before the stage even started.
    """
    result = invoke()
    if not inspect.isawaitable(result):
        return result
    async with asyncio.timeout(timeout_s):
        return await result


class RequestContext:
    """Per-request executor state: the query, timeouts and the stage records so far."""

    def __init__(self, pipeline: str, query: Any, default_timeout_s: float | None) -> None:
        self.pipeline = pipeline
        self.query = query
        self.default_timeout_s = default_timeout_s
        self.request_id: str | None = _request_id(query)
        self.stats: list[StageStats] = []

    def check_enabled(self, kind: StageKind, stage: object) -> StageCall | None:
        """None when the stage should run; otherwise the "disabled"/"error" call to record.

        A raising ``enable`` counts as an error of that stage, never of the request.
        """
        try:
            enabled = bool(stage.enable(self.query))  # type: ignore[attr-defined]
        except Exception as exc:
            self._log_failure(kind, stage, "enable() raised", exc)
            return StageCall(status="error", enabled=False, error=exc)
        return None if enabled else StageCall(status="disabled", enabled=False)

    async def call(self, kind: StageKind, stage: object, invoke: Callable[[], object]) -> StageCall:
        """Run ``invoke`` under the stage's timeout, converting failures into a status.

        Synchronous work inside ``invoke`` runs inline and cannot be interrupted; the
        timeout bounds the awaitable part, which is where I/O-bound stages spend their time.
        """
        timeout_s = stage_timeout(stage, self.default_timeout_s)
        start = time.perf_counter()
        try:
            value = await _resolve(invoke, timeout_s)
        except TimeoutError as exc:
            elapsed = _ms_since(start)
            logger.warning(
                "pipeline=%s request_id=%s stage_kind=%s stage=%s timed out after %.1f ms (timeout %s s)",
                self.pipeline,
                self.request_id,
                kind,
                stage_name(stage),
                elapsed,
                timeout_s,
            )
            return StageCall(status="timeout", error=exc, latency_ms=elapsed)
        except Exception as exc:
            self._log_failure(kind, stage, "raised", exc)
            return StageCall(status="error", error=exc, latency_ms=_ms_since(start))
        return StageCall(status="ok", value=value, latency_ms=_ms_since(start))

    async def run_one(self, kind: StageKind, stage: object, invoke: Callable[[], object]) -> StageCall:
        """Enable check followed by :meth:`call` (for sequential stages)."""
        skipped = self.check_enabled(kind, stage)
        return skipped if skipped is not None else await self.call(kind, stage, invoke)

    async def run_concurrently(
        self,
        kind: StageKind,
        stages: Sequence[StageT],
        make_invoke: Callable[[StageT], Callable[[], object]],
    ) -> list[tuple[StageT, StageCall]]:
        """Run all enabled stages at once; return (stage, call) in REGISTRATION order.

        Results come back in declared order regardless of completion order, which is what
        makes "merge in registration order" deterministic for the callers.
        """
        plans = [(stage, self.check_enabled(kind, stage)) for stage in stages]
        runnable = [stage for stage, skipped in plans if skipped is None]
        calls = iter(await asyncio.gather(*(self.call(kind, s, make_invoke(s)) for s in runnable)))
        return [(stage, skipped if skipped is not None else next(calls)) for stage, skipped in plans]

    def record(
        self,
        kind: StageKind,
        stage: object,
        call: StageCall,
        *,
        status: StageStatus | None = None,
        input_count: int = 0,
        kept_count: int = 0,
        removed_count: int = 0,
        error_count: int = 0,
    ) -> StageStats:
        """Turn a call into a :class:`StageStats`, keep it and export it to Prometheus.

        ``status`` overrides the call's status when the stage ran but its output was
        rejected (e.g. "length_mismatch"). Failed calls always count one error.
        """
        final = status or call.status
        if final == "error" and error_count == 0:
            error_count = 1
        stats = StageStats(
            stage_kind=kind,
            name=stage_name(stage),
            enabled=call.enabled,
            status=final,
            latency_ms=call.latency_ms,
            input_count=input_count,
            kept_count=kept_count,
            removed_count=removed_count,
            error_count=error_count,
        )
        self.stats.append(stats)
        record_stage_metrics(self.pipeline, stats)
        return stats

    def warn(self, kind: StageKind, stage: object, message: str, *args: object) -> None:
        """Log a stage-level problem with the request's identifying fields."""
        logger.warning(
            "pipeline=%s request_id=%s stage_kind=%s stage=%s " + message,
            self.pipeline,
            self.request_id,
            kind,
            stage_name(stage),
            *args,
        )

    def _log_failure(self, kind: StageKind, stage: object, what: str, exc: BaseException) -> None:
        logger.warning(
            "pipeline=%s request_id=%s stage_kind=%s stage=%s %s: %r",
            self.pipeline,
            self.request_id,
            kind,
            stage_name(stage),
            what,
            exc,
            exc_info=exc,
        )


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _request_id(query: Any) -> str | None:
    """Queries may carry ``request_id`` (X's ``HasRequestId``); it tags logs and the summary."""
    rid = getattr(query, "request_id", None)
    return None if rid is None else str(rid)
