"""Engagement counts of the shown post (X's EngagementCountsHydrator).

For a repost the counts are the original's: that is the content the viewer sees, and the
cold-start rule asks how many impressions that content already had.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate

COUNT_FIELDS = {
    "fav": "fav_count",
    "reply": "reply_count",
    "repost": "repost_count",
    "quote": "quote_count",
    "view": "view_count",
    "bookmark": "bookmark_count",
}


class EngagementCountsHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        counts = await self.reader.engagement_counts(sorted({c.original_tweet_id for c in candidates}))
        out: list[dict[str, Any] | None] = []
        for c in candidates:
            got = counts.get(c.original_tweet_id)
            out.append(None if got is None else {f: int(got.get(k, 0)) for k, f in COUNT_FIELDS.items()})
        return out


def build(deps: Deps) -> EngagementCountsHydrator:
    return EngagementCountsHydrator(deps.require("user_state"))  # type: ignore[arg-type]
