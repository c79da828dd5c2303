"""Shared bits of the candidate hydrators that read the user-state store."""

from __future__ import annotations

from candidate_pipeline import BaseStage
from home_mixer.deps import UserStateReader
from home_mixer.models import FeedQuery


class StoreHydrator(BaseStage):
    """A hydrator over the user-state store; cached candidates are already hydrated, so skip them."""

    def __init__(self, reader: UserStateReader) -> None:
        self.reader = reader

    def enable(self, query: FeedQuery) -> bool:
        return not query.has_cached_posts
