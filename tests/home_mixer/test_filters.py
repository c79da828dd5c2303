"""Each pre-scoring and post-selection filter against its rule (reference §7)."""

from __future__ import annotations

from home_mixer.bloom import BloomFilter
from home_mixer.filters.age import AgeFilter
from home_mixer.filters.author_socialgraph import AuthorSocialgraphFilter
from home_mixer.filters.core_data_hydration import CoreDataHydrationFilter
from home_mixer.filters.dedup_conversation import DedupConversationFilter
from home_mixer.filters.drop_duplicates import DropDuplicatesFilter
from home_mixer.filters.ineligible_subscription import IneligibleSubscriptionFilter
from home_mixer.filters.muted_keyword import MutedKeywordFilter
from home_mixer.filters.oon_repost_reply import OONRetweetReplyFilter
from home_mixer.filters.previously_seen import PreviouslySeenPostsFilter
from home_mixer.filters.previously_served import PreviouslyServedPostsFilter
from home_mixer.filters.repost_dedup import RetweetDeduplicationFilter
from home_mixer.filters.self_post import SelfTweetFilter
from home_mixer.filters.video import VideoFilter
from home_mixer.filters.visibility import VisibilityFilter
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.visibility_rules import evaluate
from tests.home_mixer.fakes import HOUR_MS, NOW_MS, post_id

V = 1  # viewer


def q(**kw) -> FeedQuery:
    return FeedQuery(viewer_id=V, now_ms=NOW_MS, **kw)


def ids(cs) -> list[int]:
    return [c.tweet_id for c in cs]


def test_every_filter_accepts_an_empty_list() -> None:
    for flt in (DropDuplicatesFilter(), CoreDataHydrationFilter(), AgeFilter(), SelfTweetFilter(),
                OONRetweetReplyFilter(), RetweetDeduplicationFilter(), IneligibleSubscriptionFilter(),
                PreviouslySeenPostsFilter(), PreviouslyServedPostsFilter(), MutedKeywordFilter(),
                AuthorSocialgraphFilter(), VideoFilter(), VisibilityFilter(), DedupConversationFilter()):
        res = flt.filter(q(), [])
        assert res.kept == [] and res.removed == []


def test_drop_duplicates_keeps_first() -> None:
    a, b, a2 = PostCandidate(1, 5), PostCandidate(2, 5), PostCandidate(1, 6)
    res = DropDuplicatesFilter().filter(q(), [a, b, a2])
    assert res.kept == [a, b] and res.removed == [a2]


def test_core_data_filter_drops_missing_author_or_core_data() -> None:
    ok = PostCandidate(1, 5, core_data_hydrated=True)
    no_author = PostCandidate(2, 0, core_data_hydrated=True)
    unhydrated = PostCandidate(3, 5)
    res = CoreDataHydrationFilter().filter(q(), [ok, no_author, unhydrated])
    assert res.kept == [ok] and res.reasons == ["missing author_id", "core data missing"]


def test_age_filter_48h_boundary_and_invalid_ids() -> None:
    fresh = PostCandidate(post_id(47 * HOUR_MS, 0), 5)
    exactly = PostCandidate(post_id(48 * HOUR_MS, 0), 5)
    old = PostCandidate(post_id(48 * HOUR_MS + 1, 0), 5)
    bad = PostCandidate(0, 5)
    res = AgeFilter().filter(q(), [fresh, exactly, old, bad])
    assert res.kept == [fresh, exactly]
    assert res.removed == [old, bad]


def test_self_tweet_filter() -> None:
    res = SelfTweetFilter().filter(q(), [PostCandidate(1, V), PostCandidate(2, 9)])
    assert ids(res.kept) == [2]


def test_oon_repost_reply_filter() -> None:
    oon_reply = PostCandidate(1, 9, in_network=False, in_reply_to_tweet_id=50, ancestors=[50])
    oon_repost = PostCandidate(2, 9, in_network=False, retweeted_tweet_id=51)
    oon_original = PostCandidate(3, 9, in_network=False)
    in_reply = PostCandidate(4, 9, in_network=True, in_reply_to_tweet_id=50, ancestors=[50])
    orphan_reply = PostCandidate(5, 9, in_network=True, in_reply_to_tweet_id=50)
    res = OONRetweetReplyFilter().filter(q(), [oon_reply, oon_repost, oon_original, in_reply, orphan_reply])
    assert ids(res.kept) == [3, 4]
    assert res.reasons == ["out-of-network reply", "out-of-network repost", "reply without ancestors"]


def test_repost_dedup_collapses_original_and_reposts() -> None:
    orig = PostCandidate(10, 5)
    rp1 = PostCandidate(11, 6, retweeted_tweet_id=10)
    rp2 = PostCandidate(12, 7, retweeted_tweet_id=20)
    rp3 = PostCandidate(13, 8, retweeted_tweet_id=20)
    res = RetweetDeduplicationFilter().filter(q(), [orig, rp1, rp2, rp3])
    assert ids(res.kept) == [10, 12]


