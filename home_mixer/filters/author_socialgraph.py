"""Drop posts involving blocked or muted accounts (X's [Aug] AuthorSocialgraphFilter).

Removed when: the viewer blocks or mutes the author; the author blocks the viewer; the quoted
author blocks the viewer; the viewer blocks the quoted author; the viewer blocks the author of
the reposted post.
"""

from __future__ import annotations

from operator import attrgetter

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import keep_all, split
from home_mixer.models import FeedQuery, PostCandidate

_FIELDS = attrgetter("author_id", "quoted_user_id", "retweeted_user_id", "author_blocks_viewer",
                     "quoted_author_blocks_viewer")


class AuthorSocialgraphFilter(BaseStage):
    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        blocked, muted = query.blocked_user_ids, query.muted_user_ids
        # Nothing to remove (the usual case) is told by set operations over the columns: no
        # user of any candidate blocked or muted, no block flag set. Otherwise the rule per candidate.
        if not candidates:
            return keep_all(candidates)
        authors, quoted, reposted, blocks, quoted_blocks = zip(*map(_FIELDS, candidates), strict=True)
        if (blocked.isdisjoint(authors) and muted.isdisjoint(authors) and blocked.isdisjoint(quoted)
                and blocked.isdisjoint(reposted) and not any(blocks) and not any(quoted_blocks)):
            return keep_all(candidates)

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
