"""Out-of-network replies and reposts, and replies without known ancestors (X's OONRetweetReplyFilter).

A stranger's reply or repost is shown without the context that makes it make sense, and a
reply whose thread is unknown cannot be rendered as a conversation.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


def _rule(c: PostCandidate) -> str | None:
    if c.in_network is False and (c.is_reply or c.is_repost):
        return "out-of-network reply" if c.is_reply else "out-of-network repost"
    if c.is_reply and not c.ancestors:
        return "reply without ancestors"
    return None


class OONRetweetReplyFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        return split(candidates, _rule)


def build(deps: Deps) -> OONRetweetReplyFilter:
    return OONRetweetReplyFilter()
