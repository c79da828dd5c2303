"""The executor: runs a declared list of stages for one request, X's ``CandidatePipeline``.

Order (``candidate_pipeline.rs``): query hydrators (concurrent) -> dependent query hydrators
(concurrent) -> sources (concurrent) -> hydrators (concurrent) -> filters (sequential) ->
scorers (sequential) -> selector -> post-selection hydrators (concurrent) -> post-selection
filters (sequential) -> truncate to ``result_size`` -> result -> side effects (detached; a
server defers their start until its response is sent).
Every stage is isolated: a raise, a timeout or a malformed result is logged and counted,
and the request still answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic

from candidate_pipeline.filter import Filter, run_filters
from candidate_pipeline.hydrator import Hydrator, run_hydrators
from candidate_pipeline.query_hydrator import QueryHydrator, run_query_hydrators
from candidate_pipeline.result import PipelineResult
from candidate_pipeline.scorer import Scorer, run_scorers
from candidate_pipeline.selector import Selector, run_selector
from candidate_pipeline.side_effect import (
    DeferredSideEffects,
    SideEffect,
    SideEffectInput,
    SideEffectTasks,
    enabled_side_effects,
    start_side_effects,
)
from candidate_pipeline.source import Source, fetch_candidates
from candidate_pipeline.stage import CandidateT, QueryT, stage_name
from candidate_pipeline.stage_runner import RequestContext
from candidate_pipeline.stats import PipelineStats, record_request_metrics

logger = logging.getLogger("candidate_pipeline")

DEFAULT_RESULT_SIZE = 35
"""X's ``RESULT_SIZE`` for the For You post pipeline."""
DEFAULT_STAGE_TIMEOUT_S = 1.0


@dataclass
class CandidatePipeline(Generic[QueryT, CandidateT]):
    """A named, ordered set of stages; ``execute`` runs them for one query.

    The query must be a mutable object (query hydrators ``setattr`` their fields on it) and
    candidates mutable objects (hydrators/scorers ``setattr`` theirs). ``selector=None``
    passes candidates through unchanged.
    """

    name: str
    query_hydrators: Sequence[QueryHydrator[QueryT]] = field(default_factory=list)
    dependent_query_hydrators: Sequence[QueryHydrator[QueryT]] = field(default_factory=list)
    sources: Sequence[Source[QueryT, CandidateT]] = field(default_factory=list)
    hydrators: Sequence[Hydrator[QueryT, CandidateT]] = field(default_factory=list)
    filters: Sequence[Filter[QueryT, CandidateT]] = field(default_factory=list)
    scorers: Sequence[Scorer[QueryT, CandidateT]] = field(default_factory=list)
    selector: Selector[QueryT, CandidateT] | None = None
    post_selection_hydrators: Sequence[Hydrator[QueryT, CandidateT]] = field(default_factory=list)
    post_selection_filters: Sequence[Filter[QueryT, CandidateT]] = field(default_factory=list)
    side_effects: Sequence[SideEffect[QueryT, CandidateT]] = field(default_factory=list)
    result_size: int = DEFAULT_RESULT_SIZE
    default_stage_timeout_s: float = DEFAULT_STAGE_TIMEOUT_S
    _side_effect_tasks: SideEffectTasks = field(
        default_factory=SideEffectTasks, init=False, repr=False, compare=False
    )

    async def execute(
        self, query: QueryT, *, defer_side_effects: bool = False
    ) -> PipelineResult[QueryT, CandidateT]:
        """Run every stage for ``query`` and return the result; never raises for stage failures.

        Side effects are started as tasks with the result, or with ``defer_side_effects`` left
        for ``result.start_side_effects()`` (e.g. once the response is sent; they start by
        themselves after ``DEFAULT_LATEST_START_S`` otherwise).
        """
        started = time.perf_counter()
        ctx = RequestContext(self.name, query, self.default_stage_timeout_s)

        await run_query_hydrators(ctx, "query_hydrator", self.query_hydrators)
        await run_query_hydrators(ctx, "dependent_query_hydrator", self.dependent_query_hydrators)
        candidates = await fetch_candidates(ctx, self.sources)
        await run_hydrators(ctx, "hydrator", self.hydrators, candidates)
        retrieved = list(candidates)

        kept, removed = await run_filters(ctx, "filter", self.filters, candidates)
        await run_scorers(ctx, self.scorers, kept)
        selected, non_selected = await run_selector(ctx, self.selector, kept)

        await run_hydrators(ctx, "post_selection_hydrator", self.post_selection_hydrators, selected)
        selected, post_removed = await run_filters(
            ctx, "post_selection_filter", self.post_selection_filters, selected
        )
        removed.extend(post_removed)

        overflow = selected[self.result_size :]
        selected = selected[: self.result_size]
        non_selected.extend(overflow)

        side_effects = enabled_side_effects(ctx, self.side_effects)
        stats = PipelineStats(
            pipeline=self.name,
            request_id=ctx.request_id,
            stages=list(ctx.stats),
            total_latency_ms=(time.perf_counter() - started) * 1000.0,
            retrieved_count=len(retrieved),
            removed_count=len(removed),
            selected_count=len(selected),
            non_selected_count=len(non_selected),
            truncated_count=len(overflow),
        )
        result: PipelineResult[QueryT, CandidateT] = PipelineResult(
            query=query,
            retrieved=retrieved,
            removed=removed,
            selected=selected,
            non_selected=non_selected,
            stats=stats,
        )
        # Side effects start only now, from the finished result, and are not awaited here:
        # create_task lets them run once execute() has handed control back to its caller.
        inp = SideEffectInput(query=query, selected=list(selected), non_selected=list(non_selected))
        if defer_side_effects and side_effects:
            result.deferred_side_effects = DeferredSideEffects(ctx, side_effects, inp, self._side_effect_tasks)
            stats.side_effects_started = [stage_name(effect) for effect in side_effects]
        else:
            stats.side_effects_started = start_side_effects(ctx, side_effects, inp, self._side_effect_tasks)
        record_request_metrics(stats)
        logger.info("%s", stats.summary_line())
        return result

    @property
    def pending_side_effects(self) -> int:
        """Number of side-effect tasks still running (for health checks and tests)."""
        return len(self._side_effect_tasks)

    async def drain_side_effects(self) -> None:
        """Wait for all side effects started by earlier ``execute`` calls (shutdown, tests)."""
        await self._side_effect_tasks.drain()
