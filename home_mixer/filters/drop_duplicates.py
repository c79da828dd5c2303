"""Drop a candidate whose tweet_id appeared earlier in the list (first occurrence wins)."""

from __future__ import annotations

from operator import attrgetter

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import keep_all, split
from home_mixer.models import FeedQuery, PostCandidate


class DropDuplicatesFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        ids = list(map(attrgetter("tweet_id"), candidates))
        if len(set(ids)) == len(ids):  # the usual case, told by one set: no duplicate
            return keep_all(candidates)
        seen: set[int] = set()

        def rule(c: PostCandidate) -> str | None:
            if c.tweet_id in seen:
                return "duplicate tweet_id"
            seen.add(c.tweet_id)
            return None

        return split(candidates, rule)


def build(deps: Deps) -> DropDuplicatesFilter:
    return DropDuplicatesFilter()
