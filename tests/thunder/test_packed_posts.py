"""Packed light posts: columns survive the wire exactly, bad columns are refused clearly, and
the sharded merge of columns is the merge of messages."""

from __future__ import annotations

import numpy as np
import pytest

from protos import thunder_pb2
from thunder.client import merge_by_recency, merge_columns
from thunder.light_posts import LightPosts
from thunder.packed_posts import PackedPostsError, pack_posts, posts_of_response, unpack_posts
from thunder.post_table import ALIVE, INT_COLUMNS


def _random_posts(rng: np.random.Generator, n: int) -> LightPosts:
    columns = {name: np.where(rng.random(n) < 0.4, 0, rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64))
               for name in INT_COLUMNS}
    columns["created_at"] = rng.integers(0, 50, n)  # ties, so the merge's post-id tiebreak matters
    return LightPosts(columns, rng.integers(0, 16, n).astype(np.uint8))


def _wire(posts: LightPosts) -> bytes:
    return thunder_pb2.GetInNetworkPostsResponse(packed=pack_posts(posts.columns, posts.flags)).SerializeToString()


def test_columns_round_trip_through_the_wire_and_drop_the_store_bits() -> None:
    posts = _random_posts(np.random.default_rng(5), 700)
    back = posts_of_response(thunder_pb2.GetInNetworkPostsResponse.FromString(_wire(posts)))
    for name in INT_COLUMNS:
        np.testing.assert_array_equal(back.columns[name], posts.columns[name])
    np.testing.assert_array_equal(back.flags, posts.flags & 7)
    assert not (back.flags & ALIVE).any()


def test_messages_and_packed_read_to_the_same_columns() -> None:
    posts = _random_posts(np.random.default_rng(6), 300)
    posts.flags[:] &= 7
    messages = thunder_pb2.GetInNetworkPostsResponse.FromString(_wire(posts))
    as_messages = thunder_pb2.GetInNetworkPostsResponse(posts=_to_messages(posts))
    a, b = posts_of_response(messages), posts_of_response(as_messages)
    for name in INT_COLUMNS:
        np.testing.assert_array_equal(a.columns[name], b.columns[name])
    np.testing.assert_array_equal(a.flags, b.flags)


def test_empty_answer() -> None:
    empty = unpack_posts(thunder_pb2.PackedLightPosts())
    assert len(empty) == 0 and empty.post_ids == []


@pytest.mark.parametrize(("change", "message"), [
    (dict(count=3), "post_id has 16 bytes, expected 3 x 8"),
    (dict(conversation_id=b"\x00" * 15), "conversation_id has 15 bytes"),
    (dict(flags=b"\x01"), "flags has 1 bytes, expected 2 x 1"),
    (dict(count=-1), "count must be >= 0"),
])
def test_bad_columns_are_refused_with_a_clear_error(change: dict, message: str) -> None:
    packed = pack_posts({name: np.array([1, 2]) for name in INT_COLUMNS}, np.array([0, 1], dtype=np.uint8))
    for field, value in change.items():
        setattr(packed, field, value)
    with pytest.raises(PackedPostsError, match=message.replace("(", r"\(")):
        unpack_posts(packed)


def test_pack_refuses_columns_of_other_lengths() -> None:
    columns = {name: np.zeros(3, dtype=np.int64) for name in INT_COLUMNS}
    columns["source_user_id"] = np.zeros(2, dtype=np.int64)
    with pytest.raises(PackedPostsError, match="source_user_id"):
        pack_posts(columns, np.zeros(3, dtype=np.uint8))


def test_merge_of_columns_is_the_merge_of_messages() -> None:
    rng = np.random.default_rng(8)
    for trial in range(20):
        parts = [_random_posts(rng, int(rng.integers(0, 60))) for _ in range(int(rng.integers(1, 4)))]
        for part in parts:
            part.columns["post_id"][:] = rng.integers(1, 40, len(part))  # repeats within and across parts
            part.flags[:] &= 7
        limit = int(rng.integers(1, 80))
        want = merge_by_recency([_to_messages(p) for p in parts], limit)
        got = merge_columns(parts, limit)
        assert [m.SerializeToString() for m in _to_messages(got)] == [m.SerializeToString() for m in want], trial


def _to_messages(posts: LightPosts) -> list[thunder_pb2.LightPost]:
    out = []
    for i in range(len(posts)):
        post = thunder_pb2.LightPost(**{name: int(posts.columns[name][i]) for name in INT_COLUMNS})
        post.is_retweet, post.is_reply, post.has_video = (bool(posts.flags[i] & bit) for bit in (1, 2, 4))
        out.append(post)
    return out
