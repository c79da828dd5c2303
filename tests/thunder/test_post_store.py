"""PostStore + retrieval against X's rules, in process (no broker)."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from protos import thunder_pb2
from tests.thunder import scenarios as s
from thunder.light_posts import LightPosts
from thunder.post_batch import PostBatch
from thunder.post_store import PostStore
from thunder.retrieval import InNetworkQuery, InNetworkRetriever
from thunder.wire import encode_response, to_protos


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _store(posts: list[dict], now: int = s.NOW, **kwargs) -> tuple[PostStore, InNetworkRetriever, Clock]:
    clock = Clock(now)
    store = PostStore(clock=clock, **kwargs)
    store.insert(PostBatch.of(posts))
    return store, InNetworkRetriever(store), clock


def _ids(retriever: InNetworkRetriever, *args, **kwargs) -> list[int]:
    return retriever.query(InNetworkQuery.build(*args, **kwargs)).post_ids


def test_x_reply_and_repost_scenario() -> None:
    _, retriever, _ = _store(s.reply_posts())
    assert sorted(_ids(retriever, s.REPLY_VIEWER, s.REPLY_FOLLOWING)) == s.REPLY_EXPECTED


def test_x_max_results_and_exclude_scenarios() -> None:
    _, retriever, _ = _store(s.ten_originals())
    assert _ids(retriever, 1, [100], max_results=5) == [10, 9, 8, 7, 6]
    assert _ids(retriever, 1, [100], [8, 9, 10], max_results=5) == [7, 6, 5, 4, 3]


def test_per_author_caps_and_scan_window() -> None:
    originals = [dict(post_id=i, author_id=7, created_at=s.NOW - 10_000 + i) for i in range(1, 121)]
    replies = [dict(post_id=1000 + i, author_id=7, created_at=s.NOW - 5_000 + i, in_reply_to_post_id=i,
                    in_reply_to_user_id=7, conversation_id=i) for i in range(1, 41)]
    _, retriever, _ = _store(originals + replies)
    got = _ids(retriever, 1, [7])
    assert [p for p in got if p < 1000] == list(range(120, 70, -1)), "50 newest originals"
    assert [p for p in got if p > 1000] == list(range(1040, 1010, -1)), "30 newest secondary"


def test_posting_list_cap_drops_oldest_from_store() -> None:
    posts = [dict(post_id=i, author_id=7, created_at=s.NOW - 1000 + i // 10) for i in range(1, 61)]
    store, retriever, _ = _store(posts, max_list_size=25)
    assert len(store) == 25 and store.list_sizes()["original"] == 25
    assert not store.contains(35) and store.contains(36)
    assert _ids(retriever, 1, [7]) == list(range(60, 35, -1))


def test_future_and_expired_posts_are_dropped_and_retention_trims() -> None:
    posts = [
        dict(post_id=1, author_id=3, created_at=s.NOW + 5),            # from the future
        dict(post_id=2, author_id=3, created_at=s.NOW - 172_801),      # older than 48 h
        dict(post_id=3, author_id=3, created_at=s.NOW - 100_000),
        dict(post_id=4, author_id=9, created_at=s.NOW - 10),
    ]
    store, retriever, clock = _store(posts)
    assert sorted(_ids(retriever, 1, [3, 9])) == [3, 4]
    clock.now += 80_000  # post 3 is now 180,000 s old
    assert store.trim(shard=9 % 5) == 0, "only the shard of author 9 is touched"
    assert store.trim(shard=3 % 5) == 1
    assert _ids(retriever, 1, [3, 9]) == [4]
    clock.now += 200_000
    assert store.trim_all() == 1 and len(store) == 0


def test_replayed_and_duplicated_events_change_nothing() -> None:
    store, retriever, _ = _store(s.reply_posts())
    before = (_ids(retriever, 1, s.REPLY_FOLLOWING), len(store), store.list_sizes())
    again = store.insert(PostBatch.of(s.reply_posts() + s.reply_posts()))
    assert again.inserted == 0 and again.duplicates == 14
    assert (_ids(retriever, 1, s.REPLY_FOLLOWING), len(store), store.list_sizes()) == before


def test_delete_before_create_keeps_late_create_out_and_tombstone_ages_out() -> None:
    clock = Clock(s.NOW)
    store = PostStore(clock=clock)
    store.delete([42], [s.NOW - 5])
    result = store.insert(PostBatch.of([dict(post_id=42, author_id=3, created_at=s.NOW - 10)]))
    assert result.tombstoned == 1 and not store.contains(42)
    clock.now += 172_800
    store.trim_all()
    assert store.tombstones == {}


def test_delete_after_create_removes_post_and_its_replies_lose_their_parent() -> None:
    store, retriever, _ = _store(s.reply_posts())
    assert store.delete([1001], [s.NOW]) == 1
    got = sorted(_ids(retriever, 1, s.REPLY_FOLLOWING))
    assert got == [1004], "1001 deleted; 1002 and 1003 now reply to a post not in the store"
    store.insert(PostBatch.of(s.reply_posts()))
    assert not store.contains(1001), "a replayed create of a deleted post stays deleted"


def test_video_requests_use_the_video_list() -> None:
    posts = [
        dict(post_id=1, author_id=2, created_at=s.NOW - 50, has_video=True),
        dict(post_id=2, author_id=3, created_at=s.NOW - 40, is_retweet=True, source_post_id=1, source_user_id=2),
        dict(post_id=3, author_id=3, created_at=s.NOW - 30, has_video=True, in_reply_to_post_id=1, in_reply_to_user_id=2),
        dict(post_id=4, author_id=2, created_at=s.NOW - 20),
    ]
    _, retriever, _ = _store(posts)
    assert _ids(retriever, 9, [2, 3], is_video_request=True) == [2, 1], "replies are never video-eligible"


def test_compaction_keeps_answers() -> None:
    rng = np.random.default_rng(1)
    posts = [dict(post_id=i, author_id=int(rng.integers(1, 40)), created_at=s.NOW - 5000 + i) for i in range(1, 3001)]
    store, retriever, _ = _store(posts)
    store.delete(list(range(1, 3001, 3)), [s.NOW] * 1000)
    following = list(range(1, 40))
    query = InNetworkQuery.build(1, following, list(range(2, 400, 7)))
    before = retriever.query(query)
    store.compact()
    assert store.table.n == len(store) == 2000
    after = retriever.query(query)
    assert after.post_ids == before.post_ids and after.wire == before.wire


def test_wire_encoding_equals_protobuf_serialization() -> None:
    _, retriever, _ = _store(s.reply_posts())
    posts = retriever.query(InNetworkQuery.build(1, s.REPLY_FOLLOWING))
    expected = thunder_pb2.GetInNetworkPostsResponse(posts=[
        thunder_pb2.LightPost(
            post_id=p["post_id"], author_id=p["author_id"], created_at=p["created_at"],
            in_reply_to_post_id=p["in_reply_to_post_id"], in_reply_to_user_id=p["in_reply_to_user_id"],
            is_reply=p["is_reply"], is_retweet=p["is_retweet"], conversation_id=p["conversation_id"],
            source_post_id=p["source_post_id"], source_user_id=p["source_user_id"])
        for pid in posts.post_ids for p in s.reply_posts() if p["post_id"] == pid
    ])
    assert encode_response(posts) == expected.SerializeToString(), "bytes encoded at insert time"
    recomputed = LightPosts(posts.columns, posts.flags)
    assert encode_response(recomputed) == expected.SerializeToString(), "bytes encoded from columns"

    assert [p.post_id for p in to_protos(posts)] == posts.post_ids


def test_memory_per_post_is_compact() -> None:
    rng = np.random.default_rng(5)
    n = 50_000
    posts = PostBatch(
        {"post_id": np.arange(1, n + 1) * 7919, "author_id": rng.integers(1, 5_000, n),
         "created_at": s.NOW - rng.integers(1, 100_000, n), "in_reply_to_post_id": np.zeros(n, np.int64),
         "in_reply_to_user_id": np.zeros(n, np.int64), "source_post_id": np.zeros(n, np.int64),
         "source_user_id": np.zeros(n, np.int64), "conversation_id": np.zeros(n, np.int64)},
        np.zeros(n, np.uint8),
    )
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = PostStore(clock=lambda: s.NOW)
    for chunk in np.array_split(np.arange(n), 25):
        store.insert(posts.select(chunk))
    gc.collect()
    allocated = tracemalloc.get_traced_memory()[0] - base  # everything, not just what nbytes() counts
    tracemalloc.stop()
    assert len(store) == n
    assert store.nbytes() / n < 300
    assert allocated / n < 300, f"{allocated / n:.0f} bytes per post allocated"


def test_reply_parent_hints_follow_late_dead_and_reinserted_parents() -> None:
    reply = dict(post_id=50, author_id=2, created_at=s.NOW - 5, in_reply_to_post_id=40, in_reply_to_user_id=1,
                 conversation_id=40)
    parent = dict(post_id=40, author_id=1, created_at=s.NOW - 500)
    store, retriever, _ = _store([reply], max_list_size=2)
    assert _ids(retriever, 9, [2]) == [], "parent not in the store yet"
    store.insert(PostBatch.of([parent]))
    assert _ids(retriever, 9, [2]) == [50], "the parent arrived after its reply"
    # two newer originals push the parent out of author 1's list (cap 2): the hint now points at a dead row
    store.insert(PostBatch.of([dict(post_id=41 + i, author_id=1, created_at=s.NOW - 400 + i) for i in range(2)]))
    assert not store.contains(40) and _ids(retriever, 9, [2]) == []
    store.trim_all()
    store.compact()
    assert _ids(retriever, 9, [2]) == [], "compaction drops the dead hint"
    store.insert(PostBatch.of([parent]))  # a replay re-inserts it under a new row
    assert store.contains(40) and _ids(retriever, 9, [2]) == [50], "the hint is refreshed from the index"


def test_query_input_drops_blocked_authors_dedups_and_truncates() -> None:
    from thunder import constants as c

    blocked = sorted(c.BLOCKED_AUTHOR_IDS)
    q = InNetworkQuery.build(1, [5, blocked[0], 3, 5, blocked[2]], [9, 9, 2])
    assert q.following_ids.tolist() == [3, 5] and q.exclude_ids.tolist() == [2, 9]
    assert InNetworkQuery.build(1, [4, 2]).following_ids.tolist() == [2, 4]
    many = InNetworkQuery.build(1, range(1, c.MAX_INPUT_LIST_SIZE + 50))
    assert len(many.following_ids) == c.MAX_INPUT_LIST_SIZE, "X truncates inputs to 10,000 ids"


def test_absent_parent_hints_skip_lookups_until_the_next_insert() -> None:
    from thunder.post_table import HINT_GENERATIONS

    reply = dict(post_id=50, author_id=2, created_at=s.NOW - 5, in_reply_to_post_id=40, in_reply_to_user_id=1,
                 conversation_id=40)
    store, retriever, _ = _store([reply])
    lookups: list[int] = []
    get = store.index.get
    store.index.get = lambda keys: (lookups.append(len(keys)), get(keys))[1]  # type: ignore[method-assign]
    assert _ids(retriever, 9, [2]) == [] and _ids(retriever, 9, [2]) == []
    assert lookups == [], "the parent was absent at the last insert: no lookup"
    store.insert(PostBatch.of([dict(post_id=7, author_id=3, created_at=s.NOW - 50)]))  # unrelated
    lookups.clear()
    assert _ids(retriever, 9, [2]) == [] and lookups == [1], "looked up again after an insert"
    assert _ids(retriever, 9, [2]) == [] and lookups == [1], "and not after that"
    store.insert(PostBatch.of([dict(post_id=40, author_id=1, created_at=s.NOW - 500)]))
    assert _ids(retriever, 9, [2]) == [50]
    # generations wrap: "absent" hints are forgotten rather than mistaken for a later generation
    store.insert(PostBatch.of([dict(post_id=51, author_id=2, created_at=s.NOW - 4, in_reply_to_post_id=99,
                                    in_reply_to_user_id=1, conversation_id=99)]))
    row_51 = int(store.rows_of(np.array([51]))[0])
    assert store.table.parent_row[row_51] < -1
    store.generation = HINT_GENERATIONS - 1
    store.insert(PostBatch.of([dict(post_id=8, author_id=3, created_at=s.NOW - 40)]))
    assert store.generation % HINT_GENERATIONS == 0 and store.table.parent_row[row_51] == -1


def test_a_reply_to_another_shards_post_keeps_looking_in_the_foreign_directory() -> None:
    reply = dict(post_id=50, author_id=2, created_at=s.NOW - 5, in_reply_to_post_id=40, in_reply_to_user_id=1,
                 conversation_id=40)
    store, retriever, _ = _store([])
    store.insert_foreign(PostBatch.of([dict(post_id=40, author_id=1, created_at=s.NOW - 500)]))
    store.insert(PostBatch.of([reply]))
    assert _ids(retriever, 9, [2]) == [50] and _ids(retriever, 9, [2]) == [50], "the parent is another shard's"
    late = dict(reply, post_id=51, in_reply_to_post_id=41, conversation_id=41)
    store.insert(PostBatch.of([late]))
    assert _ids(retriever, 9, [2]) == [50]
    store.insert_foreign(PostBatch.of([dict(post_id=41, author_id=1, created_at=s.NOW - 400)]))
    assert _ids(retriever, 9, [2]) == [51, 50], "a foreign parent that arrives later counts too"
