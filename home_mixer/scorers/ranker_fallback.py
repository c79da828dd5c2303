"""Orders candidates the ranker did not score (ranker down, timed out, or over its batch cap).

X leaves such candidates without a score, so they sort last and a ranker outage would empty
the feed of anything meaningful. The documented fallback order here: in-network posts first,
then out-of-network, each group newest first. Fallback scores are NEGATIVE, in (-1, 0), so any
candidate the ranker did score (score >= 0) still ranks above every fallback one:

* in-network:      ``-0.5 + 0.5 * freshness``  in (-0.5, 0)
* out-of-network:  ``-1.0 + 0.5 * freshness``  in (-1, -0.5)

with ``freshness = 1 - age / max_age`` in [0, 1]. Each such candidate is flagged
``ranking_fallback=True`` and its explanation says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage, Columns
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import MAX_POST_AGE_S
from infra.snowflake import snowflake_age_ms

FALLBACK_NOTE = "ranker unavailable: fallback order (in-network first, then newest first)"


class RankerFallbackScorer(BaseStage):
    def __init__(self, max_age_s: int = MAX_POST_AGE_S) -> None:
        self.max_age_ms = max_age_s * 1000

    def fallback_score(self, query: FeedQuery, c: PostCandidate) -> float:
        age = snowflake_age_ms(c.tweet_id, query.now_ms)
        age = self.max_age_ms if age is None else min(max(age, 0), self.max_age_ms)
        freshness = 1.0 - age / self.max_age_ms
        base = -0.5 if c.in_network else -1.0
        return base + 0.5 * freshness * (1.0 - 1e-9)  # stays strictly below the group's upper bound

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        rows = [i for i, c in enumerate(candidates) if c.phoenix_scores is None or c.score is None]
        new_scores = [self.fallback_score(query, candidates[i]) for i in rows]
        columns: dict[str, list[Any]] = {"score": new_scores, "ranking_fallback": [True] * len(rows)}
        if query.debug:  # explanations are for debug responses only
            columns["explanation"] = [
                candidates[i].explanation.evolve(scored=False, final_score=s, note=FALLBACK_NOTE)
                for i, s in zip(rows, new_scores, strict=True)
            ]
        return Columns(len(candidates), columns, rows=rows)


def build(deps: Deps, max_age_s: int = MAX_POST_AGE_S) -> RankerFallbackScorer:
    return RankerFallbackScorer(max_age_s)
