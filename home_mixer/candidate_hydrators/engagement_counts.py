"""Engagement counts of the shown post (X's EngagementCountsHydrator).

For a repost the counts are the original's: that is the content the viewer sees, and the
cold-start rule asks how many impressions that content already had.
"""

from __future__ import annotations

from collections.abc import Sequence

from candidate_pipeline import Columns
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


def count_column(rows: Sequence[dict[str, int]], names: tuple[str, ...]) -> list[int]:
    """One candidate field over many count rows: the first of ``names`` present, else 0.

    Column-wise (one comprehension per field) rather than :func:`count_fields` per row: the
    same values without a dict and a generator per candidate.
    """
    first, *others = names
    if not others:
        return [int(r.get(first, 0)) for r in rows]
    return [int(r[first]) if first in r else int(next((r[n] for n in others if n in r), 0)) for r in rows]


class EngagementCountsHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        shown = [c.original_tweet_id for c in candidates]
        counts = await self.reader.engagement_counts(sorted(set(shown)))
        found = [counts.get(p) for p in shown]
        rows = [i for i, got in enumerate(found) if got is not None]
        hits = [found[i] for i in rows]
        columns = {field: count_column(hits, names) for field, names in COUNT_FIELDS.items()}
        return Columns(len(candidates), columns, rows=rows)  # type: ignore[arg-type]


def build(deps: Deps) -> EngagementCountsHydrator:
    return EngagementCountsHydrator(deps.require("user_state"))  # type: ignore[arg-type]
