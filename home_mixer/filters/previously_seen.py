"""Drop posts the viewer has seen: request ``seen_ids`` or the impression Bloom filter.

Any related id counts (the post, the reposted post, the replied-to post), so seeing a post
also hides reposts of it and replies shown with it as context.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class PreviouslySeenPostsFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        seen = set(query.seen_ids)
        bloom = query.impression_bloom
        if not seen and bloom is None:  # nothing seen: nothing to look up for ~2,000 candidates
            return FilterResult(list(candidates), [], reasons=[])

        def rule(c: PostCandidate) -> str | None:
            for pid in c.related_ids():
                if pid in seen:
                    return f"seen ({pid})"
                if bloom is not None and pid in bloom:
                    return f"seen, impression bloom filter ({pid})"
            return None

        return split(candidates, rule)


def build(deps: Deps) -> PreviouslySeenPostsFilter:
    return PreviouslySeenPostsFilter()
