"""Selectors: choose which scored candidates are served (X: sort by score, take the top).

The selector splits its input into ``selected`` and ``non_selected``; the executor keeps
both (non-selected candidates feed side effects such as the scored-candidate cache). A
missing, disabled or failing selector passes everything through as selected, so scoring
problems never empty the feed.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, runtime_checkable

from candidate_pipeline.stage import BaseStage, CandidateT, QueryT_contra, Stage
from candidate_pipeline.stage_runner import RequestContext


@dataclass
class SelectResult(Generic[CandidateT]):
    """A selector's split of its input: ``selected`` (served, in order) + ``non_selected``."""

    selected: list[CandidateT]
    non_selected: list[CandidateT]


@runtime_checkable
class Selector(Stage, Protocol[QueryT_contra, CandidateT]):
    """Orders and cuts the candidate list; sync (as in X) or async."""

    def select(
        self, query: QueryT_contra, candidates: list[CandidateT]
    ) -> SelectResult[CandidateT] | Awaitable[SelectResult[CandidateT]]: ...


def _descending_key(score: object) -> float:
    """Sort key for descending scores where None and NaN rank last (as -inf)."""
    if score is None:
        return math.inf
    value = float(score)  # type: ignore[arg-type]
    return math.inf if math.isnan(value) else -value


class TopKScoreSelector(BaseStage):
    """Sort by ``score_attr`` descending (None/NaN = -inf, ties keep input order), keep ``k``."""

    def __init__(self, k: int, score_attr: str = "score") -> None:
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        self.k = k
        self.score_attr = score_attr

    def select(self, query: Any, candidates: list[CandidateT]) -> SelectResult[CandidateT]:
        # sorted() is stable, so equal scores keep their retrieval order.
        ranked = sorted(candidates, key=lambda c: _descending_key(getattr(c, self.score_attr, None)))
        return SelectResult(selected=ranked[: self.k], non_selected=ranked[self.k :])


async def run_selector(
    ctx: RequestContext, selector: Selector[Any, Any] | None, candidates: list[Any]
) -> tuple[list[Any], list[Any]]:
    """Return (selected, non_selected); pass-through when absent, disabled or failing."""
    if selector is None:
        return list(candidates), []
    n = len(candidates)
    call = await ctx.run_one("selector", selector, partial(selector.select, ctx.query, list(candidates)))
    if call.status != "ok":
        ctx.record(
            "selector", selector, call, input_count=n, kept_count=0 if call.status == "disabled" else n
        )
        return list(candidates), []
    result = call.value
    if not isinstance(result, SelectResult):
        ctx.warn(
            "selector", selector, "returned %s, expected SelectResult; passing through", type(result).__name__
        )
        ctx.record("selector", selector, call, status="error", input_count=n, kept_count=n)
        return list(candidates), []
    if len(result.selected) + len(result.non_selected) != n:
        ctx.warn(
            "selector",
            selector,
            "selected %d + non_selected %d != input %d; passing through",
            len(result.selected),
            len(result.non_selected),
            n,
        )
        ctx.record(
            "selector", selector, call, status="length_mismatch", input_count=n, kept_count=n, error_count=1
        )
        return list(candidates), []
    ctx.record(
        "selector",
        selector,
        call,
        input_count=n,
        kept_count=len(result.selected),
        removed_count=len(result.non_selected),
    )
    return list(result.selected), list(result.non_selected)
