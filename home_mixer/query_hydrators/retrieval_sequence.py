"""The viewer's engagement sequence for the retrieval model (X's RetrievalSequenceQueryHydrator).

A separate stage (and field) from the scoring sequence because X tunes the two lengths
independently; skipped when retrieval will not run (in-network-only requests).
"""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, UserStateReader
from home_mixer.models import FeedQuery
from home_mixer.params import MAX_SEQ_LENGTH_RETRIEVAL


class RetrievalSequenceQueryHydrator(BaseStage):
    def __init__(self, reader: UserStateReader, max_len: int = MAX_SEQ_LENGTH_RETRIEVAL) -> None:
        self.reader = reader
        self.max_len = max_len

    def enable(self, query: FeedQuery) -> bool:
        return not query.in_network_only

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"retrieval_sequence": await self.reader.action_sequence(query.viewer_id, self.max_len)}


def build(deps: Deps, max_len: int = MAX_SEQ_LENGTH_RETRIEVAL) -> RetrievalSequenceQueryHydrator:
    return RetrievalSequenceQueryHydrator(deps.require("user_state"), max_len)  # type: ignore[arg-type]
