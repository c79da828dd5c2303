"""Drop a candidate whose tweet_id appeared earlier in the list (first occurrence wins)."""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class DropDuplicatesFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        seen: set[int] = set()

        def rule(c: PostCandidate) -> str | None:
            if c.tweet_id in seen:
                return "duplicate tweet_id"
            seen.add(c.tweet_id)
            return None

        return split(candidates, rule)


def build(deps: Deps) -> DropDuplicatesFilter:
    return DropDuplicatesFilter()
