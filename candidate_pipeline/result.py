"""What one pipeline execution returns.

Keeping ``retrieved``, ``removed`` and ``non_selected`` next to ``selected`` is what lets
replay evaluation and debugging tools explain a feed: every candidate a source produced is
either removed (with the filter's name), selected, or not selected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic

from candidate_pipeline.filter import Removed
from candidate_pipeline.side_effect import DeferredSideEffects
from candidate_pipeline.stage import CandidateT, QueryT
from candidate_pipeline.stats import PipelineStats


@dataclass
class PipelineResult(Generic[QueryT, CandidateT]):
    """Result of :meth:`CandidatePipeline.execute`.

    ``retrieved`` is the candidate list after hydration, before filtering (X's
    ``retrieved_candidates``). Lists hold the same candidate objects, so later stages'
    updates (scores) are visible through ``retrieved`` too. ``deferred_side_effects`` is set
    when ``execute(defer_side_effects=True)`` left them for :meth:`start_side_effects`.
    """

    query: QueryT
    retrieved: list[CandidateT]
    removed: list[Removed[CandidateT]]
    selected: list[CandidateT]
    non_selected: list[CandidateT]
    stats: PipelineStats
    deferred_side_effects: DeferredSideEffects | None = None

    def start_side_effects(self) -> None:
        """Start side effects that ``execute`` deferred (a no-op when none are waiting)."""
        if self.deferred_side_effects is not None:
            self.deferred_side_effects.start()
