"""Does the author follow the viewer, and is it mutual? (X's BidirectionalFollowHydrator).

A mutual follow raises the reply weight by 15 in the weighted score (replies between people
who know each other are worth more than replies to strangers).
"""

from __future__ import annotations

from collections.abc import Sequence

from candidate_pipeline import Columns
from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


class BidirectionalFollowHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        of_candidate = [c.author_id for c in candidates]
        followers = await self.reader.followers_of_viewer_among(query.viewer_id, sorted({a for a in of_candidate if a}))
        followed = query.followed_user_ids
        follows_viewer = [a in followers for a in of_candidate]
        mutual = [f and a in followed for f, a in zip(follows_viewer, of_candidate, strict=True)]
        return Columns(len(candidates), {"author_follows_viewer": follows_viewer, "is_mutual_follow": mutual})


def build(deps: Deps) -> BidirectionalFollowHydrator:
    return BidirectionalFollowHydrator(deps.require("user_state"))  # type: ignore[arg-type]
