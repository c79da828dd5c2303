"""The vectorised, cut-off query must return exactly what X's per-author loop returns.

The reference below is X's loop written plainly (reference §3.4). The stores are random and
adversarial for the early cut-off: skewed authors, late (out-of-order) arrivals, deletes,
excluded ids, reposts of the viewer's posts, replies to missing posts and to root replies,
small list caps that pop entries, and max_results from tiny to larger than everything.
"""

from __future__ import annotations

import numpy as np
import pytest

from thunder import constants as c
from thunder.post_batch import PostBatch
from thunder.post_store import KIND, PostStore, list_ids
from thunder.post_table import ALIVE, HAS_VIDEO, IS_REPLY, IS_RETWEET
from thunder.retrieval import InNetworkQuery, InNetworkRetriever

NOW = 1_750_000_000


def x_loop(store: PostStore, q: InNetworkQuery) -> list[int]:
    table = store.table
    col = {name: table[name] for name in ("post_id", "created_at", "source_user_id", "source_post_id",
                                         "in_reply_to_post_id", "in_reply_to_user_id", "conversation_id")}
    excluded = {int(p) for p in q.exclude_ids}
    following = {int(a) for a in q.following_ids}
    rules = [("video", c.MAX_VIDEO_POSTS_PER_AUTHOR)] if q.is_video_request else [
        ("original", c.MAX_ORIGINAL_POSTS_PER_AUTHOR), ("secondary", c.MAX_REPLY_POSTS_PER_AUTHOR)]

    def stored(post_id: int) -> int | None:
        row = int(store.rows_of(np.array([post_id]))[0])
        return row if row >= 0 else None

    out: list[int] = []
    for author in sorted(following):
        dense = store.dense_authors(np.array([author]))
        if len(dense) == 0:
            continue
        for name, cap in rules:
            rows, _ = store.lists.all_entries(list_ids(dense, KIND[name]))
            kept = looked = 0
            for row in reversed(rows.tolist()):
                if int(col["post_id"][row]) in excluded:
                    continue
                if looked >= c.MAX_TINY_POSTS_PER_USER_SCAN:
                    break
                looked += 1
                flags = int(table.flags[row])
                if not flags & ALIVE:
                    continue
                if name != "original" and flags & IS_RETWEET and int(col["source_user_id"][row]) == q.user_id:
                    continue
                if name == "secondary" and flags & IS_REPLY:
                    parent = stored(int(col["in_reply_to_post_id"][row]))
                    if parent is None:
                        continue
                    pflags = int(table.flags[parent])
                    original = not pflags & (IS_REPLY | IS_RETWEET)
                    to_root_reply = (int(col["in_reply_to_post_id"][parent]) != 0
                                     and int(col["in_reply_to_post_id"][parent]) == int(col["conversation_id"][row])
                                     and int(col["in_reply_to_user_id"][row]) in following)
                    if not (original or to_root_reply):
                        continue
                if name == "video" and flags & IS_RETWEET and not flags & HAS_VIDEO:
                    source = stored(int(col["source_post_id"][row]))
                    if source is None or not (int(table.flags[source]) & HAS_VIDEO) or int(table.flags[source]) & IS_REPLY:
                        continue
                out.append(row)
                kept += 1
                if kept >= cap:
                    break
    out.sort(key=lambda r: (int(col["created_at"][r]), int(col["post_id"][r])), reverse=True)
    return [int(col["post_id"][r]) for r in out[: q.max_results]]


def random_store(seed: int, n_posts: int = 6_000, n_authors: int = 60, tick: int = 1) -> tuple[PostStore, np.ndarray]:
    """``tick`` > 1 rounds created_at so many posts share a second (ties break by post id)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_authors + 1) ** 1.1
    weights /= weights.sum()
    author = rng.choice(n_authors, n_posts, p=weights) + 1
    created = np.sort(NOW - rng.integers(1, 20_000 // tick, n_posts) * tick)
    post_id = np.arange(1, n_posts + 1) * 13
    earlier = (rng.random(n_posts) * np.arange(n_posts)).astype(np.int64)
    kind = rng.random(n_posts)
    reply = (kind > 0.55) & (kind < 0.85) & (np.arange(n_posts) > 0)
    repost = (kind >= 0.85) & (np.arange(n_posts) > 0)
    parent = np.where(rng.random(n_posts) < 0.1, 7, post_id[earlier])  # 7 is never stored
    cols = {
        "post_id": post_id, "author_id": author, "created_at": created,
        "in_reply_to_post_id": np.where(reply, parent, 0),
        "in_reply_to_user_id": np.where(reply, author[earlier], 0),
        "source_post_id": np.where(repost, post_id[earlier], 0),
        "source_user_id": np.where(repost, author[earlier], 0),
        # replies mostly to the root's conversation, so "reply to a direct reply of the root" occurs
        "conversation_id": np.where(reply, np.where(rng.random(n_posts) < 0.5, parent, post_id[earlier[earlier]]), post_id),
    }
    flags = (repost * IS_RETWEET | reply * IS_REPLY | (rng.random(n_posts) < 0.2) * HAS_VIDEO).astype(np.uint8)
    batch = PostBatch(cols, flags)
    store = PostStore(clock=lambda: NOW, max_list_size=150)
    # batches arrive mostly in time order, but each also carries late posts from further back
    order = np.argsort(np.arange(n_posts) + rng.normal(0, 300, n_posts))
    for chunk in np.array_split(order, 40):
        store.insert(batch.select(chunk))
    store.delete(rng.choice(post_id, n_posts // 20, replace=False).tolist(), [NOW] * (n_posts // 20))
    return store, post_id


@pytest.mark.parametrize(("seed", "tick"), [(0, 1), (1, 1), (2, 1), (3, 200)])
def test_cut_off_query_equals_x_loop(seed: int, tick: int) -> None:
    store, post_ids = random_store(seed, tick=tick)
    retriever = InNetworkRetriever(store)
    rng = np.random.default_rng(100 + seed)
    for i in range(24):
        viewer = int(rng.integers(1, 60))
        following = rng.choice(np.arange(1, 61), int(rng.integers(1, 60)), replace=False)
        live = post_ids[store.rows_of(post_ids) >= 0]
        exclude = rng.choice(live, int(rng.integers(0, 200)), replace=False)
        max_results = int([1, 7, 60, 300, 1_200, 10_000][i % 6])
        q = InNetworkQuery.build(viewer, following, exclude, max_results, is_video_request=i % 5 == 4)
        assert retriever.query(q).post_ids == x_loop(store, q), f"query {i}"
