"""The weighted score: one number from the ranker's action probabilities (X's [Aug] RankingScorer step 1).

``term = P(action) * weight``; ``combined = sum(positive terms) - sum(|negative terms|)``; then
X's offset rule keeps every score non-negative while preserving order: net-negative posts land
in ``[0, 0.001)`` (scaled by how negative they are), net-positive posts at ``combined + 0.001``.
Per-candidate weight rules: reply weight +15 for a mutual-follow author's non-repost; the
video-quality-view weight only for videos longer than 10 s shown to viewers with < 10,000
followers; ``post_unexplored`` only for in-network posts. The sums in the offset rule always
use the BASE weights. The explanation's per-action ``terms`` are built for debug requests (or
with ``always_explain``); every other request gets the same sums and scores without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps
from home_mixer.models import ActionTerm, FeedQuery, PostCandidate, ScoreExplanation
from home_mixer.params import (
    BIDIRECTIONAL_FOLLOW_REPLY_WEIGHT_BOOST,
    MIN_VIDEO_DURATION_MS,
    NEGATIVE_SCORES_OFFSET,
    VQV_VIEWER_FOLLOWER_CUTOFF,
)
from home_mixer.scorers.weights import validate_weights, weight_sums


def apply_offset(combined: float, negative_sum: float, total_sum: float, offset: float = NEGATIVE_SCORES_OFFSET) -> float:
    """X's offset rule (reference §6.1)."""
    if total_sum == 0:
        return max(combined, 0.0)
    if combined < 0:
        return (combined + negative_sum) / total_sum * offset
    return combined + offset


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

    def _weight_table(self, query: FeedQuery, c: PostCandidate) -> tuple[tuple[str, float], ...]:
        """The candidate's (action, weight) pairs. The three rules give at most 8 variants,
        built once per scorer and shared by every candidate (no per-candidate dict copy)."""
        boost = bool(c.is_mutual_follow and not c.is_repost)
        video_ok = (c.min_video_duration_ms or 0) > self.min_video_duration_ms
        vqv = video_ok and (query.viewer_followers_count or 0) < self.vqv_cutoff
        unexplored = not (self.post_unexplored_in_network_only and not c.in_network)
        key = (boost, vqv, unexplored)
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
        )

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any]]:
        # ~25 term records per candidate are ~50,000 objects per request; only a debug response
        # (or a scorer built with always_explain) shows them, so only then are they built.
        with_terms = self.always_explain or query.debug
        out: list[dict[str, Any]] = []
        for c in candidates:
            if c.phoenix_scores is None:
                exp = c.explanation.evolve(scored=False, weighted_score=None, final_score=None)
                out.append({"weighted_score": None, "score": None, "explanation": exp})
                continue
            exp = self.explain(query, c, with_terms)
            out.append({"weighted_score": exp.weighted_score, "score": exp.weighted_score, "explanation": exp})
        return out


def build(deps: Deps, weights: Mapping[str, float] | None = None, **params: Any) -> WeightedScorer:
    return WeightedScorer(weights, **params)