def test_ineligible_subscription() -> None:
    public = PostCandidate(1, 5)
    sub_ok = PostCandidate(2, 5, subscription_author_id=5)
    sub_no = PostCandidate(3, 6, subscription_author_id=6)
    res = IneligibleSubscriptionFilter().filter(q(subscribed_user_ids={5}), [public, sub_ok, sub_no])
    assert ids(res.kept) == [1, 2]


def test_previously_seen_by_ids_and_bloom_over_related_ids() -> None:
    bloom = BloomFilter(100, 0.001)
    bloom.add(77)
    cands = [
        PostCandidate(1, 5),
        PostCandidate(2, 5, retweeted_tweet_id=30),   # reposts a seen post
        PostCandidate(3, 5, in_reply_to_tweet_id=77, ancestors=[77]),  # parent in the bloom
        PostCandidate(77, 5),
    ]
    res = PreviouslySeenPostsFilter().filter(q(seen_ids=[30], impression_bloom=bloom), cands)
    assert ids(res.kept) == [1]
    # no bloom, no seen ids: nothing removed
    assert ids(PreviouslySeenPostsFilter().filter(q(), cands).kept) == [1, 2, 3, 77]


def test_previously_served_uses_request_and_history_and_enable_rule() -> None:
    cands = [PostCandidate(1, 5), PostCandidate(2, 5), PostCandidate(3, 5, retweeted_tweet_id=4)]
    res = PreviouslyServedPostsFilter().filter(q(served_ids=[1], served_history_ids={4}), cands)
    assert ids(res.kept) == [2] and res.reasons == ["served (1)", "served (4)"]
    reply = PostCandidate(6, 5, in_reply_to_tweet_id=1)
    res = PreviouslyServedPostsFilter().filter(q(served_ids=[1]), [reply, PostCandidate(7, 5)])
    assert ids(res.kept) == [7] and res.reasons == ["served (1)"]
    assert ids(PreviouslyServedPostsFilter().filter(q(), cands).kept) == [1, 2, 3]  # nothing served yet
    bottom_only = PreviouslyServedPostsFilter(all_requests=False)
    assert not bottom_only.enable(q()) and bottom_only.enable(q(is_bottom_request=True))


def test_muted_keywords_token_sequence_case_insensitive() -> None:
    cands = [
        PostCandidate(1, 5, text="I love New York!"),
        PostCandidate(2, 5, text="new yorkers are great"),
        PostCandidate(3, 5, text="York new"),
        PostCandidate(4, 5, text="SPOILERS ahead"),
        PostCandidate(5, 5, text=None),
    ]
    query = q(muted_keywords=["new york", "spoilers", "  "])
    flt = MutedKeywordFilter()
    assert flt.enable(query) and not flt.enable(q())
    res = flt.filter(query, cands)
    assert ids(res.kept) == [2, 3, 5]
    assert res.reasons == ["muted keyword 'new york'", "muted keyword 'spoilers'"]


def test_author_socialgraph_all_relations() -> None:
    cands = [
        PostCandidate(1, 20),                                  # blocked author
        PostCandidate(2, 21),                                  # muted author
        PostCandidate(3, 9, author_blocks_viewer=True),
        PostCandidate(4, 9, quoted_user_id=30, quoted_author_blocks_viewer=True),
        PostCandidate(5, 9, quoted_user_id=20),                # quotes a blocked account
        PostCandidate(6, 9, retweeted_tweet_id=99, retweeted_user_id=20),  # reposts a blocked account
        PostCandidate(7, 9, quoted_user_id=21),                # quoting a MUTED account is fine (X)
    ]
    res = AuthorSocialgraphFilter().filter(q(blocked_user_ids={20}, muted_user_ids={21}), cands)
    assert ids(res.kept) == [7]


def test_video_filter_only_when_excluded() -> None:
    cands = [PostCandidate(1, 5, has_video=True), PostCandidate(2, 5, min_video_duration_ms=3000), PostCandidate(3, 5)]
    flt = VideoFilter()
    assert not flt.enable(q())
    assert ids(flt.filter(q(exclude_videos=True), cands).kept) == [3]


def test_visibility_rules_and_filter() -> None:
    assert evaluate(["spam"], [], True).action == "drop"
    assert evaluate([], ["suspended"], True).action == "drop"
    assert evaluate(["NSFW"], [], True).action == "interstitial"
    assert evaluate(["nsfw"], [], False).action == "drop"
    assert evaluate([], ["nsfw"], False).action == "drop"
    assert evaluate(["violent"], [], False).action == "interstitial"
    assert evaluate(["unknown"], [], False).action == "allow"
    keep = PostCandidate(1, 5, visibility_action="interstitial", visibility_reason="post label nsfw")
    drop = PostCandidate(2, 5, visibility_action="drop", visibility_reason="post label spam")
    res = VisibilityFilter().filter(q(), [keep, drop])
    assert res.kept == [keep] and res.reasons == ["visibility: post label spam"]


