"""New-author cold-start boost (X's [Aug] author_cold_start.rs): lift one small author's post to slot 16.

Small authors' posts have few impressions, so the ranker under-predicts them and they never
collect the engagement that would fix that. Once per request, the highest-scoring ELIGIBLE
post gets ``score = max(score, target)`` where ``target`` is the score at rank ``slot`` (15,
0-based: the 16th-highest). Eligible: an original post (not reply/repost), author followers
<= 1,000, fewer than 1,000 views, and ranked inside the first 85% of the non-zero scores.
Requests with no post at rank ``slot`` get no boost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import (
    COLD_START_FOLLOWER_CAP,
    COLD_START_IMPRESSION_THRESHOLD,
    COLD_START_SLOT,
    LOW_IMPRESSIONS_MAX_POSITION_RATIO,
)


class AuthorColdStartScorer(BaseStage):
    def __init__(
        self,
        slot: int = COLD_START_SLOT,
        follower_cap: int = COLD_START_FOLLOWER_CAP,
        impression_threshold: int = COLD_START_IMPRESSION_THRESHOLD,
        max_position_ratio: float = LOW_IMPRESSIONS_MAX_POSITION_RATIO,
    ) -> None:
        self.slot = slot
        self.follower_cap = follower_cap
        self.impression_threshold = impression_threshold
        self.max_position_ratio = max_position_ratio

    def eligible(self, c: PostCandidate, rank: int, nonzero: int) -> bool:
        return (
            not c.is_reply
            and not c.is_repost
            and c.author_followers_count is not None
            and c.author_followers_count <= self.follower_cap
            and (c.view_count or 0) < self.impression_threshold
            and rank < self.max_position_ratio * nonzero
        )

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = [None] * len(candidates)
        scores = [c.score for c in candidates]
        # best first, ties in input order (a reverse sort is stable too)
        ranked = sorted((i for i, s in enumerate(scores) if s is not None), key=scores.__getitem__, reverse=True)
        if len(ranked) <= self.slot:
            return out
        target = scores[ranked[self.slot]]
        nonzero = sum(scores[i] > 0 for i in ranked)  # type: ignore[operator]
        for rank, i in enumerate(ranked):
            c = candidates[i]
            if self.eligible(c, rank, nonzero):
                boosted = max(c.score, target)
                out[i] = {"score": boosted}
                if query.debug:  # explanations are for debug responses only
                    out[i]["explanation"] = c.explanation.evolve(cold_start_score=boosted, final_score=boosted)
                break
        return out


def build(deps: Deps, **params: Any) -> AuthorColdStartScorer:
    return AuthorColdStartScorer(**params)
