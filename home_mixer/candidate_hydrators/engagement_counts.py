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

COUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "fav_count": ("favorite", "fav"),
    "reply_count": ("reply",),
    "repost_count": ("repost",),
    "quote_count": ("quote",),
    "view_count": ("impression", "view"),
    "bookmark_count": ("bookmark",),
}
"""Candidate field -> count names accepted (the user-state store counts by action name,
``impression`` standing for views; the short names of the key-schema docstring also work)."""


def count_fields(counts: dict[str, int]) -> dict[str, int]:
    return {field: int(next((counts[n] for n in names if n in counts), 0)) for field, names in COUNT_FIELDS.items()}


class EngagementCountsHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        counts = await self.reader.engagement_counts(sorted({c.original_tweet_id for c in candidates}))
        out: list[dict[str, Any] | None] = []
        for c in candidates:
            got = counts.get(c.original_tweet_id)
            out.append(None if got is None else count_fields(got))
        return out


def build(deps: Deps) -> EngagementCountsHydrator:
    return EngagementCountsHydrator(deps.require("user_state"))  # type: ignore[arg-type]
