"""The viewer's own follower count (X reads it from Gizmoduck viewer data).

Needed by the weighted score: the video-quality-view weight only applies to viewers with
fewer than 10,000 followers.
"""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.candidate_hydrators.author_info import stat
from home_mixer.deps import Deps, UserStateReader
from home_mixer.models import FeedQuery


class ViewerStatsQueryHydrator(BaseStage):
    def __init__(self, reader: UserStateReader) -> None:
        self.reader = reader

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        stats = await self.reader.author_stats([query.viewer_id])
        own = stats.get(query.viewer_id)
        return {"viewer_followers_count": 0 if own is None else int(stat(own, "followers") or 0)}


def build(deps: Deps) -> ViewerStatsQueryHydrator:
    return ViewerStatsQueryHydrator(deps.require("user_state"))  # type: ignore[arg-type]
