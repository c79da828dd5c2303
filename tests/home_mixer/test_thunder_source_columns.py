"""ThunderSource reads packed columns: the candidates are exactly X's per-post mapping
(``candidate_from_light_post``) of the same posts, whichever layout the client answers with."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from home_mixer.models import FeedQuery
from home_mixer.sources import thunder_source
from home_mixer.sources.thunder_source import ThunderSource
from protos import recsys_pb2 as rp
from protos import thunder_pb2
from tests.home_mixer.fakes import NOW_MS
from tests.home_mixer.thunder_reference import candidate_from_light_post
from thunder.light_posts import LightPosts
from thunder.packed_posts import PackedPostsError, pack_posts, posts_of_response
from thunder.post_table import INT_COLUMNS


def _posts(rng: np.random.Generator, n: int) -> list[thunder_pb2.LightPost]:
    """Originals, replies (root = parent, root elsewhere, no root), reposts, videos, unset times."""
    out = []
    for i in range(n):
        post = thunder_pb2.LightPost(post_id=(1 << 40) + i, author_id=int(rng.integers(1, 50)),
                                     created_at=0 if i % 17 == 0 else 1_700_000_000 + i, has_video=bool(i % 5 == 0))
        kind = i % 6
        if kind in (1, 2, 3):
            post.is_reply, post.in_reply_to_post_id, post.in_reply_to_user_id = True, 900 + i, 7
            post.conversation_id = {1: 900 + i, 2: 800, 3: 0}[kind]
        elif kind == 4:
            post.is_retweet, post.source_post_id, post.source_user_id = True, 700 + i, 8
        else:
            post.conversation_id = post.post_id if i % 2 else 0
        out.append(post)
    return out


def _packed_wire(posts: Sequence[thunder_pb2.LightPost]) -> LightPosts:
    """The posts through the packed layout's bytes, as a client reads them."""
    columns = LightPosts.from_messages(posts)
    wire = thunder_pb2.GetInNetworkPostsResponse(packed=pack_posts(columns.columns, columns.flags)).SerializeToString()
    return posts_of_response(thunder_pb2.GetInNetworkPostsResponse.FromString(wire))


def test_columns_build_the_candidates_of_the_per_post_mapping() -> None:
    posts = _posts(np.random.default_rng(3), 600)
    want = [candidate_from_light_post(p, rp.ServedType.FOR_YOU_IN_NETWORK) for p in posts]
    got = thunder_source.candidates_from_columns(_packed_wire(posts), rp.ServedType.FOR_YOU_IN_NETWORK)
    assert got == want
    # every kind of post is covered, and the fields are plain Python values as before
    assert {len(c.ancestors) for c in got} == {0, 1, 2} and any(c.retweeted_tweet_id for c in got)
    assert any(c.created_at_ms is None for c in got) and any(c.has_video for c in got)
    assert all(type(c.tweet_id) is int and type(c.has_video) is bool for c in got)
    assert thunder_source.candidates_from_columns(_packed_wire([]), 1) == []


class _Messages:
    """A client with X's layout only (as the fakes and replay's in-process Thunder)."""

    def __init__(self, posts: list[thunder_pb2.LightPost]) -> None:
        self.posts = posts
        self.args: tuple = ()

    async def get_in_network_posts(self, *args) -> list[thunder_pb2.LightPost]:
        self.args = args
        return self.posts


class _Columns(_Messages):
    """A client answering packed columns, as ``thunder.client.ThunderClient`` does."""

    async def get_in_network_columns(self, *args) -> LightPosts:
        self.args = args
        return _packed_wire(self.posts)


def test_source_builds_identical_candidates_from_either_layout() -> None:
    posts = _posts(np.random.default_rng(4), 300)
    query = FeedQuery(viewer_id=1, now_ms=NOW_MS, followed_user_ids={3, 1, 2}, seen_ids=[5], in_network_only=True)
    messages, columns = _Messages(posts), _Columns(posts)
    got_messages = asyncio.run(ThunderSource(messages, 1200).get_candidates(query))
    got_columns = asyncio.run(ThunderSource(columns, 1200).get_candidates(query))
    assert got_columns == got_messages == [candidate_from_light_post(p, rp.ServedType.RANKED_FOLLOWING) for p in posts]
    assert messages.args == columns.args == (1, [1, 2, 3], [5], 1200, False)


def test_malformed_columns_reach_the_source_as_a_clear_error() -> None:
    class Broken:
        async def get_in_network_columns(self, *args) -> LightPosts:
            packed = pack_posts({name: np.zeros(2, np.int64) for name in INT_COLUMNS},
                                np.zeros(2, np.uint8))
            packed.count = 5
            return posts_of_response(thunder_pb2.GetInNetworkPostsResponse(packed=packed))

    query = FeedQuery(viewer_id=1, now_ms=NOW_MS, followed_user_ids={3})
    with pytest.raises(PackedPostsError, match="expected 5 x 8"):
        asyncio.run(ThunderSource(Broken()).get_candidates(query))
