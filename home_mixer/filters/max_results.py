"""Post-selection, last: keep only the request's ``max_results`` best posts.

Truncating inside the pipeline (not when building the response) matters because the side
effects record what was served: a client that asked for 5 posts must not have 35 marked served.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


class MaxResultsFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        limit = max(query.max_results, 0)
        removed = candidates[limit:]
        return FilterResult(candidates[:limit], removed, reasons=[f"beyond max_results={limit}"] * len(removed))


def build(deps: Deps) -> MaxResultsFilter:
    return MaxResultsFilter()
