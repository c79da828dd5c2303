"""The columnar fast paths give exactly the numbers of the per-candidate definitions."""

from __future__ import annotations

import asyncio
import random

import numpy as np

from candidate_pipeline import Columns
from candidate_pipeline.updates import apply_candidate_results
from home_mixer.actions import ALL_ACTIONS
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.scorers.phoenix_scorer import PhoenixScorer
from home_mixer.scorers.weighted_scorer import WeightedScorer


def _candidates(rng: random.Random, n: int) -> list[PostCandidate]:
    actions = sorted(ALL_ACTIONS)
    out = []
    for i in range(n):
        scores = None
        if rng.random() > 0.1:  # some unscored
            scores = {a: rng.choice([0.0, rng.random(), rng.random() ** 8]) for a in rng.sample(actions, k=rng.randint(1, len(actions)))}
        out.append(PostCandidate(
            i + 1,
            author_id=rng.randint(1, 30),
            in_network=rng.choice([True, False, None]),
            is_mutual_follow=rng.choice([True, False, None]),
            retweeted_tweet_id=rng.choice([None, 99]),
            min_video_duration_ms=rng.choice([None, 5_000, 20_000]),
            phoenix_scores=scores,
        ))
    return out


def test_vectorised_weighted_scores_are_bit_identical_to_explain() -> None:
    rng = random.Random(7)
    scorer = WeightedScorer()
    for viewer_followers in (None, 50, 1_000_000):
        query = FeedQuery(viewer_id=1, viewer_followers_count=viewer_followers)
        cands = _candidates(rng, 400)
        result = asyncio.run(scorer.score(query, cands))
        assert isinstance(result, Columns) and len(result) == len(cands)
        apply_candidate_results(cands, result)
        for c in cands:
            if c.phoenix_scores is None:
                assert c.score is None and c.weighted_score is None and not c.explanation.scored
                continue
            expected = scorer.explain(query, c, with_terms=False)
            got = c.explanation
            assert (got.positive_sum, got.negative_sum, got.weighted_score) == (
                expected.positive_sum, expected.negative_sum, expected.weighted_score)
            assert c.score == c.weighted_score == expected.weighted_score and got.terms == () and got.scored


def test_debug_request_keeps_terms_and_the_same_scores() -> None:
    rng = random.Random(11)
    scorer = WeightedScorer()
    plain, debug = _candidates(rng, 100), _candidates(random.Random(11), 100)
    apply_candidate_results(plain, asyncio.run(scorer.score(FeedQuery(viewer_id=1), plain)))
    apply_candidate_results(debug, asyncio.run(scorer.score(FeedQuery(viewer_id=1, debug=True), debug)))
    assert [c.score for c in plain] == [c.score for c in debug]
    assert any(c.explanation.terms for c in debug) and not any(c.explanation.terms for c in plain)


class _Ranker:
    """Answers every candidate with the same probability dict object (as a repost and its original share one)."""

    def __init__(self, probs: dict) -> None:
        self.probs = probs

    async def predict(self, sequence, infos, surface):  # noqa: ANN001, ANN201
        return {i.tweet_id: self.probs for i in infos}, {}, "v1"


def test_phoenix_scores_are_own_float_copies() -> None:
    for probs in ({"favorite": 0.25, "reply": 0.5}, {"favorite": np.float32(0.25), "reply": 0.5}):
        cands = [PostCandidate(1, 5), PostCandidate(2, 6, retweeted_tweet_id=1, retweeted_user_id=5)]
        apply_candidate_results(cands, asyncio.run(PhoenixScorer(_Ranker(probs)).score(FeedQuery(viewer_id=9), cands)))
        a, b = (c.phoenix_scores for c in cands)
        assert a == b == {"favorite": 0.25, "reply": 0.5} and a is not b and a is not probs
        assert all(type(v) is float for v in (*a.values(), *b.values()))
