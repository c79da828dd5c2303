"""The viewer's impression Bloom filter (X's ImpressionBloomFilterQueryHydrator)."""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, FeedStateStore
from home_mixer.models import FeedQuery
from home_mixer.params import STORE_TIMEOUT_S


class ImpressionBloomFilterQueryHydrator(BaseStage):
    """Sets ``impression_bloom`` unless the request already carries one."""

    timeout_s = STORE_TIMEOUT_S

    def __init__(self, store: FeedStateStore) -> None:
        self.store = store

    def enable(self, query: FeedQuery) -> bool:
        return query.impression_bloom is None

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        return {"impression_bloom": await self.store.impression_bloom(query.viewer_id)}


def build(deps: Deps) -> ImpressionBloomFilterQueryHydrator:
    return ImpressionBloomFilterQueryHydrator(deps.require("feed_state"))  # type: ignore[arg-type]
