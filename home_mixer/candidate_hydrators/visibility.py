"""Post-selection: the visibility verdict of each selected post (X's VFCandidateHydrator).

Runs after selection, as X, so the rule set is evaluated for the ~50 selected posts only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.visibility_rules import evaluate


class VisibilityHydrator(BaseStage):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any]]:
        out = []
        for c in candidates:
            verdict = evaluate(c.labels, c.author_labels, bool(c.in_network))
            out.append({"visibility_action": verdict.action, "visibility_reason": verdict.reason})
        return out


def build(deps: Deps) -> VisibilityHydrator:
    return VisibilityHydrator()
