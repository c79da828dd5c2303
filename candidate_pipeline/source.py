"""Sources: produce the candidate set (in-network posts, out-of-network retrieval, cache, ...).

All enabled sources run concurrently; successful lists are concatenated in DECLARED order
(not completion order) so the same inputs always give the same candidate order. A failed
or timed-out source is dropped, logged and counted: losing one source degrades the feed
instead of failing the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any, Protocol, runtime_checkable

from candidate_pipeline.stage import CandidateT, QueryT_contra, Stage
from candidate_pipeline.stage_runner import RequestContext


@runtime_checkable
class Source(Stage, Protocol[QueryT_contra, CandidateT]):
    """Fetches candidates for a (hydrated) query."""

    async def get_candidates(self, query: QueryT_contra) -> list[CandidateT]: ...


async def fetch_candidates(ctx: RequestContext, sources: Sequence[Source[Any, Any]]) -> list[Any]:
    """Run all enabled sources at once and concatenate their candidates in declared order."""
    candidates: list[Any] = []
    for source, call in await ctx.run_concurrently(
        "source", sources, lambda s: partial(s.get_candidates, ctx.query)
    ):
        if call.status != "ok":
            ctx.record("source", source, call)
            continue
        value = call.value
        if value is None or isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
            ctx.warn("source", source, "returned %s, expected a list of candidates", type(value).__name__)
            ctx.record("source", source, call, status="error")
            continue
        fetched = list(value)
        candidates.extend(fetched)
        ctx.record("source", source, call, kept_count=len(fetched))
    return candidates
