"""Candidate hydrators: attach per-candidate data (post core data, author info, media, ...).

Contract (X's ``Hydrator``): given N candidates return N entries in the same order; entry i
is a mapping of fields to set on candidate i, ``None`` (nothing to set) or an Exception
(that candidate failed, left untouched, counted); or the same as one
:class:`~candidate_pipeline.columns.Columns` (a value list per field, applied in C loops). A result of the wrong length is skipped
whole ("length_mismatch") because the executor could not tell which entry belongs to which
candidate. All enabled hydrators run concurrently on the same input and their updates are
applied afterwards in registration order. The same runner serves post-selection hydrators.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol, runtime_checkable

from candidate_pipeline.columns import Columns
from candidate_pipeline.stage import CandidateT_contra, QueryT_contra, Stage
from candidate_pipeline.stage_runner import RequestContext, StageCall
from candidate_pipeline.stats import StageKind
from candidate_pipeline.updates import apply_candidate_results, as_result_list


@runtime_checkable
class Hydrator(Stage, Protocol[QueryT_contra, CandidateT_contra]):
    """Computes fields for a batch of candidates without mutating them."""

    async def hydrate(
        self, query: QueryT_contra, candidates: Sequence[CandidateT_contra]
    ) -> Sequence[Mapping[str, Any] | None | Exception] | Columns: ...


def apply_batch_call(
    ctx: RequestContext, kind: StageKind, stage: object, call: StageCall, candidates: Sequence[Any]
) -> None:
    """Validate one hydrator/scorer call against the length contract, apply it, record stats.

    Shared by hydrators and scorers, whose result contract is identical.
    """
    n = len(candidates)
    if call.status != "ok":
        ctx.record(kind, stage, call, input_count=n)
        return
    results = as_result_list(call.value)
    if results is None:
        ctx.warn(
            kind,
            stage,
            "returned %s, expected a sequence of per-candidate results",
            type(call.value).__name__,
        )
        ctx.record(kind, stage, call, status="error", input_count=n)
        return
    if len(results) != n:
        ctx.warn(kind, stage, "returned %d results for %d candidates; skipped whole", len(results), n)
        ctx.record(kind, stage, call, status="length_mismatch", input_count=n, error_count=1)
        return
    problem = results.problem() if isinstance(results, Columns) else None
    if problem is not None:
        ctx.warn(kind, stage, "returned inconsistent columns (%s); skipped whole", problem)
        ctx.record(kind, stage, call, status="length_mismatch", input_count=n, error_count=1)
        return
    counts = apply_candidate_results(candidates, results)
    if counts.errors:
        ctx.warn(kind, stage, "%d of %d candidates failed (first: %r)", counts.errors, n, counts.first_error)
    ctx.record(kind, stage, call, input_count=n, kept_count=counts.updated, error_count=counts.errors)


async def run_hydrators(
    ctx: RequestContext,
    kind: StageKind,
    hydrators: Sequence[Hydrator[Any, Any]],
    candidates: Sequence[Any],
) -> None:
    """Run all enabled hydrators concurrently on one snapshot, then apply in registration order."""
    snapshot = tuple(candidates)
    for hydrator, call in await ctx.run_concurrently(
        kind, hydrators, lambda h: partial(h.hydrate, ctx.query, snapshot)
    ):
        apply_batch_call(ctx, kind, hydrator, call, snapshot)
