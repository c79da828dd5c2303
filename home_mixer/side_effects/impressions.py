"""Remember the client's seen ids in the viewer's impression Bloom filter.

Clients send the ids they rendered; storing them server-side means later requests filter them
even when a client forgets (or cannot carry) its history.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, SideEffectInput
from home_mixer.deps import Deps, FeedStateStore
from home_mixer.models import FeedQuery


class RecordImpressionsSideEffect(BaseStage):
    def __init__(self, store: FeedStateStore) -> None:
        self.store = store

    def enable(self, query: FeedQuery) -> bool:
        return bool(query.seen_ids)

    async def run(self, inp: SideEffectInput) -> None:
        await self.store.add_impressions(inp.query.viewer_id, list(inp.query.seen_ids))


def build(deps: Deps) -> RecordImpressionsSideEffect:
    return RecordImpressionsSideEffect(deps.require("feed_state"))  # type: ignore[arg-type]
