"""Drop the viewer's own posts (X's SelfTweetFilter)."""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class SelfTweetFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        return split(candidates, lambda c: "own post" if c.author_id == query.viewer_id else None)


def build(deps: Deps) -> SelfTweetFilter:
    return SelfTweetFilter()
