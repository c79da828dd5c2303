"""Posts served to the viewer in the last 10 minutes (X's ServedHistoryQueryHydrator).

Kept in ``served_history_ids``, separate from the client-sent ``served_ids``, so losing Redis
loses only the history: the request's own list still filters.
"""

from __future__ import annotations

from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, FeedStateStore
from home_mixer.models import FeedQuery
from home_mixer.params import EXCLUDE_SERVED_MAX_IDS, EXCLUDE_SERVED_WINDOW_MS, STORE_TIMEOUT_S


class ServedHistoryQueryHydrator(BaseStage):
    timeout_s = STORE_TIMEOUT_S

    def __init__(
        self, store: FeedStateStore, window_ms: int = EXCLUDE_SERVED_WINDOW_MS, max_ids: int = EXCLUDE_SERVED_MAX_IDS
    ) -> None:
        self.store = store
        self.window_ms = window_ms
        self.max_ids = max_ids

    async def hydrate(self, query: FeedQuery) -> dict[str, Any]:
        ids = await self.store.served_ids(query.viewer_id, query.now_ms, self.window_ms, self.max_ids)
        return {"served_history_ids": set(ids)}


def build(deps: Deps, window_ms: int = EXCLUDE_SERVED_WINDOW_MS, max_ids: int = EXCLUDE_SERVED_MAX_IDS):
    return ServedHistoryQueryHydrator(deps.require("feed_state"), window_ms, max_ids)  # type: ignore[arg-type]
