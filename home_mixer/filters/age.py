"""Drop posts older than 48 h by their snowflake id, or whose age cannot be computed (X's AgeFilter)."""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import keep_all, split
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import MAX_POST_AGE_S
from infra.snowflake import snowflake_age_ms


class AgeFilter(BaseStage):
    def __init__(self, max_age_s: int = MAX_POST_AGE_S) -> None:
        self.max_age_ms = max_age_s * 1000

    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        # A snowflake's time only grows with its id: when the smallest id is young enough, every
        # candidate is (one C-level min instead of a rule call per candidate).
        oldest = min([c.tweet_id for c in candidates], default=None)
        if oldest is None or (oldest > 0 and (age := snowflake_age_ms(oldest, query.now_ms)) is not None
                              and age <= self.max_age_ms):
            return keep_all(candidates)

        def rule(c: PostCandidate) -> str | None:
            age = snowflake_age_ms(c.tweet_id, query.now_ms)
            if age is None:
                return "age not computable"
            return f"older than {self.max_age_ms // 1000} s" if age > self.max_age_ms else None

        return split(candidates, rule)


def build(deps: Deps, max_age_s: int = MAX_POST_AGE_S) -> AgeFilter:
    return AgeFilter(max_age_s)
