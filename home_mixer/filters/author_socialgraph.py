"""Drop posts involving blocked or muted accounts (X's [Aug] AuthorSocialgraphFilter).

Removed when: the viewer blocks or mutes the author; the author blocks the viewer; the quoted
author blocks the viewer; the viewer blocks the quoted author; the viewer blocks the author of
the reposted post.
"""

from __future__ import annotations

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate


class AuthorSocialgraphFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        blocked, muted = query.blocked_user_ids, query.muted_user_ids

        def rule(c: PostCandidate) -> str | None:
            if c.author_id in blocked:
                return "author blocked by viewer"
            if c.author_id in muted:
                return "author muted by viewer"
            if c.author_blocks_viewer:
                return "author blocks viewer"
            if c.quoted_author_blocks_viewer:
                return "quoted author blocks viewer"
            if c.quoted_user_id and c.quoted_user_id in blocked:
                return "quoted author blocked by viewer"
            if c.retweeted_user_id and c.retweeted_user_id in blocked:
                return "reposted author blocked by viewer"
            return None

        return split(candidates, rule)


def build(deps: Deps) -> AuthorSocialgraphFilter:
    return AuthorSocialgraphFilter()
