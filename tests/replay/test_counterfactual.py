"""Counterfactual relevance: graded NDCG by hand, and the judge on the tiny world's real oracle."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from events.world.config import HOUR_MS, WorldConfig
from events.world.world import World
from home_mixer.replay.counterfactual import CounterfactualJudge, graded_ndcg_at_k
from home_mixer.replay.strategies import ServedItem


@pytest.fixture(scope="module")
def world() -> World:
    return World.build(WorldConfig.preset("tiny", seed=0))


def test_graded_ndcg_worked_example() -> None:
    gains, ideal = [0.2, 0.5], [0.5, 0.2, 0.9]
    dcg = 0.2 + 0.5 / math.log2(3)
    idcg = 0.9 + 0.5 / math.log2(3)
    assert graded_ndcg_at_k(gains, ideal, 2) == pytest.approx(dcg / idcg)
    assert graded_ndcg_at_k([0.9, 0.5], ideal, 2) == pytest.approx(1.0)
    assert math.isnan(graded_ndcg_at_k([0.0], [0.0, 0.0], 2))  # nothing anyone served was relevant
    assert graded_ndcg_at_k([], ideal, 2) == 0.0


def _items(world: World, rows: np.ndarray) -> list[ServedItem]:
    p = world.posts
    return [ServedItem(int(p.post_id[r]), int(p.post_id[r]), int(p.author[r]) + 1, int(p.created_ms[r]))
            for r in rows]


def test_list_sorted_by_oracle_gain_scores_one_and_others_less(world: World) -> None:
    judge = CounterfactualJudge(world, seed=3)
    now = int(world.posts.created_ms[200]) + HOUR_MS
    rows = np.arange(0, 200, 2)
    items = _items(world, rows)
    following = {items[0].author_id, items[5].author_id}
    gains = judge.gains(1, {s.post_id: s.author_id for s in items}, following, now)
    assert all(0.0 < g < 1.0 for g in gains.values()) and len(set(gains.values())) > 10
    best = sorted(items, key=lambda s: -gains[s.post_id])
    worst = best[::-1]
    out = judge.judge(0, 1, {"best": best, "worst": worst, "half": best[: len(best) // 2]}, following, now)
    assert out["best"]["oracle_ndcg@35"] == pytest.approx(1.0)
    assert out["best"]["oracle_ndcg@10"] == pytest.approx(1.0)
    assert out["worst"]["oracle_ndcg@35"] < 0.9
    assert out["half"]["oracle_ndcg@35"] == pytest.approx(1.0)  # the top half holds the top 35
    # Following an author raises the truth for that author's posts (the follow state is used).
    alone = judge.gains(1, {items[0].post_id: items[0].author_id}, set(), now)
    assert gains[items[0].post_id] > alone[items[0].post_id]


def test_sampled_engagements_are_common_random_numbers(world: World) -> None:
    judge = CounterfactualJudge(world, seed=3)
    gains = {int(p): 0.5 for p in world.posts.post_id[:400]}
    drawn = judge.sampled(7, gains)
    assert 120 < len(drawn) < 280
    # The same post at the same request gets the same outcome whatever else is in the union, in any order.
    part = dict(list(gains.items())[::-1][:100])
    assert judge.sampled(7, part) == drawn & set(part)
    assert judge.sampled(8, gains) != drawn  # another request draws anew
    assert CounterfactualJudge(world, seed=4).sampled(7, gains) != drawn
    assert judge.sampled(7, dict.fromkeys(gains, 0.0)) == set()


def test_judge_is_deterministic_and_unknown_posts_gain_nothing(world: World) -> None:
    now = int(world.posts.created_ms[300]) + HOUR_MS
    items = _items(world, np.arange(100, 160))
    ghost = ServedItem(10**18 + 1, 10**18 + 1, 5, now - 1000)
    lists = {"a": items[:35], "b": [ghost, *items[20:54]]}
    first = CounterfactualJudge(world, seed=0).judge(2, 3, lists, set(), now)
    second = CounterfactualJudge(world, seed=0).judge(2, 3, lists, set(), now)
    assert json.dumps(first) == json.dumps(second)  # exact, NaN included
    assert CounterfactualJudge(world, seed=0).gains(3, {ghost.post_id: 5}, set(), now) == {ghost.post_id: 0.0}
    assert 0.0 < first["b"]["oracle_ndcg@35"] < 1.0
