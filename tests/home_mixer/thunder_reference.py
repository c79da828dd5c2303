"""A per-post statement of ThunderSource's mapping (X's), the reference the column-at-a-time
``candidates_from_columns`` is tested against."""

from __future__ import annotations

from home_mixer.models import PostCandidate
from protos import thunder_pb2


def candidate_from_light_post(post: thunder_pb2.LightPost, served_type: int) -> PostCandidate:
    """X's mapping: ``retweeted_tweet_id = source_post_id``; ancestors = parent, then the root
    conversation when it differs from the parent."""
    reply_to = post.in_reply_to_post_id or None
    ancestors: list[int] = []
    if reply_to:
        ancestors.append(reply_to)
        if post.conversation_id and post.conversation_id != reply_to:
            ancestors.append(post.conversation_id)
    return PostCandidate(
        tweet_id=post.post_id,
        author_id=post.author_id,
        served_type=served_type,
        retweeted_tweet_id=post.source_post_id or None,
        retweeted_user_id=post.source_user_id or None,
        in_reply_to_tweet_id=reply_to,
        conversation_id=post.conversation_id or None,
        ancestors=ancestors,
        has_video=post.has_video,
        created_at_ms=post.created_at * 1000 if post.created_at else None,
    )
