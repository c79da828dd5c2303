"""Does the author follow the viewer, and is it mutual? (X's BidirectionalFollowHydrator).

A mutual follow raises the reply weight by 15 in the weighted score (replies between people
who know each other are worth more than replies to strangers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


class BidirectionalFollowHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any]]:
        authors = sorted({c.author_id for c in candidates if c.author_id})
        followers = await self.reader.followers_of_viewer_among(query.viewer_id, authors)
        return [
            {
                "author_follows_viewer": c.author_id in followers,
                "is_mutual_follow": c.author_id in followers and c.author_id in query.followed_user_ids,
            }
            for c in candidates
        ]


def build(deps: Deps) -> BidirectionalFollowHydrator:
    return BidirectionalFollowHydrator(deps.require("user_state"))  # type: ignore[arg-type]
