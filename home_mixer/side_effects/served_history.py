"""Record the served posts (and the posts they repost) in the viewer's served history."""

from __future__ import annotations

from candidate_pipeline import BaseStage, SideEffectInput
from home_mixer.deps import Deps, FeedStateStore


class UpdateServedHistorySideEffect(BaseStage):
    def __init__(self, store: FeedStateStore) -> None:
        self.store = store

    async def run(self, inp: SideEffectInput) -> None:
        ids: list[int] = []
        for c in inp.selected:
            ids.extend(i for i in (c.tweet_id, c.retweeted_tweet_id) if i)
        await self.store.record_served(inp.query.viewer_id, ids, inp.query.now_ms)


def build(deps: Deps) -> UpdateServedHistorySideEffect:
    return UpdateServedHistorySideEffect(deps.require("feed_state"))  # type: ignore[arg-type]
