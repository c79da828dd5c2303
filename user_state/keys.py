"""The Redis key schema for user state (documented in the README). One place, so the ingest that
writes and the pipeline that reads can never disagree."""

from __future__ import annotations

# Per user
def user_events(user_id: int) -> str:
    """LIST of EngagementEvent protobuf bytes, oldest first / newest last, capped."""
    return f"us:{user_id}:events"


def following(user_id: int) -> str:
    """SET of user ids this user follows."""
    return f"us:{user_id}:following"


def followers(user_id: int) -> str:
    """SET of user ids following this user (reverse index, for author_follows_viewer)."""
    return f"us:{user_id}:followers"


def blocked(user_id: int) -> str:
    return f"us:{user_id}:blocked"


def muted(user_id: int) -> str:
    return f"us:{user_id}:muted"


def muted_keywords(user_id: int) -> str:
    return f"us:{user_id}:muted_kw"


def served_history(user_id: int) -> str:
    """LIST of served post ids with time (written by home-mixer's side effect)."""
    return f"us:{user_id}:served"


def impression_bloom(user_id: int) -> str:
    """Bytes of the viewer's impression bloom filter (home-mixer)."""
    return f"us:{user_id}:seen_bloom"


def scored_posts_cache(user_id: int) -> str:
    """X's scored-candidate cache key (zstd JSON, TTL 180 s)."""
    return f"scored-posts_{user_id}"


# Per post / author
def post_core(post_id: int) -> str:
    """PostCreated protobuf bytes (the Tweet Entity Service stand-in)."""
    return f"post:{post_id}"


def post_deleted(post_id: int) -> str:
    return f"post:{post_id}:deleted"


def post_counts(post_id: int) -> str:
    """HASH of engagement counts: fav, reply, repost, quote, view, bookmark, ..."""
    return f"post:{post_id}:counts"


def author_stats(author_id: int) -> str:
    """HASH: followers, impressions."""
    return f"author:{author_id}:stats"


def dedup(consumer: str, event_id: str) -> str:
    """Marker that ``consumer`` already applied ``event_id`` (idempotency)."""
    return f"dedup:{consumer}:{event_id}"
