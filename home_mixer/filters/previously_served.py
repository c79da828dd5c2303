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
        if not served:  # a new session: nothing to look up for ~2,000 candidates
            return FilterResult(list(candidates), [], reasons=[])

        def rule(c: PostCandidate) -> str | None:
            # c.related_ids() inlined: no list per candidate
            for pid in (c.tweet_id, c.retweeted_tweet_id, c.in_reply_to_tweet_id):
                if pid and pid in served:
                    return f"served ({pid})"
            return None

        return split(candidates, rule)


def build(deps: Deps, all_requests: bool = True) -> PreviouslyServedPostsFilter:
    return PreviouslyServedPostsFilter(all_requests)
