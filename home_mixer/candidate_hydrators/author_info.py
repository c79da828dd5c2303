"""Author follower counts and account labels (X's GizmoduckCandidateHydrator).

Follower counts drive the cold-start boost (authors with <= 1,000 followers); account labels
feed the post-selection visibility rules. Stats hash fields: ``followers`` and optionally
``labels`` (comma-separated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


def _labels(value: object) -> list[str]:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return [x.strip() for x in value.split(",") if x.strip()]
    if isinstance(value, list | tuple | set):
        return [str(x) for x in value]
    return []


def stat(stats: object, name: str) -> object:
    """One author statistic from a mapping or an object (the store returns ``AuthorStats``)."""
    return stats.get(name) if isinstance(stats, Mapping) else getattr(stats, name, None)


class AuthorInfoCandidateHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        stats = await self.reader.author_stats(sorted({c.author_id for c in candidates if c.author_id}))
        out: list[dict[str, Any] | None] = []
        for c in candidates:
            s = stats.get(c.author_id)
            if s is None:
                out.append(None)
                continue
            out.append({"author_followers_count": int(stat(s, "followers") or 0), "author_labels": _labels(stat(s, "labels"))})
        return out


def build(deps: Deps) -> AuthorInfoCandidateHydrator:
    return AuthorInfoCandidateHydrator(deps.require("user_state"))  # type: ignore[arg-type]
