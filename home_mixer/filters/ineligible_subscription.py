"""Drop subscriber-only posts of creators the viewer is not subscribed to."""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class IneligibleSubscriptionFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        def rule(c: PostCandidate) -> str | None:
            sub = c.subscription_author_id
            return "not subscribed" if sub and sub not in query.subscribed_user_ids else None

        return split(candidates, rule)


def build(deps: Deps) -> IneligibleSubscriptionFilter:
    return IneligibleSubscriptionFilter()
