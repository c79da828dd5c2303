"""Core post data from the post store (X's CoreData + Quote + MediaInfo + Subscription hydrators).

One lookup returns everything the Tweet Entity Service stand-in knows about a post, so the
four X hydrators collapse into one store call here. A post the store does not know stays
``core_data_hydrated=False`` and the CoreDataHydrationFilter drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from home_mixer.candidate_hydrators.base import StoreHydrator
from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from protos import events_pb2


def core_fields(post: events_pb2.PostCreated, current_author: int) -> dict[str, Any]:
    """Candidate fields from one ``PostCreated``; 0 in the proto means "none"."""
    reply_to = post.in_reply_to_post_id or None
    ancestors: list[int] = []
    if reply_to:
        ancestors.append(reply_to)
        if post.conversation_id and post.conversation_id != reply_to:
            ancestors.append(post.conversation_id)
    return {
        "author_id": current_author or post.author_id,
        "retweeted_tweet_id": post.source_post_id or None,
        "retweeted_user_id": post.source_user_id or None,
        "in_reply_to_tweet_id": reply_to,
        "quoted_tweet_id": post.quoted_post_id or None,
        "quoted_user_id": post.quoted_user_id or None,
        "conversation_id": post.conversation_id or None,
        "ancestors": ancestors,
        "text": post.text,
        "created_at_ms": post.created_at * 1000 if post.created_at else None,
        "language_code": post.language_code,
        "has_video": post.has_video or post.video_duration_ms > 0,
        "has_media": post.has_media,
        "min_video_duration_ms": post.video_duration_ms or None,
        "labels": list(post.labels),
        "subscription_author_id": post.subscription_author_id or None,
        "topic_id": post.topic_id or None,
        "core_data_hydrated": True,
    }


class CoreDataCandidateHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        posts = await self.reader.posts(sorted({c.tweet_id for c in candidates}))
        out: list[dict[str, Any] | None] = []
        for c in candidates:
            post = posts.get(c.tweet_id)
            out.append(None if post is None else core_fields(post, c.author_id))
        return out


def build(deps: Deps) -> CoreDataCandidateHydrator:
    return CoreDataCandidateHydrator(deps.require("user_state"))  # type: ignore[arg-type]
