"""Replays the viewer's cached scored candidates (X's CachedPostsSource).

Filters run again on them (new seen/served ids), and the ranking scorers recompute scores from
the cached ranker predictions, so a cached page still respects diversity and the served history.
"""

from __future__ import annotations

import dataclasses

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


class CachedPostsSource(BaseStage):
    def enable(self, query: FeedQuery) -> bool:
        return query.has_cached_posts

    async def get_candidates(self, query: FeedQuery) -> list[PostCandidate]:
        # Copies: the query's list is shared with side effects and must not see score updates.
        return [dataclasses.replace(p) for p in query.cached_posts]


def build(deps: Deps) -> CachedPostsSource:
    return CachedPostsSource()
