"""Scorers against reference §6: weighted score + offset rule, cold start, diversity, OON,
ranker fallback, PhoenixScorer's repost/failure rules and the DPP re-ranker."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import math

import numpy as np
import pytest

from candidate_pipeline.updates import apply_candidate_results
from home_mixer.models import FeedQuery, PostCandidate, ScoreExplanation
from home_mixer.scorers.author_cold_start import AuthorColdStartScorer
from home_mixer.scorers.author_diversity import AuthorDiversityScorer
from home_mixer.scorers.dpp_ranker import DppRanker, greedy_dpp
from home_mixer.scorers.oon_scorer import OONScorer
from home_mixer.scorers.phoenix_scorer import PhoenixScorer
from home_mixer.scorers.ranker_fallback import RankerFallbackScorer
from home_mixer.scorers.weighted_scorer import WeightedScorer, apply_offset
from home_mixer.scorers.weights import DEFAULT_WEIGHTS, weight_sums
from tests.home_mixer.fakes import HOUR_MS, NOW_MS, FakeRanker, post_id


def q(**kw) -> FeedQuery:
    return FeedQuery(viewer_id=1, now_ms=NOW_MS, **kw)


def run_scorer(scorer, query, cands):
    results = asyncio.run(scorer.score(query, cands))
    assert len(results) == len(cands)
    apply_candidate_results(cands, results)
    return cands


def run_explained(scorer, query, cands):
    """Run ``scorer`` for a debug request on ``cands`` (explanations filled in) and for a plain
    request on a copy: the same scores, and the plain request leaves every explanation untouched."""
    plain = copy.deepcopy(cands)
    before = [c.explanation for c in plain]
    run_scorer(scorer, dataclasses.replace(query, debug=False), plain)
    run_scorer(scorer, dataclasses.replace(query, debug=True), cands)
    assert [c.score for c in plain] == [c.score for c in cands]
    assert all(c.explanation is b for c, b in zip(plain, before, strict=True))
    return cands


def test_default_weight_sums() -> None:
    pos, neg, total = weight_sums(DEFAULT_WEIGHTS)
    assert pos == pytest.approx(43.32) and neg == pytest.approx(367.22) and total == pytest.approx(410.54)


def test_offset_rule_ranges() -> None:
    assert apply_offset(-1.0, 367.22, 410.54) == pytest.approx((367.22 - 1.0) / 410.54 * 0.001)
    assert apply_offset(2.0, 367.22, 410.54) == pytest.approx(2.001)
    assert apply_offset(-3.0, 0.0, 0.0) == 0.0 and apply_offset(3.0, 0.0, 0.0) == 3.0


def test_weighted_net_negative_and_net_positive_examples() -> None:
    scorer = WeightedScorer()
    neg = PostCandidate(1, 5, in_network=True, phoenix_scores={"favorite": 0.1, "report": 0.01})
    pos = PostCandidate(2, 5, in_network=True, phoenix_scores={"favorite": 1.0})
    worst = PostCandidate(3, 5, in_network=True, phoenix_scores={
        "not_interested": 1.0, "block_author": 1.0, "mute_author": 1.0, "report": 1.0, "not_dwelled": 1.0})
    run_scorer(scorer, q(debug=True), [neg, pos, worst])
    expected = (0.05 - 2.34 + 367.22) / 410.54 * 0.001
    assert neg.weighted_score == pytest.approx(expected)
    assert 0.0 <= neg.weighted_score < 0.001
    assert pos.weighted_score == pytest.approx(0.501) and pos.weighted_score >= 0.001
    assert worst.weighted_score == pytest.approx(0.0, abs=1e-12)
    exp = neg.explanation
    assert exp.scored and exp.positive_sum == pytest.approx(0.05) and exp.negative_sum == pytest.approx(2.34)
    assert {t.action: t.contribution for t in exp.terms}["report"] == pytest.approx(-2.34)
    plain = [PostCandidate(1, 5, in_network=True, phoenix_scores={"favorite": 0.1, "report": 0.01})]
    run_scorer(scorer, q(), plain)  # not debug: the same score, no explanation
    assert plain[0].weighted_score == neg.weighted_score and plain[0].explanation == ScoreExplanation()
    always = [PostCandidate(1, 5, in_network=True, phoenix_scores={"favorite": 0.1})]
    run_scorer(WeightedScorer(always_explain=True), q(), always)
    assert [t.action for t in always[0].explanation.terms if t.probability] == ["favorite"]


def test_weighted_unscored_is_not_zero() -> None:
    c = PostCandidate(1, 5)
    run_scorer(WeightedScorer(), q(), [c])
    assert c.score is None and c.weighted_score is None and not c.explanation.scored


def test_reply_boost_for_mutual_follow_non_reposts_only() -> None:
    probs = {"reply": 0.1}
    mutual = PostCandidate(1, 5, in_network=True, is_mutual_follow=True, phoenix_scores=probs)
    repost = PostCandidate(2, 5, in_network=True, is_mutual_follow=True, retweeted_tweet_id=9, phoenix_scores=probs)
    plain = PostCandidate(3, 5, in_network=True, phoenix_scores=probs)
    run_scorer(WeightedScorer(), q(), [mutual, repost, plain])
    assert mutual.weighted_score == pytest.approx(0.1 * 20.0 + 0.001)
    assert repost.weighted_score == pytest.approx(0.1 * 5.0 + 0.001)
    assert plain.weighted_score == pytest.approx(0.1 * 5.0 + 0.001)


def test_vqv_weight_needs_long_video_and_small_viewer() -> None:
    probs = {"vqv": 1.0}
    long_v = PostCandidate(1, 5, in_network=True, min_video_duration_ms=10_001, phoenix_scores=probs)
    short_v = PostCandidate(2, 5, in_network=True, min_video_duration_ms=10_000, phoenix_scores=probs)
    no_v = PostCandidate(3, 5, in_network=True, phoenix_scores=probs)
    run_scorer(WeightedScorer(), q(viewer_followers_count=9_999), [long_v, short_v, no_v])
    assert long_v.weighted_score == pytest.approx(0.051)
    assert short_v.weighted_score == pytest.approx(0.001) and no_v.weighted_score == pytest.approx(0.001)
    big = PostCandidate(4, 5, in_network=True, min_video_duration_ms=20_000, phoenix_scores=probs)
    run_scorer(WeightedScorer(), q(viewer_followers_count=10_000), [big])
    assert big.weighted_score == pytest.approx(0.001)


def test_post_unexplored_in_network_only_and_dwell_time_continuous() -> None:
    probs = {"post_unexplored": 1.0, "dwell_time": 10.0}
    inn = PostCandidate(1, 5, in_network=True, phoenix_scores=probs)
    oon = PostCandidate(2, 5, in_network=False, phoenix_scores=probs)
    run_scorer(WeightedScorer(), q(), [inn, oon])
    assert inn.weighted_score == pytest.approx(0.02 + 0.04 + 0.001)
    assert oon.weighted_score == pytest.approx(0.04 + 0.001)


def test_unknown_weight_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown action names"):
        WeightedScorer({"likes": 1.0})


def test_author_diversity_multipliers_and_order() -> None:
    cands = [PostCandidate(i, 7, score=1.0 - i * 0.01) for i in range(5)] + [PostCandidate(9, 8, score=0.5)]
    cands.append(PostCandidate(10, 7, score=None))
    run_explained(AuthorDiversityScorer(), q(), cands)
    mults = [c.explanation.author_diversity_multiplier for c in cands[:5]]
    assert mults == pytest.approx([1.0, 0.625, 0.4375, 0.34375, 0.296875])
    assert cands[5].score == pytest.approx(0.5)  # another author: untouched
    assert cands[6].score is None
    assert cands[1].score == pytest.approx(0.99 * 0.625)


def test_author_diversity_ties_keep_input_order() -> None:
    cands = [PostCandidate(1, 7, score=0.5), PostCandidate(2, 7, score=0.5), PostCandidate(3, 7, score=0.9)]
    run_explained(AuthorDiversityScorer(), q(), cands)
    assert [c.explanation.author_diversity_multiplier for c in cands] == [0.625, 0.4375, 1.0]


def test_oon_discount_rules() -> None:
    cands = [
        PostCandidate(1, 5, in_network=False, score=1.0),
        PostCandidate(2, 5, in_network=True, score=1.0),
        PostCandidate(3, 5, in_network=True, in_reply_to_tweet_id=9, score=1.0),
        PostCandidate(4, 5, in_network=True, retweeted_tweet_id=9, score=1.0),
        PostCandidate(5, 5, in_network=False, score=None),
    ]
    run_explained(OONScorer(), q(), cands)
    assert [c.score for c in cands] == [0.75, 1.0, 0.75, 0.75, None]
    assert cands[0].explanation.oon_multiplier == 0.75


def _cold_start_pool() -> list[PostCandidate]:
    pool = [PostCandidate(100 + i, 1000 + i, score=1.0 - i * 0.01, author_followers_count=50_000, view_count=5000)
            for i in range(30)]
    return pool


def test_cold_start_lifts_one_small_author_to_slot_16() -> None:
    pool = _cold_start_pool()
    small = PostCandidate(999, 42, score=0.8, author_followers_count=200, view_count=10)
    small2 = PostCandidate(998, 43, score=0.79, author_followers_count=200, view_count=10)
    low = PostCandidate(997, 44, score=0.01, author_followers_count=200, view_count=10)
    cands = [*pool, low, small, small2]
    run_explained(AuthorColdStartScorer(), q(), cands)
    target = 1.0 - 15 * 0.01
    assert small.score == pytest.approx(target) and small.explanation.cold_start_score == pytest.approx(target)
    assert small2.score == pytest.approx(0.79)  # one post per request
    assert low.score == pytest.approx(0.01)


def test_cold_start_eligibility_and_short_lists() -> None:
    pool = _cold_start_pool()
    reply = PostCandidate(999, 42, score=0.5, author_followers_count=200, view_count=10, in_reply_to_tweet_id=5)
    viewed = PostCandidate(998, 43, score=0.5, author_followers_count=200, view_count=1000)
    unknown = PostCandidate(997, 44, score=0.5, author_followers_count=None, view_count=0)
    run_scorer(AuthorColdStartScorer(), q(), [*pool, reply, viewed, unknown])
    assert reply.score == viewed.score == unknown.score == 0.5
    # outside the first 85% of the non-zero scores: not eligible
    tail = PostCandidate(996, 45, score=0.0001, author_followers_count=1, view_count=0)
    run_scorer(AuthorColdStartScorer(), q(), [*_cold_start_pool(), tail])
    assert tail.score == 0.0001
    few = [PostCandidate(i, 42, score=0.1, author_followers_count=1, view_count=0) for i in range(15)]
    run_scorer(AuthorColdStartScorer(), q(), few)
    assert all(c.score == 0.1 for c in few)


def test_ranker_fallback_orders_in_network_then_newest_below_scored() -> None:
    old_in = PostCandidate(post_id(40 * HOUR_MS, 0), 5, in_network=True)
    new_in = PostCandidate(post_id(1 * HOUR_MS, 0), 5, in_network=True)
    new_oon = PostCandidate(post_id(1 * HOUR_MS, 1), 6, in_network=False)
    scored = PostCandidate(post_id(1, 2), 7, in_network=False, phoenix_scores={}, score=0.0)
    cands = [old_in, new_in, new_oon, scored]
    run_explained(RankerFallbackScorer(), q(), cands)
    assert scored.score == 0.0 and not scored.ranking_fallback
    assert scored.score > new_in.score > old_in.score > new_oon.score > -1.0
    assert new_in.ranking_fallback and "fallback" in new_in.explanation.note


def test_phoenix_scorer_scores_reposts_as_original() -> None:
    ranker = FakeRanker()
    orig = PostCandidate(10, 5, topic_id=3)
    repost = PostCandidate(11, 6, retweeted_tweet_id=10, retweeted_user_id=5)
    run_scorer(PhoenixScorer(ranker), q(followed_user_ids={5}), [orig, repost])
    assert [i["tweet_id"] for i in ranker.seen] == [10, 10]
    assert ranker.seen[0]["semantic_ids"] == (3,) and ranker.seen[1]["semantic_ids"] == ()
    assert ranker.seen[1]["retweeting_tweet_id"] == 11 and ranker.seen[1]["author_id"] == 5
    assert ranker.seen[1]["retweeted_tweet_id"] == 10 and ranker.seen[0]["retweeting_tweet_id"] == 0
    assert ranker.seen[1]["is_author_followed_by_user"] == 1
    assert orig.phoenix_scores == repost.phoenix_scores and repost.model_version == "ranker-v7"
    assert repost.phoenix_scores["dwell_time"] == repost.predicted_dwell_s


def test_phoenix_scorer_failure_leaves_candidates_unscored() -> None:
    ranker = FakeRanker()
    ranker.fail = True
    with pytest.raises(ConnectionError):
        asyncio.run(PhoenixScorer(ranker).score(q(), [PostCandidate(1, 5)]))
    assert asyncio.run(PhoenixScorer(ranker).score(q(), [])) == []
    assert not PhoenixScorer(ranker).enable(q(has_cached_posts=True))


def test_greedy_dpp_prefers_diverse_items() -> None:
    e = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    quality = np.array([1.0, 0.99, 0.9])
    assert greedy_dpp(quality, e, 2) == [0, 2]  # the duplicate of item 0 is skipped
    assert greedy_dpp(quality, e, 3) == [0, 2]  # residual of the duplicate is 0: stop
    assert greedy_dpp(np.array([]), np.zeros((0, 2)), 5) == []


class _Emb:
    def embed(self, ids):
        # posts 1 and 2 identical, 3 orthogonal
        table = {1: [1.0, 0.0], 2: [1.0, 0.0], 3: [0.0, 1.0]}
        return np.array([table[i] for i in ids])


def test_dpp_ranker_zeroes_non_selected_and_skips_fallback() -> None:
    cands = [PostCandidate(1, 5, score=1.0), PostCandidate(2, 5, score=0.9), PostCandidate(3, 5, score=0.5),
             PostCandidate(4, 5, score=-0.3, ranking_fallback=True)]
    run_explained(DppRanker(_Emb(), top_k=50), q(), cands)
    assert [c.score for c in cands] == [1.0, 0.0, 0.5, -0.3]
    assert cands[1].explanation.other_multipliers["dpp_selected"] == 0.0
    assert not math.isnan(cands[0].score)


def test_oon_scorer_rows_are_the_candidates_applies_picks() -> None:
    import random

    from home_mixer.scorers.oon_scorer import OONScorer

    rng = random.Random(2)
    cands = [PostCandidate(i + 1, 1, score=rng.choice([None, 0.5, -1.0]), in_network=rng.choice([None, True, False]),
                           in_reply_to_tweet_id=rng.choice([None, 0, 7]), retweeted_tweet_id=rng.choice([None, 9]))
             for i in range(300)]
    for flag in (True, False):
        scorer = OONScorer(0.75, in_network_replies_reposts=flag)
        cols = asyncio.run(scorer.score(FeedQuery(viewer_id=1), cands))
        assert list(cols.rows) == [i for i, c in enumerate(cands) if c.score is not None and scorer.applies(c)]
        assert cols.values["score"] == [cands[i].score * 0.75 for i in cols.rows]
