"""Collapse a post and its reposts to the first occurrence (X's [Aug] RetweetDeduplicationFilter).

Key = the reposted post's id for a repost, else the post's own id.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import keep_all, split
from home_mixer.models import FeedQuery, PostCandidate


class RetweetDeduplicationFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        keys = [c.retweeted_tweet_id or c.tweet_id for c in candidates]  # original_tweet_id, inlined
        if len(set(keys)) == len(keys):  # the usual case, told by one set: every content once
            return keep_all(candidates)
        seen: set[int] = set()

        def rule(c: PostCandidate) -> str | None:
            key = c.original_tweet_id
            if key in seen:
                return f"same content as an earlier candidate ({key})"
            seen.add(key)
            return None

        return split(candidates, rule)


def build(deps: Deps) -> RetweetDeduplicationFilter:
    return RetweetDeduplicationFilter()
