"""Drop candidates without an author or whose core data could not be hydrated.

X [Aug] drops ``author_id == 0``; [Jan] also dropped empty text. Here "not found in the post
store" is the equivalent of a failed Tweet Entity Service lookup (deleted or unknown post).
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


def _rule(c: PostCandidate) -> str | None:
    if not c.author_id:
        return "missing author_id"
    if not c.core_data_hydrated:
        return "core data missing"
    return None


class CoreDataHydrationFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        return split(candidates, _rule)


def build(deps: Deps) -> CoreDataHydrationFilter:
    return CoreDataHydrationFilter()
