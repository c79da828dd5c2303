"""The weighted score: one number from the ranker's action probabilities (X's [Aug] RankingScorer step 1).

``term = P(action) * weight``; ``combined = sum(positive terms) - sum(|negative terms|)``; then
X's offset rule keeps every score non-negative while preserving order: net-negative posts land
in ``[0, 0.001)`` (scaled by how negative they are), net-positive posts at ``combined + 0.001``.
Per-candidate weight rules: reply weight +15 for a mutual-follow author's non-repost; the
video-quality-view weight only for videos longer than 10 s shown to viewers with < 10,000
followers; ``post_unexplored`` only for in-network posts. The sums in the offset rule always
use the BASE weights. The explanation (sums and per-action ``terms``) is built for debug
requests (or with ``always_explain``); every other request gets the same scores without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np

from candidate_pipeline import BaseStage, Columns
from home_mixer.action_scores import as_plain_dict, shared_table
from home_mixer.deps import Deps
from home_mixer.models import ActionTerm, FeedQuery, PostCandidate, ScoreExplanation
from home_mixer.params import (
    BIDIRECTIONAL_FOLLOW_REPLY_WEIGHT_BOOST,
    MIN_VIDEO_DURATION_MS,
    NEGATIVE_SCORES_OFFSET,
    VQV_VIEWER_FOLLOWER_CUTOFF,
)
from home_mixer.score_terms import LazyTerms, TermTable
from home_mixer.scorers.weights import validate_weights, weight_sums


def apply_offset(combined: float, negative_sum: float, total_sum: float, offset: float = NEGATIVE_SCORES_OFFSET) -> float:
    """X's offset rule (reference §6.1)."""
    if total_sum == 0:
        return max(combined, 0.0)
    if combined < 0:
        return (combined + negative_sum) / total_sum * offset
    return combined + offset


def probabilities_of(all_scores: Sequence[Mapping[str, float]], actions: Sequence[str]) -> np.ndarray:
    """``[candidates, actions]`` float64, 0.0 where a candidate has no such action: straight from
    the ranker's matrix when every entry is a view of one table, else with C-level ``dict.get``
    passes (plain dicts, e.g. replayed from the cache)."""
    out = np.zeros((len(all_scores), len(actions)))
    shared = shared_table(all_scores)
    if shared is not None:
        table, rows = shared
        block = table.values[np.asarray(rows, dtype=np.intp)]
        for j, action in enumerate(actions):
            if action in table.index:
                out[:, j] = block[:, table.index[action]]
        return out
    dicts = [s if type(s) is dict else as_plain_dict(s) for s in all_scores]
    for j, action in enumerate(actions):
        out[:, j] = np.fromiter(map(dict.get, dicts, repeat(action), repeat(0.0)), dtype=np.float64, count=len(dicts))
    return out


