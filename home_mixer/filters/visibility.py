"""Post-selection: drop posts whose visibility verdict is DROP (X's VFFilter); interstitials stay."""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class VisibilityFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        return split(
            candidates,
            lambda c: f"visibility: {c.visibility_reason}" if c.visibility_action == "drop" else None,
        )


def build(deps: Deps) -> VisibilityFilter:
    return VisibilityFilter()
