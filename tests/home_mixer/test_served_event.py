"""The served event carries every selected candidate and the best ``max_non_selected`` others; the
scored-posts cache keeps the best positive weighted scores."""

from __future__ import annotations

import asyncio
import heapq
import math
import random

import numpy as np
import pytest

from candidate_pipeline import SideEffectInput
from home_mixer.action_scores import ScoreTable
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.side_effects.scored_posts_cache import ScoredPostsCacheSideEffect
from home_mixer.side_effects.served_event import (
    ServedEventSideEffect,
    best_non_selected,
    candidate_probabilities,
    served_feed,
)
from protos import events_pb2
from tests.home_mixer.fakes import FakeFeedState, FakePublisher


def test_best_non_selected_keeps_the_highest_scores_and_unscored_last() -> None:
    cands = [PostCandidate(i, 1, score=s) for i, s in enumerate([0.1, None, 0.9, 0.5, None, 0.0])]
    assert [c.tweet_id for c in best_non_selected(cands, 4)] == [2, 3, 0, 5]
    assert [c.tweet_id for c in best_non_selected(cands, 5)][-1] in {1, 4}
    assert best_non_selected(cands, 10) == cands and best_non_selected(cands, 0) == []


def test_served_event_is_capped_but_keeps_every_selected_post() -> None:
    publisher = FakePublisher()
    selected = [PostCandidate(i, 1, score=0.01) for i in range(3)]
    others = [PostCandidate(100 + i, 2, score=float(i)) for i in range(10)]
    inp = SideEffectInput(FeedQuery(viewer_id=5, request_id="r"), selected, others)
    asyncio.run(ServedEventSideEffect(publisher, max_non_selected=4).run(inp))
    (feed,) = publisher.feeds
    assert [c.post_id for c in feed.candidates if c.selected] == [0, 1, 2]
    assert [c.post_id for c in feed.candidates if not c.selected] == [109, 108, 107, 106]
    with pytest.raises(ValueError):
        ServedEventSideEffect(publisher, max_non_selected=-1)


def test_best_non_selected_equals_nlargest_with_ties_and_unscored() -> None:
    rng = random.Random(4)
    cands = [PostCandidate(i, 1, score=rng.choice([None, 0.0, -0.0, 0.5, 0.5, rng.random(), -1.0])) for i in range(300)]
    for limit in (0, 1, 50, 250, 299):
        want = heapq.nlargest(limit, cands, key=lambda c: (c.score is not None, c.score or 0.0))
        assert best_non_selected(cands, limit) == want


def test_scored_posts_cache_keeps_the_best_positive_weighted_scores_in_order() -> None:
    store = FakeFeedState()
    weighted = [0.2, None, 0.9, 0.0, 0.2, -0.1, 0.5, 0.9]
    cands = [PostCandidate(i + 1, 1, weighted_score=w) for i, w in enumerate(weighted)]
    inp = SideEffectInput(query=FeedQuery(viewer_id=3), selected=cands[:2], non_selected=cands[2:])
    asyncio.run(ScoredPostsCacheSideEffect(store, max_posts=4).run(inp))
    [(key, cached)] = store.cache.items()
    assert key == (3, "all") and [c.tweet_id for c in cached] == [3, 8, 7, 1]  # ties keep their order


def _scored(i: int, scores: dict[str, float] | None) -> PostCandidate:
    return PostCandidate(i, 10 + i, score=None if scores is None else 0.1 * i, phoenix_scores=scores)


def test_probabilities_travel_as_one_matrix_and_read_back_per_candidate() -> None:
    table = ScoreTable(("favorite", "reply", "dwell_time"), np.array([[0.5, 1e-300, -0.0], [0.25, 0.0, 3.5], [1.0, 0.5, math.inf]]))
    views = table.views()
    cands = [_scored(1, views[2]), _scored(2, None), _scored(3, views[0]), _scored(4, views[1])]
    feed = served_feed(FeedQuery(viewer_id=5, request_id="r"), cands[:1], cands[1:])
    assert list(feed.probability_actions) == ["favorite", "reply", "dwell_time"]
    assert [c.has_probabilities for c in feed.candidates] == [True, False, True, True]
    assert all(not c.action_probabilities for c in feed.candidates)  # no per-candidate maps
    back = events_pb2.ServedFeed.FromString(feed.SerializeToString())
    got = candidate_probabilities(back)
    assert got == [dict(views[2]), {}, dict(views[0]), dict(views[1])]
    assert math.copysign(1.0, got[2]["dwell_time"]) == -1.0
    # equal-keyed plain dicts (e.g. replayed from the cache) give the same event
    as_dicts = [_scored(c.tweet_id, None if c.phoenix_scores is None else dict(c.phoenix_scores)) for c in cands]
    assert served_feed(FeedQuery(viewer_id=5, request_id="r"), as_dicts[:1], as_dicts[1:]) == feed


def test_predictions_naming_different_actions_go_per_candidate_and_old_events_still_read() -> None:
    cands = [_scored(1, {"favorite": 0.5, "reply": 0.1}), _scored(2, {"reply": 0.2, "favorite": 0.3}),
             _scored(3, {"favorite": 0.7}), _scored(4, None), _scored(5, {})]
    feed = served_feed(FeedQuery(viewer_id=5, request_id="r"), [], cands)
    assert not feed.probability_actions and not feed.probabilities
    assert not any(c.has_probabilities for c in feed.candidates)
    assert candidate_probabilities(feed) == [{"favorite": 0.5, "reply": 0.1}, {"reply": 0.2, "favorite": 0.3},
                                             {"favorite": 0.7}, {}, {}]
    # an event written before the matrix existed: maps only (what older home-mixers published)
    old = events_pb2.ServedFeed(event_id="old", candidates=[
        events_pb2.ServedCandidate(post_id=1, action_probabilities={"favorite": 0.5}), events_pb2.ServedCandidate(post_id=2)])
    assert candidate_probabilities(old) == [{"favorite": 0.5}, {}]


def test_no_scored_candidate_and_a_malformed_matrix() -> None:
    feed = served_feed(FeedQuery(viewer_id=5, request_id="r"), [_scored(1, None)], [_scored(2, None)])
    assert not feed.probability_actions and candidate_probabilities(feed) == [{}, {}]
    bad = events_pb2.ServedFeed(event_id="bad", probability_actions=["favorite", "reply"], probabilities=[0.5, 0.1, 0.2],
                                candidates=[events_pb2.ServedCandidate(post_id=1, has_probabilities=True)])
    with pytest.raises(ValueError, match="3 probabilities for 1 scored candidates x 2 actions"):
        candidate_probabilities(bad)
