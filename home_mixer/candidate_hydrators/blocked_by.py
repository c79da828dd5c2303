"""Does the author (or the quoted author) block the viewer? (X's BlockedByHydrator + QuoteHydrator part).

Hydrators run concurrently on one snapshot, so this stage cannot see the quoted author that
the core-data hydrator is fetching at the same time: it reads the quoted author from the post
store itself (one batched lookup, while the authors are already being checked). A reader with ``blockers_of_viewer_among`` answers "which of
these users block the viewer?" in one round trip (home-mixer's Redis reader pipelines the
membership checks); otherwise each distinct author's block list is read, a bounded number at a
time, which is the cost of having no reverse "blocked-by" index in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from operator import attrgetter

from candidate_pipeline import Columns
from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate

MAX_CONCURRENT_READS = 32
"""Bounded so a 2,000-candidate request cannot exhaust the store's connection pool."""


class BlockedByHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        ids = [c.tweet_id for c in candidates]
        authors = [c.author_id for c in candidates]
        checked = sorted(set(authors) - {0})
        # The authors' check does not wait for the post store (only quoted authors need it): both
        # go out at once, and the quoted authors not already checked (usually none) follow.
        fetches = (asyncio.ensure_future(self.reader.posts(sorted(set(ids)))),
                   asyncio.ensure_future(self._blockers(query.viewer_id, checked)))
        try:
            posts, blockers = await asyncio.gather(*fetches)
        finally:
            for fetch in fetches:
                fetch.cancel()  # a no-op once done; stops the other when one failed
        quoted_in_store = dict(zip(posts, map(attrgetter("quoted_user_id"), posts.values()), strict=True))
        quoted = [c.quoted_user_id or quoted_in_store.get(i, 0) for c, i in zip(candidates, ids, strict=True)]
        unchecked = sorted(set(quoted) - set(checked) - {0})
        if unchecked:
            blockers |= await self._blockers(query.viewer_id, unchecked)
        return Columns(
            len(candidates),
            {
                "author_blocks_viewer": list(map(blockers.__contains__, authors)),
                "quoted_author_blocks_viewer": list(map(blockers.__contains__, quoted)),
            },
        )

    async def _blockers(self, viewer_id: int, users: Sequence[int]) -> set[int]:
        """The users among ``users`` who block the viewer."""
        if not users:
            return set()
        batched = getattr(self.reader, "blockers_of_viewer_among", None)
        if batched is not None:
            return set(await batched(viewer_id, users))
        limit = asyncio.Semaphore(MAX_CONCURRENT_READS)

        async def blocked(u: int) -> set[int]:
            async with limit:
                return await self.reader.blocked(u)

        lists = await asyncio.gather(*(blocked(u) for u in users))
        return {u for u, b in zip(users, lists, strict=True) if viewer_id in b}


def build(deps: Deps) -> BlockedByHydrator:
    return BlockedByHydrator(deps.require("user_state"))  # type: ignore[arg-type]
