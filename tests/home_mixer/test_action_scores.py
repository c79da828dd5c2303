"""Per-candidate views of the ranker's score matrix read exactly as the dicts they replace."""

from __future__ import annotations

import asyncio
import copy
import json
import random

import numpy as np
import pytest

from candidate_pipeline.updates import apply_candidate_results
from home_mixer import scored_posts_codec
from home_mixer.action_scores import ActionScores, ScoreTable, as_plain_dict, shared_table
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.scorers.weighted_scorer import WeightedScorer
from home_mixer.side_effects.served_event import served_feed

NAMES = ("favorite", "reply", "report", "dwell_time")


def _table(n: int, seed: int = 0) -> ScoreTable:
    rng = np.random.default_rng(seed)
    return ScoreTable(NAMES, rng.random((n, len(NAMES))) ** 3)


def test_a_view_reads_as_its_row_dict() -> None:
    table = _table(3)
    view = ActionScores(table, 1)
    want = dict(zip(NAMES, table.values[1].tolist(), strict=True))
    assert view == want and want == view and dict(view) == want and as_plain_dict(view) == want
    assert view["reply"] == want["reply"] and view.get("click", 0.5) == 0.5 and "click" not in view
    assert list(view) == list(NAMES) and len(view) == 4 and all(type(v) is float for v in view.values())
    assert view.as_dict() is not view.as_dict()  # a new dict each time: callers may keep or change it
    assert copy.deepcopy(view) == want
    assert view != ActionScores(table, 2) and view == ActionScores(ScoreTable(NAMES, table.values.copy()), 1)


def test_bad_tables_and_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        ScoreTable(NAMES, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="repeat"):
        ScoreTable(("a", "a"), np.zeros((1, 2)))
    with pytest.raises(IndexError):
        ActionScores(_table(2), 2)


def test_shared_table_only_for_views_of_one_table() -> None:
    table, other = _table(3), _table(3, seed=1)
    views = table.views()
    assert shared_table(views) == (table, [0, 1, 2])
    assert shared_table([views[2], views[0]]) == (table, [2, 0])
    assert shared_table([views[0], ActionScores(other, 0)]) is None
    assert shared_table([views[0], dict(views[1])]) is None and shared_table([]) is None


def _candidates(scores: list) -> list[PostCandidate]:
    rng = random.Random(3)
    return [PostCandidate(i + 1, rng.randint(1, 9), in_network=rng.random() < 0.5, is_mutual_follow=rng.random() < 0.3,
                          phoenix_scores=s, weighted_score=0.1 + i, score=0.2 + i) for i, s in enumerate(scores)]


def test_weighted_scores_codec_and_served_event_are_the_same_for_views_and_dicts() -> None:
    views = _table(40).views()
    with_views, with_dicts = _candidates(views), _candidates([dict(v) for v in views])
    for query in (FeedQuery(viewer_id=1), FeedQuery(viewer_id=1, debug=True)):
        for cands in (with_views, with_dicts):
            apply_candidate_results(cands, asyncio.run(WeightedScorer().score(query, cands)))
        assert [c.score for c in with_views] == [c.score for c in with_dicts]
        assert [c.explanation for c in with_views] == [c.explanation for c in with_dicts]
    assert scored_posts_codec.encode(with_views) == scored_posts_codec.encode(with_dicts)
    back = scored_posts_codec.decode(scored_posts_codec.encode(with_views))
    assert [type(c.phoenix_scores) for c in back] == [dict] * 40
    assert [c.phoenix_scores for c in back] == [c.phoenix_scores for c in with_dicts]
    query = FeedQuery(viewer_id=1)
    assert served_feed(query, with_views[:5], with_views[5:]) == served_feed(query, with_dicts[:5], with_dicts[5:])
    assert json.dumps(with_views[0].to_dict()) == json.dumps(with_dicts[0].to_dict())
