"""Post-selection: at most one post per conversation, the highest-scored (X's DedupConversationFilter).

Conversation key = the smallest ancestor id (the thread root; snowflake ids grow with time) or
the original post id. Two replies in one thread would otherwise fill the feed with one topic.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate


def conversation_key(c: PostCandidate) -> int:
    return min(c.ancestors) if c.ancestors else c.original_tweet_id


def _score(c: PostCandidate) -> float:
    return float("-inf") if c.score is None else c.score


class DedupConversationFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        best: dict[int, int] = {}
        for i, c in enumerate(candidates):
            key = conversation_key(c)
            if key not in best or _score(c) > _score(candidates[best[key]]):
                best[key] = i  # strictly greater: ties keep the first
        winners = set(best.values())
        kept = [c for i, c in enumerate(candidates) if i in winners]
        removed = [c for i, c in enumerate(candidates) if i not in winners]
        reasons: list[str | None] = [f"same conversation {conversation_key(c)}" for c in removed]
        return FilterResult(kept, removed, reasons=reasons)


def build(deps: Deps) -> DedupConversationFilter:
    return DedupConversationFilter()
