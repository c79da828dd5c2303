"""Query hydrators: enrich the request (user features, follow graph, history) before retrieval.

X runs them in two concurrent waves: ``query_hydrators`` and then
``dependent_query_hydrators`` for those that need wave-1 output. Each hydrator returns only
the fields it owns; the executor applies them in REGISTRATION order after the whole wave
finished, so concurrency never makes the merged query depend on timing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol, runtime_checkable

from candidate_pipeline.stage import QueryT_contra, Stage
from candidate_pipeline.stage_runner import RequestContext
from candidate_pipeline.stats import StageKind
from candidate_pipeline.updates import apply_fields


@runtime_checkable
class QueryHydrator(Stage, Protocol[QueryT_contra]):
    """Fetches query fields; must not mutate the query it is given."""

    async def hydrate(self, query: QueryT_contra) -> Mapping[str, Any]:
        """Return ``{field name: value}`` for the query fields this hydrator owns."""
        ...


async def run_query_hydrators(
    ctx: RequestContext, kind: StageKind, hydrators: Sequence[QueryHydrator[Any]]
) -> None:
    """Run one wave concurrently, then setattr each result on the query in registration order."""
    for hydrator, call in await ctx.run_concurrently(
        kind, hydrators, lambda h: partial(h.hydrate, ctx.query)
    ):
        if call.status != "ok":
            ctx.record(kind, hydrator, call, input_count=1)
            continue
        fields = call.value
        if not isinstance(fields, Mapping):
            ctx.warn(kind, hydrator, "returned %s, expected a mapping of query fields", type(fields).__name__)
            ctx.record(kind, hydrator, call, status="error", input_count=1)
            continue
        try:
            apply_fields(ctx.query, fields)
        except Exception as exc:
            ctx.warn(kind, hydrator, "could not apply fields %s: %r", sorted(fields), exc)
            ctx.record(kind, hydrator, call, status="error", input_count=1)
            continue
        ctx.record(kind, hydrator, call, input_count=1, kept_count=len(fields))
