"""Core post data from the post store (X's CoreData + Quote + MediaInfo + Subscription hydrators).

One lookup returns everything the Tweet Entity Service stand-in knows about a post, so the
four X hydrators collapse into one store call here. A post the store does not know stays
``core_data_hydrated=False`` and the CoreDataHydrationFilter drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from candidate_pipeline import Columns
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


def _ancestors(reply_to: int | None, conversation_id: int) -> list[int]:
    if not reply_to:
        return []
    if conversation_id and conversation_id != reply_to:
        return [reply_to, conversation_id]
    return [reply_to]


def core_columns(posts: Sequence[events_pb2.PostCreated], current_authors: Sequence[int]) -> dict[str, list[Any]]:
    """:func:`core_fields` of many posts as columns: each proto field is read once per post
    in one comprehension, with no per-post dict (the same values, field by field)."""
    reply_to = [p.in_reply_to_post_id or None for p in posts]
    conversation = [p.conversation_id for p in posts]
    video_ms = [p.video_duration_ms for p in posts]
    created = [p.created_at for p in posts]
    return {
        "author_id": [a or p.author_id for p, a in zip(posts, current_authors, strict=True)],
        "retweeted_tweet_id": [p.source_post_id or None for p in posts],
        "retweeted_user_id": [p.source_user_id or None for p in posts],
        "in_reply_to_tweet_id": reply_to,
        "quoted_tweet_id": [p.quoted_post_id or None for p in posts],
        "quoted_user_id": [p.quoted_user_id or None for p in posts],
        "conversation_id": [c or None for c in conversation],
        "ancestors": [_ancestors(r, c) for r, c in zip(reply_to, conversation, strict=True)],
        "text": [p.text for p in posts],
        "created_at_ms": [t * 1000 if t else None for t in created],
        "language_code": [p.language_code for p in posts],
        "has_video": [p.has_video or v > 0 for p, v in zip(posts, video_ms, strict=True)],
        "has_media": [p.has_media for p in posts],
        "min_video_duration_ms": [v or None for v in video_ms],
        "labels": [list(p.labels) for p in posts],
        "subscription_author_id": [p.subscription_author_id or None for p in posts],
        "topic_id": [p.topic_id or None for p in posts],
        "core_data_hydrated": [True] * len(posts),
    }


class CoreDataCandidateHydrator(StoreHydrator):
    async def hydrate(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        ids = [c.tweet_id for c in candidates]
        posts = await self.reader.posts(sorted(set(ids)))
        rows = [i for i, p in enumerate(ids) if p in posts]
        found = [posts[ids[i]] for i in rows]
        return Columns(len(candidates), core_columns(found, [candidates[i].author_id for i in rows]), rows=rows)


def build(deps: Deps) -> CoreDataCandidateHydrator:
    return CoreDataCandidateHydrator(deps.require("user_state"))  # type: ignore[arg-type]
