"""Engagement counts of the shown post (X's EngagementCountsHydrator).

For a repost the counts are the original's: that is the content the viewer sees, and the
cold-start rule asks how many impressions that content already had. A reader with
``engagement_count_columns`` (home-mixer's Redis reader) answers the counts as one int matrix;
otherwise they are read from each post's ``{name: count}`` mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat

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


def count_column(rows: Sequence[Mapping[str, int]], names: tuple[str, ...]) -> list[int]:
    """One candidate field over many count rows: the first of ``names`` present, else 0.

    Column-wise, one C-level ``get`` pass per name (a later name only fills rows still without
    a value): the same values as :func:`count_fields` without a dict or a generator per row.
    """
    first, *others = names
    get = dict.get if all(type(r) is dict for r in rows) else Mapping.get  # dict.get: a C call per row
    values = list(map(get, rows, repeat(first)))
    for name in others:
        if None in values:
            values = [v if v is not None else r.get(name) for v, r in zip(values, rows, strict=True)]
    return [0 if v is None else int(v) for v in values]


class EngagementCountsHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        shown = [c.retweeted_tweet_id or c.tweet_id for c in candidates]  # original_tweet_id, inlined
        as_matrix = getattr(self.reader, "engagement_count_columns", None)
        if as_matrix is not None:
            distinct = sorted(set(shown))
            table = await as_matrix(distinct, list(COUNT_FIELDS.values()))
            row_of = dict(zip(distinct, range(len(distinct)), strict=True))
            per_candidate = table[list(map(row_of.__getitem__, shown))].T.tolist()
            return Columns(len(candidates), dict(zip(COUNT_FIELDS, per_candidate, strict=True)))
        counts = await self.reader.engagement_counts(sorted(set(shown)))
        found = [counts.get(p) for p in shown]
        rows = [i for i, got in enumerate(found) if got is not None]
        hits = [found[i] for i in rows]
        columns = {field: count_column(hits, names) for field, names in COUNT_FIELDS.items()}
        return Columns(len(candidates), columns, rows=rows)  # type: ignore[arg-type]


def build(deps: Deps) -> EngagementCountsHydrator:
    return EngagementCountsHydrator(deps.require("user_state"))  # type: ignore[arg-type]
