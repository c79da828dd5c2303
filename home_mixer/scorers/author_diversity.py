"""Author diversity: each further post of the same author in one feed is worth less (X's AuthorDiversityScorer).

Candidates are ordered by score (descending, ties in input order); the ``k``-th earlier post of
the same serving author gets ``multiplier = (1 - floor) * decay**k + floor``: with decay 0.5
and floor 0.25 that is 1, 0.625, 0.4375, 0.34375, ... -> 0.25. Unscored candidates are left
alone (the fallback orders them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage
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

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = [None] * len(candidates)
        ranked = sorted((i for i, c in enumerate(candidates) if c.score is not None), key=lambda i: -candidates[i].score)
        per_author: dict[int, int] = {}
        for i in ranked:
            c = candidates[i]
            k = per_author.get(c.author_id, 0)
            per_author[c.author_id] = k + 1
            m = diversity_multiplier(k, self.decay, self.floor)
            new = c.score * m
            exp = c.explanation.evolve(author_diversity_multiplier=m, final_score=new)
            out[i] = {"score": new, "explanation": exp}
        return out


def build(deps: Deps, decay: float = AUTHOR_DIVERSITY_DECAY, floor: float = AUTHOR_DIVERSITY_FLOOR):
    return AuthorDiversityScorer(decay, floor)
