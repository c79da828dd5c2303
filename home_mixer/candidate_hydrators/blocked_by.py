"""Does the author (or the quoted author) block the viewer? (X's BlockedByHydrator + QuoteHydrator part).

Hydrators run concurrently on one snapshot, so this stage cannot see the quoted author that
the core-data hydrator is fetching at the same time: it reads the quoted author from the post
store itself (one batched lookup). A reader with ``blockers_of_viewer_among`` answers "which of
these users block the viewer?" in one round trip (home-mixer's Redis reader pipelines the
membership checks); otherwise each distinct author's block list is read, a bounded number at a
time, which is the cost of having no reverse "blocked-by" index in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from candidate_pipeline import Columns
from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate

MAX_CONCURRENT_READS = 32
"""Bounded so a 2,000-candidate request cannot exhaust the store's connection pool."""


class BlockedByHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        posts = await self.reader.posts(sorted({c.tweet_id for c in candidates}))
        quoted = {
            c.tweet_id: c.quoted_user_id or (posts[c.tweet_id].quoted_user_id if c.tweet_id in posts else 0)
            for c in candidates
        }
        users = sorted({u for c in candidates for u in (c.author_id, quoted[c.tweet_id]) if u})
        batched = getattr(self.reader, "blockers_of_viewer_among", None)
        if batched is not None:
            blockers = set(await batched(query.viewer_id, users))
        else:
            limit = asyncio.Semaphore(MAX_CONCURRENT_READS)

            async def blocked(u: int) -> set[int]:
                async with limit:
                    return await self.reader.blocked(u)

            lists = await asyncio.gather(*(blocked(u) for u in users))
            blockers = {u for u, b in zip(users, lists, strict=True) if query.viewer_id in b}
        return Columns(
            len(candidates),
            {
                "author_blocks_viewer": [c.author_id in blockers for c in candidates],
                "quoted_author_blocks_viewer": [quoted[c.tweet_id] in blockers for c in candidates],
            },
        )


def build(deps: Deps) -> BlockedByHydrator:
    return BlockedByHydrator(deps.require("user_state"))  # type: ignore[arg-type]
