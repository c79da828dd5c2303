"""Snowflake-style post ids, as X uses: ``(ms since the Twitter epoch) << 22 | worker/sequence``.

The age filter derives a post's age from its id alone (reference §7), so producers must mint ids
this way. ``make_snowflake`` is deterministic given (timestamp, sequence) so synthetic worlds are
reproducible.
"""

from __future__ import annotations

TWITTER_EPOCH_MS = 1288834974657
_SEQUENCE_BITS = 22
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1


def make_snowflake(timestamp_ms: int, sequence: int = 0) -> int:
    """Id for a post created at ``timestamp_ms``; ``sequence`` disambiguates posts in one ms."""
    if timestamp_ms < TWITTER_EPOCH_MS:
        raise ValueError(f"timestamp {timestamp_ms} is before the snowflake epoch")
    return ((timestamp_ms - TWITTER_EPOCH_MS) << _SEQUENCE_BITS) | (sequence & _SEQUENCE_MASK)


def snowflake_timestamp_ms(post_id: int) -> int | None:
    """Creation time in epoch ms, or None when the id is not a plausible snowflake."""
    if post_id <= 0:
        return None
    return (post_id >> _SEQUENCE_BITS) + TWITTER_EPOCH_MS


def snowflake_age_ms(post_id: int, now_ms: int) -> int | None:
    """Age of the post at ``now_ms``; None when not computable (the age filter then drops it)."""
    ts = snowflake_timestamp_ms(post_id)
    return None if ts is None else now_ms - ts
