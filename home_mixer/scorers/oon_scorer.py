"""Out-of-network discount (X's OON rescoring): posts from outside the follow graph count 0.75x.

Also applied to in-network replies and reposts (``EnableOonRescoreForInNetworkRepliesRetweets``):
a followed account's reply or repost shows content the viewer did not choose to follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage, Columns
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import OON_WEIGHT_FACTOR


class OONScorer(BaseStage):
    def __init__(self, factor: float = OON_WEIGHT_FACTOR, in_network_replies_reposts: bool = True) -> None:
        self.factor = factor
        self.in_network_replies_reposts = in_network_replies_reposts

    def applies(self, c: PostCandidate) -> bool:
        if c.in_network is False:
            return True
        return bool(c.in_network) and self.in_network_replies_reposts and (c.is_reply or c.is_repost)

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        rows = [i for i, c in enumerate(candidates) if c.score is not None and self.applies(c)]
        factor = self.factor
        new_scores = [candidates[i].score * factor for i in rows]  # type: ignore[operator]
        columns: dict[str, list[Any]] = {"score": new_scores}
        if query.debug:  # explanations are for debug responses only
            columns["explanation"] = [
                candidates[i].explanation.evolve(oon_multiplier=factor, final_score=s)
                for i, s in zip(rows, new_scores, strict=True)
            ]
        return Columns(len(candidates), columns, rows=rows)


def build(deps: Deps, factor: float = OON_WEIGHT_FACTOR, in_network_replies_reposts: bool = True) -> OONScorer:
    return OONScorer(factor, in_network_replies_reposts)
