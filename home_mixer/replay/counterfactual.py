"""Counterfactual relevance on the synthetic world: how the viewer WOULD have responded to each
configuration's served list, judged by the world's own truth instead of the logged session.

Logged metrics can only credit posts the world's logging policy happened to show (half of every
logged session is the newest in-network posts, so they favour chronological even for a perfect
model). Here every served post gets a gain from the oracle, whether or not it was ever shown:

* **gain** of post p = P(the viewer takes at least one POSITIVE action on p) under the world's
  independent per-action probabilities (``1 - Π(1 - p_a)`` over the actions ``sessions.is_positive``
  counts as engagement, i.e. the same definition the logged protocol uses), evaluated at the
  request time with the viewer's follow state at that moment and AT THE TOP OF THE FEED
  (position 0): the NDCG discount is the position model, so the world's position term is not
  applied twice.
* **oracle NDCG@K** = DCG of the served gains / DCG of the ideal order, with linear gains (so it
  is the expected binary DCG under the truth, relative to the best achievable). The ideal is
  the top K gains of the UNION of the posts every configuration served at that request: one
  ideal per request, shared by all configurations, so their values are directly comparable.
* **sampled NDCG@K** draws one engagement per (request, post) from its gain with a generator
  seeded by ``(seed, request index, post id)``: the same post at the same request has the same
  outcome whichever configuration served it (common random numbers), and two runs draw the same.
  Binary NDCG against the sampled-positive posts of the union (NaN when none is positive).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from events.world.actions import ORACLE_ACTIONS
from events.world.world import World
from home_mixer.replay.ranking_metrics import ndcg_at_k
from home_mixer.replay.sessions import is_positive
from home_mixer.replay.strategies import ServedItem

ORACLE_KS: tuple[int, ...] = (10, 35)
SAMPLED_K = 35
POSITIVE_COLUMNS = np.array([i for i, a in enumerate(ORACLE_ACTIONS) if is_positive(a)], np.int64)


def counterfactual_metric_names() -> list[str]:
    return [f"oracle_ndcg@{k}" for k in ORACLE_KS] + [f"sampled_ndcg@{SAMPLED_K}"]


def graded_ndcg_at_k(gains: Sequence[float], ideal_gains: Sequence[float], k: int) -> float:
    """NDCG@K with graded (linear) gains: ``gains`` in served order, ``ideal_gains`` any order (the
    ideal sorts them). NaN when the ideal DCG is 0 (nothing anyone could have served was relevant)."""
    ideal = sorted((float(g) for g in ideal_gains), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg <= 0:
        return float("nan")
    dcg = sum(float(g) / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    return dcg / idcg


class CounterfactualJudge:
    """Per-request oracle gains for the union of served posts, and each list's counterfactual NDCG."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed

    def gains(self, viewer_id: int, posts: Mapping[int, int], following: set[int], now_ms: int) -> dict[int, float]:
        """``posts``: post id -> author id. P(any positive action) at position 0; 0 for a post the
        world does not know (it cannot be engaged with)."""
        ids, rows, follows = [], [], []
        for post_id, author_id in posts.items():
            try:
                rows.append(self.world.posts.row_of(post_id))
            except KeyError:
                continue
            ids.append(post_id)
            follows.append(author_id in following)
        out = dict.fromkeys(posts, 0.0)
        if not rows:
            return out
        n = len(rows)
        probs = self.world.oracle_rows(np.full(n, self.world.user_index(viewer_id)), np.array(rows), np.zeros(n),
                                       np.array(follows), np.full(n, now_ms, np.int64))
        engaged = 1.0 - np.prod(1.0 - probs[:, POSITIVE_COLUMNS], axis=1)
        out.update(zip(ids, engaged.tolist(), strict=True))
        return out

    def sampled(self, request_index: int, gains: Mapping[int, float]) -> set[int]:
        """The posts drawn as engaged: one uniform per (seed, request, post), independent of which
        configurations served the post and of the order of the union."""
        return {p for p, g in gains.items()
                if np.random.default_rng([self.seed, request_index, p]).random() < g}

    def judge(self, request_index: int, viewer_id: int, served: Mapping[str, Sequence[ServedItem]],
              following: set[int], now_ms: int) -> dict[str, dict[str, float]]:
        """Strategy -> {oracle_ndcg@K..., sampled_ndcg@K} for one request."""
        union: dict[int, int] = {}
        for items in served.values():
            for s in items:
                union.setdefault(s.post_id, s.author_id)
        gains = self.gains(viewer_id, union, following, now_ms)
        positives = self.sampled(request_index, gains)
        ideal = list(gains.values())
        out: dict[str, dict[str, float]] = {}
        for name, items in served.items():
            served_gains = [gains[s.post_id] for s in items]
            m = {f"oracle_ndcg@{k}": graded_ndcg_at_k(served_gains, ideal, k) for k in ORACLE_KS}
            ids = [s.post_id for s in items]
            m[f"sampled_ndcg@{SAMPLED_K}"] = ndcg_at_k(ids, positives, SAMPLED_K) if positives else float("nan")
            out[name] = m
        return out
