"""The served event carries every selected candidate and the best ``max_non_selected`` others; the
scored-posts cache keeps the best positive weighted scores."""

from __future__ import annotations

import asyncio
import heapq
import random

import pytest

from candidate_pipeline import SideEffectInput
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.side_effects.scored_posts_cache import ScoredPostsCacheSideEffect
from home_mixer.side_effects.served_event import ServedEventSideEffect, best_non_selected
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
