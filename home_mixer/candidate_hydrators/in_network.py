"""``in_network = author is the viewer or followed by the viewer`` (X's InNetworkCandidateHydrator)."""

from __future__ import annotations

from collections.abc import Sequence

from candidate_pipeline import BaseStage, Columns
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


class InNetworkCandidateHydrator(BaseStage):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        followed, viewer = query.followed_user_ids, query.viewer_id
        authors = [c.author_id for c in candidates]
        return Columns(len(candidates), {"in_network": [a == viewer or a in followed for a in authors]})


def build(deps: Deps) -> InNetworkCandidateHydrator:
    return InNetworkCandidateHydrator()
