"""``in_network = author is the viewer or followed by the viewer`` (X's InNetworkCandidateHydrator)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


class InNetworkCandidateHydrator(BaseStage):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any]]:
        followed = query.followed_user_ids
        return [
            {"in_network": c.author_id == query.viewer_id or c.author_id in followed} for c in candidates
        ]


def build(deps: Deps) -> InNetworkCandidateHydrator:
    return InNetworkCandidateHydrator()