class WeightedScorer(BaseStage):
    def __init__(
        self,
        weights: Mapping[str, float] | None = None,
        reply_mutual_follow_boost: float = BIDIRECTIONAL_FOLLOW_REPLY_WEIGHT_BOOST,
        min_video_duration_ms: int = MIN_VIDEO_DURATION_MS,
        vqv_viewer_follower_cutoff: int = VQV_VIEWER_FOLLOWER_CUTOFF,
        post_unexplored_in_network_only: bool = True,
        offset: float = NEGATIVE_SCORES_OFFSET,
        always_explain: bool = False,
    ) -> None:
        self.weights = validate_weights(weights or {})
        self.positive_sum, self.negative_sum, self.total_sum = weight_sums(self.weights)
        self.reply_boost = reply_mutual_follow_boost
        self.min_video_duration_ms = min_video_duration_ms
        self.vqv_cutoff = vqv_viewer_follower_cutoff
        self.post_unexplored_in_network_only = post_unexplored_in_network_only
        self.offset = offset
        self.always_explain = always_explain
        self._tables: dict[tuple[bool, bool, bool], tuple[tuple[str, float], ...]] = {}

    def candidate_weights(self, query: FeedQuery, c: PostCandidate) -> dict[str, float]:
        """The base weights with this candidate's rules applied."""
        return dict(self._weight_table(query, c))

    def _variant(self, query: FeedQuery, c: PostCandidate) -> tuple[bool, bool, bool]:
        """Which of the three per-candidate weight rules apply: (reply boost, vqv, unexplored)."""
        boost = bool(c.is_mutual_follow and not c.is_repost)
        video_ok = (c.min_video_duration_ms or 0) > self.min_video_duration_ms
        vqv = video_ok and (query.viewer_followers_count or 0) < self.vqv_cutoff
        unexplored = not (self.post_unexplored_in_network_only and not c.in_network)
        return (boost, vqv, unexplored)

    def _variants(self, query: FeedQuery, scored: Sequence[PostCandidate]) -> list[tuple[bool, bool, bool]]:
        """:meth:`_variant` of every candidate, one comprehension per rule instead of a call each."""
        boost = [bool(c.is_mutual_follow and not c.retweeted_tweet_id) for c in scored]
        viewer_ok = (query.viewer_followers_count or 0) < self.vqv_cutoff
        vqv = [viewer_ok and (c.min_video_duration_ms or 0) > self.min_video_duration_ms for c in scored]
        unexplored = [bool(c.in_network) for c in scored] if self.post_unexplored_in_network_only else [True] * len(scored)
        return list(zip(boost, vqv, unexplored, strict=True))

    def _weight_table(self, query: FeedQuery, c: PostCandidate) -> tuple[tuple[str, float], ...]:
        """The candidate's (action, weight) pairs. The three rules give at most 8 variants,
        built once per scorer and shared by every candidate (no per-candidate dict copy)."""
        return self._table(self._variant(query, c))

    def _table(self, key: tuple[bool, bool, bool]) -> tuple[tuple[str, float], ...]:
        boost, vqv, unexplored = key
        table = self._tables.get(key)
        if table is None:
            w = dict(self.weights)
            if boost:
                w["reply"] = w["reply"] + self.reply_boost
            if not vqv:
                w["vqv"] = 0.0
            if not unexplored:
                w["post_unexplored"] = 0.0
            table = self._tables[key] = tuple(w.items())
        return table

    def explain(self, query: FeedQuery, c: PostCandidate, with_terms: bool = True) -> ScoreExplanation:
        """The weighted-score breakdown of one scored candidate; the per-action ``terms`` only
        ``with_terms`` (the sums and scores are the same either way)."""
        scores = c.phoenix_scores
        assert scores is not None
        terms = []
        pos = neg = 0.0
        get = scores.get
        make_term = ActionTerm._make  # tuple.__new__ directly: skips the generated __new__'s call
        for action, weight in self._weight_table(query, c):
            p = float(get(action, 0.0))
            contribution = p * weight
            if contribution > 0:
                pos += contribution
            else:
                neg -= contribution
            if with_terms and not (weight == 0.0 and p == 0.0):
                terms.append(make_term((action, p, weight, contribution)))
        weighted = apply_offset(pos - neg, self.negative_sum, self.total_sum, self.offset)
        return c.explanation.evolve(
            terms=tuple(terms),
            positive_sum=pos,
            negative_sum=neg,
            weighted_score=weighted,
            cold_start_score=weighted,
            final_score=weighted,
            scored=True,
            predicted_dwell_s=c.predicted_dwell_s,
        )

    def matrices(self, query: FeedQuery, scored: Sequence[PostCandidate]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(actions, probabilities ``[n, actions]``, weights ``[n, actions]``) of scored
        candidates (:func:`probabilities_of`), each row's weights from its variant's table."""
        keys = self._variants(query, scored)
        variants = list(dict.fromkeys(keys))
        tables = [self._table(v) for v in variants]
        actions = [a for a, _ in tables[0]]
        table_weights = np.array([[w for _, w in t] for t in tables], dtype=np.float64)
        if len(variants) == 1:
            weights = np.broadcast_to(table_weights[0], (len(scored), len(actions)))
        else:
            position = {v: k for k, v in enumerate(variants)}
            weights = table_weights[np.fromiter(map(position.__getitem__, keys), dtype=np.intp, count=len(keys))]
        return actions, probabilities_of([c.phoenix_scores for c in scored], actions), weights

    def _sums(self, contributions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The same IEEE operations in the same order as :meth:`explain` (one action column at a
        time, left to right), so every number is bit-identical to the per-candidate loop."""
        pos = np.zeros(len(contributions))
        neg = np.zeros(len(contributions))
        for column in contributions.T:
            positive = column > 0
            pos += np.where(positive, column, 0.0)
            neg -= np.where(positive, 0.0, column)
        combined = pos - neg
        if self.total_sum == 0:
            weighted = np.maximum(combined, 0.0)
        else:
            shifted = (combined + self.negative_sum) / self.total_sum * self.offset
            weighted = np.where(combined < 0, shifted, combined + self.offset)
        return pos, neg, weighted

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> Columns:
        # Explanations (~25 terms per candidate, ~50,000 objects per request) are built only for a
        # debug response or a scorer built with always_explain; the scores are the same either way.
        explain = self.always_explain or query.debug
        rows = [i for i, c in enumerate(candidates) if c.phoenix_scores is not None]
        scored = [candidates[i] for i in rows]
        weighted: list[float | None] = [None] * len(candidates)
        explanations: list[ScoreExplanation] = []
        if scored:
            actions, probabilities, weights = self.matrices(query, scored)
            contributions = probabilities * weights
            pos, neg, scores = self._sums(contributions)
            for i, s in zip(rows, scores.tolist(), strict=True):
                weighted[i] = s
            if explain:
                explanations = self._explanations(
                    scored, actions, probabilities, weights, contributions, (pos, neg, scores))
        columns: dict[str, list[Any]] = {"weighted_score": weighted, "score": list(weighted)}
        if explain:
            of_scored = iter(explanations)
            columns["explanation"] = [
                c.explanation.evolve(scored=False, weighted_score=None, final_score=None)
                if c.phoenix_scores is None else next(of_scored)
                for c in candidates
            ]
        return Columns(len(candidates), columns)

    def _explanations(
        self, scored: Sequence[PostCandidate], actions: list[str], probabilities: np.ndarray, weights: np.ndarray,
        contributions: np.ndarray, sums: tuple[np.ndarray, np.ndarray, np.ndarray],
    ) -> list[ScoreExplanation]:
        """:meth:`explain` of every scored candidate from the vectorised pieces; the terms are
        views of one :class:`TermTable`, made into records only for the posts a response shows."""
        table = TermTable(actions, probabilities, weights, contributions)
        return [
            c.explanation.evolve(
                terms=LazyTerms(table, row), positive_sum=pos, negative_sum=neg, weighted_score=s,
                cold_start_score=s, final_score=s, scored=True, predicted_dwell_s=c.predicted_dwell_s,
            )
            for row, (c, pos, neg, s) in enumerate(zip(scored, *(column.tolist() for column in sums), strict=True))
        ]


def build(deps: Deps, weights: Mapping[str, float] | None = None, **params: Any) -> WeightedScorer:
    return WeightedScorer(weights, **params)
