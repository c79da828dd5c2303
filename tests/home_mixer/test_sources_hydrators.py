"""Sources, query hydrators and candidate hydrators: mappings, enable rules, missing data."""

from __future__ import annotations

import asyncio
import types

from candidate_pipeline.updates import apply_candidate_results
from home_mixer.candidate_hydrators.author_info import AuthorInfoCandidateHydrator, author_fields
from home_mixer.candidate_hydrators.bidirectional_follow import BidirectionalFollowHydrator
from home_mixer.candidate_hydrators.blocked_by import BlockedByHydrator
from home_mixer.candidate_hydrators.core_data import CoreDataCandidateHydrator, core_fields
from home_mixer.candidate_hydrators.engagement_counts import EngagementCountsHydrator
from home_mixer.candidate_hydrators.in_network import InNetworkCandidateHydrator
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.query_hydrators.cached_posts import CachedPostsQueryHydrator
from home_mixer.query_hydrators.social_graph import FollowedUserIdsQueryHydrator
from home_mixer.sources.phoenix_source import PhoenixSource
from home_mixer.sources.thunder_source import ThunderSource, candidates_from_columns
from protos import recsys_pb2 as rp
from protos import thunder_pb2
from tests.home_mixer.fakes import NOW_MS, FakeFeedState, FakeRetrieval, FakeThunder, FakeUserState, World
from thunder.light_posts import LightPosts
from user_state.reader import AuthorStats

V = 1


def q(**kw) -> FeedQuery:
    return FeedQuery(viewer_id=V, now_ms=NOW_MS, **kw)


def hydrate(h, query, cands):
    res = asyncio.run(h.hydrate(query, cands))
    assert len(res) == len(cands)
    apply_candidate_results(cands, res)
    return cands


def test_light_post_mapping_ancestors_and_repost_ids() -> None:
    def mapped(post: thunder_pb2.LightPost) -> PostCandidate:
        (c,) = candidates_from_columns(LightPosts.from_messages([post]), rp.ServedType.FOR_YOU_IN_NETWORK)
        return c

    reply = thunder_pb2.LightPost(post_id=5, author_id=2, in_reply_to_post_id=4, conversation_id=1, is_reply=True)
    c = mapped(reply)
    assert c.ancestors == [4, 1] and c.in_reply_to_tweet_id == 4
    direct = thunder_pb2.LightPost(post_id=5, author_id=2, in_reply_to_post_id=1, conversation_id=1)
    assert mapped(direct).ancestors == [1]
    repost = thunder_pb2.LightPost(post_id=6, author_id=2, is_retweet=True, source_post_id=3, source_user_id=9)
    c = mapped(repost)
    assert c.retweeted_tweet_id == 3 and c.retweeted_user_id == 9 and c.ancestors == [] and c.in_reply_to_tweet_id is None


def test_thunder_source_served_type_and_empty_following() -> None:
    w = World()
    w.add_post(100 << 22, 10)
    thunder = FakeThunder(w)
    src = ThunderSource(thunder)
    assert asyncio.run(src.get_candidates(q())) == [] and thunder.calls == 0
    got = asyncio.run(src.get_candidates(q(followed_user_ids={10}, in_network_only=True)))
    assert [c.served_type for c in got] == [rp.ServedType.RANKED_FOLLOWING]
    assert not src.enable(q(has_cached_posts=True))


def test_phoenix_source_excludes_seen_and_served_and_skips_in_network_only() -> None:
    w = World()
    for i in range(1, 4):
        w.add_post(i << 22, 10 + i)
    src = PhoenixSource(FakeRetrieval(w))
    got = asyncio.run(src.get_candidates(q(seen_ids=[1 << 22], served_history_ids={2 << 22})))
    assert [c.tweet_id for c in got] == [3 << 22]
    assert got[0].served_type == rp.ServedType.FOR_YOU_PHOENIX_RETRIEVAL and got[0].retrieval_score is not None
    assert not src.enable(q(in_network_only=True))


def test_query_hydrators_followed_only_when_missing_and_cache_threshold() -> None:
    w = World()
    w.following[V] = {5}
    h = FollowedUserIdsQueryHydrator(FakeUserState(w))
    assert asyncio.run(h.hydrate(q())) == {"followed_user_ids": {5}}
    assert not h.enable(q(followed_user_ids={7}))
    store = FakeFeedState()
    store.cache[(V, "in_network")] = [PostCandidate(1, 2)] * 3
    cached = CachedPostsQueryHydrator(store, min_cached=3)
    assert asyncio.run(cached.hydrate(q(in_network_only=True)))["has_cached_posts"] is True
    assert asyncio.run(cached.hydrate(q()))["has_cached_posts"] is False