def test_dedup_conversation_keeps_highest_score_ties_first() -> None:
    a = PostCandidate(100, 5, in_reply_to_tweet_id=50, ancestors=[50, 10], score=0.3)
    b = PostCandidate(101, 6, in_reply_to_tweet_id=10, ancestors=[10], score=0.9)
    root = PostCandidate(10, 7, score=0.5)
    other = PostCandidate(200, 8, score=0.1)
    t1, t2 = PostCandidate(300, 1, score=0.4), PostCandidate(301, 2, retweeted_tweet_id=300, score=0.4)
    unscored = PostCandidate(400, 3, in_reply_to_tweet_id=10, ancestors=[10], score=None)
    res = DedupConversationFilter().filter(q(), [a, b, root, other, t1, t2, unscored])
    assert ids(res.kept) == [101, 200, 300]


def test_dedup_and_age_filters_equal_their_rules_with_and_without_removals() -> None:
    """The C-level "nothing to remove" shortcuts give exactly what the per-candidate rules give."""
    import random

    rng = random.Random(8)
    q = FeedQuery(viewer_id=1, now_ms=NOW_MS)
    for trial in range(60):
        n = rng.randint(0, 40)
        young = [post_id(rng.randint(0, 47) * HOUR_MS, k) for k in range(n)]
        ids = list(young)
        if trial % 3 == 1 and n:
            ids[rng.randrange(n)] = rng.choice([0, -5, post_id(49 * HOUR_MS, 0), post_id(48 * HOUR_MS + 1, 0), ids[0]])
        cands = [PostCandidate(i, 1, retweeted_tweet_id=rng.choice([None, None, ids[0] if ids else None]))
                 for i in ids]
        seen: set[int] = set()
        want_dups = []
        for c in cands:
            want_dups.append(c.tweet_id in seen)
            seen.add(c.tweet_id)
        got = DropDuplicatesFilter().filter(q, cands)
        assert got.removed == [c for c, d in zip(cands, want_dups, strict=True) if d]
        assert got.kept == [c for c, d in zip(cands, want_dups, strict=True) if not d]
        assert got.reasons == ["duplicate tweet_id"] * len(got.removed)
        originals: set[int] = set()
        want_same = []
        for c in cands:
            want_same.append(c.original_tweet_id in originals)
            originals.add(c.original_tweet_id)
        got = RetweetDeduplicationFilter().filter(q, cands)
        assert got.removed == [c for c, d in zip(cands, want_same, strict=True) if d]
        assert got.reasons == [f"same content as an earlier candidate ({c.original_tweet_id})" for c in got.removed]
        got = AgeFilter().filter(q, cands)
        old = [c.tweet_id <= 0 or NOW_MS - ((c.tweet_id >> 22) + 1288834974657) > 48 * 3600 * 1000 for c in cands]
        assert got.removed == [c for c, o in zip(cands, old, strict=True) if o]
        assert got.kept == [c for c, o in zip(cands, old, strict=True) if not o]


def test_author_socialgraph_filter_equals_its_rule_with_and_without_removals() -> None:
    import random

    rng = random.Random(9)
    for trial in range(80):
        blocked = set(rng.sample(range(1, 30), rng.randint(0, 3)))
        muted = set(rng.sample(range(1, 30), rng.randint(0, 2)))
        cands = [PostCandidate(i + 1, rng.randint(30, 60) if trial % 2 else rng.randint(1, 60),
                               quoted_user_id=rng.choice([None, 0, rng.randint(1, 60)]),
                               retweeted_user_id=rng.choice([None, rng.randint(1, 60)]),
                               author_blocks_viewer=rng.random() < 0.02, quoted_author_blocks_viewer=rng.random() < 0.02)
                 for i in range(rng.randint(0, 30))]
        want = [c.author_id in blocked or c.author_id in muted or c.author_blocks_viewer or c.quoted_author_blocks_viewer
                or bool(c.quoted_user_id and c.quoted_user_id in blocked)
                or bool(c.retweeted_user_id and c.retweeted_user_id in blocked) for c in cands]
        got = AuthorSocialgraphFilter().filter(FeedQuery(viewer_id=1, blocked_user_ids=blocked, muted_user_ids=muted), cands)
        assert got.removed == [c for c, w in zip(cands, want, strict=True) if w]
        assert got.kept == [c for c, w in zip(cands, want, strict=True) if not w]
        assert None not in got.reasons
