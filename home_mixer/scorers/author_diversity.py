"""Author diversity: each further post of the same author in one feed is worth less (X's AuthorDiversityScorer).

Candidates are ordered by score (descending, ties in input order); the ``k``-th earlier post of
the same serving author gets ``multiplier = (1 - floor) * decay**k + floor``: with decay 0.5
and floor 0.25 that is 1, 0.625, 0.4375, 0.34375, ... -> 0.25. Unscored candidates are left
alone (the fallback orders them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage, Columns
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import AUTHOR_DIVERSITY_DECAY, AUTHOR_DIVERSITY_FLOOR


def diversity_multiplier(k: int, decay: float, floor: float) -> float:
    return (1.0 - floor) * decay**k + floor


class AuthorDiversityScorer(BaseStage):
    def __init__(self, decay: float = AUTHOR_DIVERSITY_DECAY, floor: float = AUTHOR_DIVERSITY_FLOOR) -> None:
        if not 0.0 <= decay <= 1.0 or not 0.0 <= floor <= 1.0:
            raise ValueError(f"decay and floor must be in [0, 1], got {decay}, {floor}")
        self.decay = decay
        self.floor = floor

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        scores = [c.score for c in candidates]
        # best first, ties in input order (a reverse sort is stable too)
        ranked = sorted((i for i, s in enumerate(scores) if s is not None), key=scores.__getitem__, reverse=True)  # type: ignore[arg-type]
        per_author: dict[int, int] = {}
        multipliers: dict[int, float] = {}  # by k: a handful of distinct values per request
        applied: list[float] = []
        for author in [candidates[i].author_id for i in ranked]:
            k = per_author.get(author, 0)
            per_author[author] = k + 1
            m = multipliers.get(k)
            if m is None:
                m = multipliers[k] = diversity_multiplier(k, self.decay, self.floor)
            applied.append(m)
        new_scores = [scores[i] * m for i, m in zip(ranked, applied, strict=True)]  # type: ignore[operator]
        columns: dict[str, list[Any]] = {"score": new_scores}
        if query.debug:  # explanations are for debug responses only
            columns["explanation"] = [
                candidates[i].explanation.evolve(author_diversity_multiplier=m, final_score=s)
                for i, m, s in zip(ranked, applied, new_scores, strict=True)
            ]
        return Columns(len(candidates), columns, rows=ranked)


def build(deps: Deps, decay: float = AUTHOR_DIVERSITY_DECAY, floor: float = AUTHOR_DIVERSITY_FLOOR):
    return AuthorDiversityScorer(decay, floor)
