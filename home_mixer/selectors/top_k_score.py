"""Registry factory for the framework's ``TopKScoreSelector`` with X's K = 50."""

from __future__ import annotations

from candidate_pipeline import TopKScoreSelector
from home_mixer.deps import Deps
from home_mixer.params import TOP_K_CANDIDATES_TO_SELECT


def build(deps: Deps, k: int = TOP_K_CANDIDATES_TO_SELECT) -> TopKScoreSelector:
    return TopKScoreSelector(k)
