"""Scorers: attach scores (model predictions, weighted score, diversity/OON adjustments).

Same per-candidate result contract as hydrators, but scorers run SEQUENTIALLY in declared
order and each sees the previous scorers' updates: X's weighted scorer consumes the Phoenix
predictions and the author-diversity scorer rescales the weighted score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol, runtime_checkable

from candidate_pipeline.columns import Columns
from candidate_pipeline.hydrator import apply_batch_call
from candidate_pipeline.stage import CandidateT_contra, QueryT_contra, Stage
from candidate_pipeline.stage_runner import RequestContext


@runtime_checkable
class Scorer(Stage, Protocol[QueryT_contra, CandidateT_contra]):
    """Computes score fields for a batch of candidates without mutating them."""

    async def score(
        self, query: QueryT_contra, candidates: Sequence[CandidateT_contra]
    ) -> Sequence[Mapping[str, Any] | None | Exception] | Columns: ...


async def run_scorers(
    ctx: RequestContext, scorers: Sequence[Scorer[Any, Any]], candidates: Sequence[Any]
) -> None:
    """Run enabled scorers one after another, applying each one's updates before the next."""
    snapshot = tuple(candidates)
    for scorer in scorers:
        call = await ctx.run_one("scorer", scorer, partial(scorer.score, ctx.query, snapshot))
        apply_batch_call(ctx, "scorer", scorer, call, snapshot)
