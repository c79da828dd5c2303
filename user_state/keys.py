"""The Redis key schema for user state. One place, so the ingest that writes and the pipeline that
reads can never disagree.

| key | type | written by | content | TTL |
|---|---|---|---|---|
| ``us:{user}:events`` | LIST | user-state ingest | EngagementEvent bytes, oldest first / newest last, capped at ``USER_STATE_EVENTS_CAP`` (4096) | 30 days, refreshed on write |
| ``us:{user}:following`` | SET | ingest (FOLLOW / UNFOLLOW) | ids the user follows | none |
| ``us:{user}:followers`` | SET | ingest (reverse of following) | ids following the user (author-follows-viewer checks) | none |
| ``us:{user}:blocked`` | SET | ingest (BLOCK / UNBLOCK) | blocked user ids | none |
| ``us:{user}:muted`` | SET | ingest (MUTE / UNMUTE) | muted user ids | none |
| ``us:{user}:muted_kw`` | SET | ingest (MUTE_KEYWORD / UNMUTE_KEYWORD) | muted keywords, stripped + lower-case | none |
| ``us:{user}:served`` | LIST | home-mixer side effect | served post ids with time | home-mixer's |
| ``us:{user}:seen_bloom`` | STRING | home-mixer | impression bloom filter bytes | home-mixer's |
| ``scored-posts_{user}`` | STRING | home-mixer | scored-candidate cache (zstd JSON) | 180 s |
| ``post:{post}`` | STRING | ingest (PostCreated) | PostCreated bytes (core data) | ``USER_STATE_POST_TTL_S`` (3 days = retention 2 d + margin) |
| ``post:{post}:deleted`` | STRING | ingest (PostDeleted) | ``1``; a later PostCreated for the id is ignored | post TTL |
| ``post:{post}:counts`` | HASH | ingest (engagements) | action name (``impression``, ``favorite``, ``reply``, ...) -> count | post TTL, refreshed on write |
| ``author:{author}:stats`` | HASH | ingest | ``followers`` (net follows), ``impressions`` | none |
| ``dedup:user_state.{EventType}:{event_id}`` | STRING | ingest | applied-once marker, set by the same Lua script that applies the event | ``USER_STATE_DEDUP_TTL_S`` (7 days) |

Action names are those of ``events.world.actions`` (unknown actions: the enum name in lower case).
Under Redis Cluster these keys would need hash tags per user to keep each script single-slot;
that deployment is designed only.
"""

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
