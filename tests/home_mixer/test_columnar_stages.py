"""The columnar fast paths give exactly the numbers of the per-candidate definitions."""

from __future__ import annotations

import asyncio
import copy
import random

import numpy as np

from candidate_pipeline import Columns
from candidate_pipeline.updates import apply_candidate_results
from home_mixer.actions import ALL_ACTIONS
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.score_terms import LazyTerms
from home_mixer.scorers.phoenix_scorer import PhoenixScorer, ranker_candidates
from home_mixer.scorers.weighted_scorer import WeightedScorer
from phoenix.ranker.packed import Predictions, unpack_candidates


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


def test_vectorised_weighted_scores_and_explanations_are_bit_identical_to_explain() -> None:
    rng = random.Random(7)
    scorer = WeightedScorer()
    for viewer_followers in (None, 50, 1_000_000):
        query = FeedQuery(viewer_id=1, viewer_followers_count=viewer_followers, debug=True)
        cands = _candidates(rng, 400)
        result = asyncio.run(scorer.score(query, cands))
        assert isinstance(result, Columns) and len(result) == len(cands)
        expected = [None if c.phoenix_scores is None else scorer.explain(query, c) for c in cands]
        apply_candidate_results(cands, result)
        for c, want in zip(cands, expected, strict=True):
            if want is None:
                assert c.score is None and c.weighted_score is None and not c.explanation.scored
                continue
            assert c.explanation == want and tuple(c.explanation.terms) == tuple(want.terms)
            assert c.score == c.weighted_score == want.weighted_score and c.explanation.scored


def test_plain_request_has_the_same_scores_and_no_explanations() -> None:
    scorer = WeightedScorer()
    plain, debug = _candidates(random.Random(11), 300), _candidates(random.Random(11), 300)
    apply_candidate_results(plain, asyncio.run(scorer.score(FeedQuery(viewer_id=1), plain)))
    apply_candidate_results(debug, asyncio.run(scorer.score(FeedQuery(viewer_id=1, debug=True), debug)))
    assert [c.score for c in plain] == [c.score for c in debug]
    assert any(c.explanation.terms for c in debug) and not any(c.explanation.scored for c in plain)


def test_lazy_terms_read_as_the_tuple_they_stand_for() -> None:
    scorer = WeightedScorer()
    cands = [c for c in _candidates(random.Random(3), 50) if c.phoenix_scores is not None]
    query = FeedQuery(viewer_id=1, debug=True)
    apply_candidate_results(cands, asyncio.run(scorer.score(query, cands)))
    lazy = cands[0].explanation.terms
    assert isinstance(lazy, LazyTerms)
    want = scorer.explain(query, cands[0]).terms
    assert lazy == want and want == lazy and len(lazy) == len(want) and list(lazy) == list(want)
    assert lazy[0] == want[0] and lazy[-1:] == want[-1:] and hash(lazy) == hash(want)
    assert copy.deepcopy(lazy) == want
    assert cands[0].explanation.to_dict()["terms"] == tuple(t._asdict() for t in want)


class _Ranker:
    """Answers every candidate with the same probabilities, as float32 numpy values."""

    def __init__(self, probs: dict) -> None:
        self.probs = probs

    async def predict_packed(self, sequence, packed, surface):  # noqa: ANN001, ANN201
        columns, _ = unpack_candidates(packed)
        n = packed.count
        values = np.tile(np.array(list(self.probs.values()), dtype=np.float32), (n, 1))
        return Predictions(columns["tweet_id"], tuple(self.probs), values, None, "v1")


def test_phoenix_scores_are_own_dicts_of_python_floats() -> None:
    probs = {"favorite": 0.25, "reply": 0.5}
    cands = [PostCandidate(1, 5), PostCandidate(2, 6, retweeted_tweet_id=1, retweeted_user_id=5)]
    apply_candidate_results(cands, asyncio.run(PhoenixScorer(_Ranker(probs)).score(FeedQuery(viewer_id=9), cands)))
    a, b = (c.phoenix_scores for c in cands)
    assert a == b == {"favorite": 0.25, "reply": 0.5} and a is not b
    assert all(type(v) is float for v in (*a.values(), *b.values()))
    assert all(c.predicted_dwell_s is None and c.model_version == "v1" for c in cands)


