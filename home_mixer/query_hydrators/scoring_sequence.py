"""The viewer's recent engagement sequence for the ranker (X's ScoringSequenceQueryHydrator)."""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, UserStateReader
from home_mixer.models import FeedQuery
from home_mixer.params import MAX_SEQ_LENGTH_SCORING


class ScoringSequenceQueryHydrator(BaseStage):
    """Sets ``scoring_sequence`` (max 1024 actions, oldest first)."""

    def __init__(self, reader: UserStateReader, max_len: int = MAX_SEQ_LENGTH_SCORING) -> None:
        self.reader = reader
        self.max_len = max_len

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"scoring_sequence": await self.reader.action_sequence(query.viewer_id, self.max_len)}


def build(deps: Deps, max_len: int = MAX_SEQ_LENGTH_SCORING) -> ScoringSequenceQueryHydrator:
    return ScoringSequenceQueryHydrator(deps.require("user_state"), max_len)  # type: ignore[arg-type]
