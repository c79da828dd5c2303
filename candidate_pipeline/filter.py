"""Filters: drop candidates that must not be served (duplicates, too old, blocked authors, ...).

Filters run SEQUENTIALLY in declared order (later filters see only survivors) and every
removed candidate is recorded with the filter's name, so "why is post P missing?" has an
answer. A filter that raises, times out or returns an inconsistent split is skipped and its
input passes through unchanged (X [Jan] restored candidates from a backup clone); it gets a
copy of the list so a filter that mutated it before failing cannot corrupt the request.
The same runner serves post-selection filters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, Protocol, runtime_checkable

from candidate_pipeline.stage import CandidateT, QueryT_contra, Stage, stage_name
from candidate_pipeline.stage_runner import RequestContext, StageCall
from candidate_pipeline.stats import StageKind


@dataclass
class FilterResult(Generic[CandidateT]):
    """A filter's split of its input: ``kept`` + ``removed`` must be exactly the input.

    ``reasons`` optionally gives one reason per removed candidate (same order) for the
    :class:`Removed` records; otherwise the reason is None.
    """

    kept: list[CandidateT]
    removed: list[CandidateT]
    reasons: list[str | None] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if self.reasons is not None and len(self.reasons) != len(self.removed):
            raise ValueError(f"{len(self.reasons)} reasons for {len(self.removed)} removed candidates")


@dataclass(frozen=True)
class Removed(Generic[CandidateT]):
    """One candidate removed by a filter, tagged with the filter's name."""

    candidate: CandidateT
    stage: str
    reason: str | None = None


@runtime_checkable
class Filter(Stage, Protocol[QueryT_contra, CandidateT]):
    """Splits candidates into kept/removed; may be sync (as in X [Aug]) or async."""

    def filter(
        self, query: QueryT_contra, candidates: list[CandidateT]
    ) -> FilterResult[CandidateT] | Awaitable[FilterResult[CandidateT]]: ...


def _accepted(
    ctx: RequestContext, kind: StageKind, stage: object, call: StageCall, n: int
) -> FilterResult[Any] | None:
    """The filter's result if it is a consistent split of its ``n`` inputs, else None (recorded)."""
    if call.status == "disabled":
        ctx.record(kind, stage, call, input_count=n)
        return None
    if call.status != "ok":
        ctx.record(kind, stage, call, input_count=n, kept_count=n)
        return None
    result = call.value
    if not isinstance(result, FilterResult):
        ctx.warn(
            kind, stage, "returned %s, expected FilterResult; input passed through", type(result).__name__
        )
        ctx.record(kind, stage, call, status="error", input_count=n, kept_count=n)
        return None
    if len(result.kept) + len(result.removed) != n:
        ctx.warn(
            kind,
            stage,
            "kept %d + removed %d != input %d; input passed through",
            len(result.kept),
            len(result.removed),
            n,
        )
        ctx.record(kind, stage, call, status="length_mismatch", input_count=n, kept_count=n, error_count=1)
        return None
    return result


async def run_filters(
    ctx: RequestContext, kind: StageKind, filters: Sequence[Filter[Any, Any]], candidates: list[Any]
) -> tuple[list[Any], list[Removed[Any]]]:
    """Apply enabled filters in order; return the survivors and every removal with its filter."""
    removed: list[Removed[Any]] = []
    for flt in filters:
        n = len(candidates)
        call = await ctx.run_one(kind, flt, partial(flt.filter, ctx.query, list(candidates)))
        result = _accepted(ctx, kind, flt, call, n)
        if result is None:
            continue
        name = stage_name(flt)
        reasons = result.reasons or [None] * len(result.removed)
        removed.extend(Removed(c, name, r) for c, r in zip(result.removed, reasons, strict=True))
        candidates = list(result.kept)
        ctx.record(
            kind, flt, call, input_count=n, kept_count=len(result.kept), removed_count=len(result.removed)
        )
    return candidates, removed
