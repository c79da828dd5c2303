"""An example third-party stage: boost posts of chosen topics.

Everything a plugin needs: a stage class with ``name``/``enable`` (here from ``BaseStage``) and
the method of its kind (``score``), a factory ``factory(deps, **params)``, and a mapping of
names to factories exposed through the ``candidate_pipeline.stages`` entry point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import BaseStage


class TopicBoostScorer(BaseStage):
    """``score *= boost`` for posts whose ``topic_id`` is one of ``topic_ids``."""

    def __init__(self, topic_ids: Sequence[int], boost: float = 1.5) -> None:
        if boost < 0:
            raise ValueError(f"boost must be >= 0, got {boost}")
        self.topic_ids = frozenset(int(t) for t in topic_ids)
        self.boost = float(boost)

    async def score(self, query: Any, candidates: Sequence[Any]) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = []
        for c in candidates:
            if c.score is None or c.topic_id not in self.topic_ids:
                out.append(None)
                continue
            new = c.score * self.boost if c.score > 0 else c.score  # never promote a fallback score
            out.append({"score": new, "explanation": c.explanation.with_multiplier("topic_boost", self.boost, new)})
        return out


def build(deps: Any, topic_ids: Sequence[int] = (), boost: float = 1.5) -> TopicBoostScorer:
    return TopicBoostScorer(topic_ids, boost)


STAGES = {"TopicBoostScorer": build}
