"""Drop posts already served to the viewer (request ``served_ids`` + the recent served history).

X [Aug] applies it to every request (``EnableServedFilterAllRequests``); with ``all_requests:
false`` it applies only to bottom (pagination) requests, as in [Jan].
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class PreviouslyServedPostsFilter(BaseStage):
    def __init__(self, all_requests: bool = True) -> None:
        self.all_requests = all_requests

    def enable(self, query: FeedQuery) -> bool:
        return self.all_requests or query.is_bottom_request

    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        served = set(query.served_ids) | query.served_history_ids

        def rule(c: PostCandidate) -> str | None:
            hit = next((pid for pid in c.related_ids() if pid in served), None)
            return None if hit is None else f"served ({hit})"

        return split(candidates, rule)


def build(deps: Deps, all_requests: bool = True) -> PreviouslyServedPostsFilter:
    return PreviouslyServedPostsFilter(all_requests)
