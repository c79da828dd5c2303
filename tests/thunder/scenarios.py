"""X's own Thunder store scenarios (reference §3.4), shared by the in-process and end-to-end tests."""

from __future__ import annotations

NOW = 1_750_000_000

# (post_id, author, in_reply_to_post, in_reply_to_user, source_post, source_user, conversation)
_REPLY_TABLE = [
    (1000, 10, 0, 0, 0, 0, 1000),
    (1001, 2, 1000, 10, 0, 0, 1000),
    (1002, 3, 1001, 2, 0, 0, 1000),
    (1003, 4, 1001, 99, 0, 0, 1000),
    (1004, 5, 1000, 10, 0, 0, 1000),
    (1005, 2, 0, 0, 5000, 1, 1005),
    (1006, 3, 1002, 2, 0, 0, 1000),
]
REPLY_VIEWER = 1
REPLY_FOLLOWING = [2, 3, 4, 5]
REPLY_EXPECTED = [1001, 1002, 1004]


def reply_posts(now: int = NOW) -> list[dict]:
    """All created a few seconds ago, in id order (newer ids are newer posts)."""
    posts = []
    for i, (pid, author, rp, ru, sp, su, conv) in enumerate(_REPLY_TABLE):
        posts.append(dict(
            post_id=pid, author_id=author, created_at=now - 60 + i,
            in_reply_to_post_id=rp, in_reply_to_user_id=ru, is_reply=bool(rp),
            source_post_id=sp, source_user_id=su, is_retweet=bool(sp), conversation_id=conv,
        ))
    return posts


def ten_originals(now: int = NOW, author: int = 100) -> list[dict]:
    """Ids 1..10 by one author, id i created i seconds after the first."""
    return [dict(post_id=i, author_id=author, created_at=now - 100 + i, conversation_id=i) for i in range(1, 11)]