def test_ranker_candidates_are_the_per_candidate_rule_column_by_column() -> None:
    rng = random.Random(5)
    cands = []
    for i in range(400):
        repost = rng.random() < 0.2
        cands.append(PostCandidate(
            i + 1, rng.randint(1, 40), retweeted_tweet_id=10**15 + i if repost else None,
            retweeted_user_id=rng.randint(1, 40) if repost else None, author_follows_viewer=rng.choice([None, True, False]),
            topic_id=rng.choice([None, 0, 3]), fav_count=rng.choice([None, 0, 5]), repost_count=rng.randint(0, 3),
            quoted_tweet_id=rng.choice([None, 77]), created_at_ms=rng.choice([None, 10**12]),
            author_followers_count=rng.choice([None, 10]), in_reply_to_tweet_id=rng.choice([None, None, 9])))
    followed = {1, 2, 3, 10}
    for batch in (cands, [c for c in cands if not c.retweeted_tweet_id], [PostCandidate(5, 6)], []):
        columns, sids = unpack_candidates(ranker_candidates(batch, followed))
        want = {
            "tweet_id": [c.retweeted_tweet_id or c.tweet_id for c in batch],
            "author_id": [c.retweeted_user_id or c.author_id for c in batch],
            "is_author_followed_by_user": [int((c.retweeted_user_id or c.author_id) in followed) for c in batch],
            "author_is_following_user": [int(bool(c.author_follows_viewer)) for c in batch],
            "retweeting_tweet_id": [c.tweet_id if c.retweeted_tweet_id else 0 for c in batch],
            "retweeting_author_id": [c.author_id if c.retweeted_tweet_id else 0 for c in batch],
            "retweeted_tweet_id": [c.retweeted_tweet_id or 0 for c in batch],
            "fav_count": [c.fav_count or 0 for c in batch], "retweet_count": [c.repost_count or 0 for c in batch],
            "reply_count": [0] * len(batch), "quoted_tweet_id": [c.quoted_tweet_id or 0 for c in batch],
            "quoted_author_id": [0] * len(batch), "created_at_ms": [c.created_at_ms or 0 for c in batch],
            "author_followers": [c.author_followers_count or 0 for c in batch],
            "in_reply_to_tweet_id": [c.in_reply_to_tweet_id or 0 for c in batch],
        }
        assert {name: columns[name].tolist() for name in want} == want
        topics = [c.topic_id or 0 for c in batch]
        assert sids.reshape(-1).tolist() == (topics if any(topics) else [])  # all 0: no semantic ids sent


def test_core_data_setter_sets_exactly_its_columns_in_order() -> None:
    import dataclasses

    from candidate_pipeline.columns import apply_columns
    from home_mixer.candidate_hydrators.core_data import CORE_FIELDS, set_core_fields

    fields = [f.name for f in dataclasses.fields(PostCandidate)]
    assert set(CORE_FIELDS) <= set(fields) and len(set(CORE_FIELDS)) == len(CORE_FIELDS)
    values = {name: [f"{name}-{i}" for i in range(3)] for name in CORE_FIELDS}  # every value distinct
    by_setattr = [PostCandidate(i + 1, 7) for i in range(3)]
    by_setter = [PostCandidate(i + 1, 7) for i in range(3)]
    apply_columns(by_setattr, Columns(3, values))
    apply_columns(by_setter, Columns(3, values, setter=set_core_fields))
    for a, b in zip(by_setattr, by_setter, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert by_setter[2].text == "text-2" and by_setter[0].core_data_hydrated == "core_data_hydrated-0"