def test_core_data_and_missing_posts() -> None:
    w = World()
    w.add_post(10, 5, text="hi", quoted_post_id=3, quoted_user_id=4, video_duration_ms=12_000,
               labels=["nsfw"], subscription_author_id=5, topic_id=7, in_reply_to_post_id=8, conversation_id=2)
    cands = hydrate(CoreDataCandidateHydrator(FakeUserState(w)), q(), [PostCandidate(10, 0), PostCandidate(11, 6)])
    c, missing = cands
    assert c.author_id == 5 and c.core_data_hydrated and c.quoted_user_id == 4 and c.min_video_duration_ms == 12_000
    assert c.has_video and c.labels == ["nsfw"] and c.topic_id == 7 and c.ancestors == [8, 2]
    assert not missing.core_data_hydrated and missing.author_id == 6


def test_core_data_rows_are_reused_only_for_the_same_parsed_post() -> None:
    w = World()
    w.add_post(10, 5, text="hi", labels=["nsfw"], in_reply_to_post_id=8, conversation_id=2, video_duration_ms=1)
    w.add_post(12, 5, text="other", source_post_id=10, source_user_id=5)
    hydrator = CoreDataCandidateHydrator(FakeUserState(w))
    first = hydrate(hydrator, q(), [PostCandidate(10, 0), PostCandidate(10, 9), PostCandidate(12, 0)])
    for c, post, author in zip(first, (w.posts[10], w.posts[10], w.posts[12]), (0, 9, 0), strict=True):
        assert {k: getattr(c, k) for k in core_fields(post, author)} == core_fields(post, author)
    assert first[0].labels is not first[1].labels and first[0].ancestors is not first[1].ancestors
    first[0].labels.append("x")  # a candidate's lists are its own, not the cache's
    again = hydrate(hydrator, q(), [PostCandidate(10, 0)])
    assert again[0].labels == ["nsfw"] and again[0].text == "hi"
    w.add_post(10, 5, text="re-created")  # a new parsed message for the same id is derived again
    assert hydrate(hydrator, q(), [PostCandidate(10, 0)])[0].text == "re-created"


def test_network_author_follow_block_and_counts() -> None:
    w = World()
    w.add_post(10, 5, quoted_user_id=6)
    w.add_post(11, 7)
    w.following[5] = {V}
    w.blocked[6] = {V}
    w.blocked[7] = {V}
    w.followers[5] = 42
    w.counts[10] = {"favorite": 3, "impression": 99}
    us = FakeUserState(w)
    query = q(followed_user_ids={5})
    cands = [PostCandidate(10, 5), PostCandidate(11, 7), PostCandidate(12, V)]
    for h in (InNetworkCandidateHydrator(), AuthorInfoCandidateHydrator(us), BidirectionalFollowHydrator(us),
              BlockedByHydrator(us), EngagementCountsHydrator(us)):
        hydrate(h, query, cands)
    a, b, own = cands
    assert a.in_network and not b.in_network and own.in_network
    assert a.author_followers_count == 42 and a.is_mutual_follow and not b.author_follows_viewer
    assert a.quoted_author_blocks_viewer and not a.author_blocks_viewer and b.author_blocks_viewer
    assert a.fav_count == 3 and a.view_count == 99 and own.fav_count is None


def test_hydrators_accept_empty_lists() -> None:
    us = FakeUserState(World())
    for h in (InNetworkCandidateHydrator(), CoreDataCandidateHydrator(us), AuthorInfoCandidateHydrator(us),
              BidirectionalFollowHydrator(us), BlockedByHydrator(us), EngagementCountsHydrator(us)):
        assert list(asyncio.run(h.hydrate(q(), []))) == []


def test_author_fields_from_mappings_and_objects() -> None:
    assert author_fields({"followers": b"12", "labels": b"nsfw, ,spam"}) == (12, ["nsfw", "spam"])
    assert author_fields({"followers": None}) == (0, [])
    assert author_fields(AuthorStats(followers=7)) == (7, [])
    assert author_fields(types.SimpleNamespace(followers=3, labels=("a", "b"))) == (3, ["a", "b"])
