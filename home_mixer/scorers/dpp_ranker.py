"""Optional DPP diversity re-ranker (X's VMRanker with value model "dpp", reference §6.4).

Takes the top ``max_selected_rank`` (150) ranker-scored candidates, builds the kernel
``L_ij = qf_i * qf_j * cos(e_i, e_j)`` with ``qf_i = exp(alpha * score_i / max_score)`` and
``alpha = theta / (2 (1 - theta))`` (theta 0.65), and greedily picks up to ``top_k`` (50) posts
by the MAP rule with incremental Cholesky updates, stopping when the residual gain is <= 1e-6.
Selected posts keep their score; every other ranker-scored candidate gets score 0, as X.
Candidates ordered by the ranker fallback are left alone. Embeddings come from
``Deps.embeddings`` (default: hashed-id unit vectors, see ``home_mixer.embeddings``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from candidate_pipeline import BaseStage
from home_mixer.deps import Deps, PostEmbeddings
from home_mixer.embeddings import HashedIdEmbeddings
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import DPP_MAX_SELECTED_RANK, DPP_THETA, DPP_TOP_K

RESIDUAL_EPS = 1e-6


def greedy_dpp(quality: np.ndarray, embeddings: np.ndarray, top_k: int) -> list[int]:
    """Greedy MAP inference for a DPP with kernel ``diag(q) S diag(q)``, S = cosine similarity.

    Returns selected row indices in selection order (Chen et al. 2018, incremental Cholesky).
    """
    n = len(quality)
    if n == 0 or top_k <= 0:
        return []
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    e = embeddings / np.where(norms == 0, 1.0, norms)
    kernel = quality[:, None] * (e @ e.T) * quality[None, :]
    d2 = np.diag(kernel).astype(np.float64).copy()
    c = np.zeros((min(top_k, n), n))
    selected: list[int] = []
    j = int(np.argmax(d2))
    while len(selected) < min(top_k, n):
        if d2[j] <= RESIDUAL_EPS:
            break
        selected.append(j)
        t = len(selected) - 1
        dj = math.sqrt(d2[j])
        ei = (kernel[j, :] - c[:t, j] @ c[:t, :]) / dj
        c[t, :] = ei
        d2 = d2 - ei**2
        d2[selected] = -np.inf
        j = int(np.argmax(d2))
    return selected


class DppRanker(BaseStage):
    def __init__(
        self,
        embeddings: PostEmbeddings,
        theta: float = DPP_THETA,
        max_selected_rank: int = DPP_MAX_SELECTED_RANK,
        top_k: int = DPP_TOP_K,
    ) -> None:
        if not 0.0 <= theta < 1.0:
            raise ValueError(f"theta must be in [0, 1), got {theta}")
        self.embeddings = embeddings
        self.alpha = theta / (2.0 * (1.0 - theta))
        self.max_selected_rank = max_selected_rank
        self.top_k = top_k

    async def score(self, query: FeedQuery, candidates: Sequence[PostCandidate]) -> list[dict[str, Any] | None]:
        out: list[dict[str, Any] | None] = [None] * len(candidates)
        pool = sorted(
            (i for i, c in enumerate(candidates) if c.score is not None and not c.ranking_fallback),
            key=lambda i: -candidates[i].score,
        )
        if not pool:
            return out
        top = pool[: self.max_selected_rank]
        scores = np.array([candidates[i].score for i in top], dtype=np.float64)
        max_score = scores.max()
        q = scores / max_score if max_score > 0 else np.zeros_like(scores)
        quality = np.exp(self.alpha * q)
        emb = self.embeddings.embed([candidates[i].original_tweet_id for i in top])
        chosen = {top[k] for k in greedy_dpp(quality, emb, self.top_k)}
        for i in pool:
            c = candidates[i]
            kept = i in chosen
            new = c.score if kept else 0.0
            out[i] = {"score": new}
            if query.debug:  # explanations are for debug responses only
                out[i]["explanation"] = c.explanation.with_multiplier("dpp_selected", 1.0 if kept else 0.0, new)
        return out


def build(
    deps: Deps, theta: float = DPP_THETA, max_selected_rank: int = DPP_MAX_SELECTED_RANK, top_k: int = DPP_TOP_K,
    embedding_dim: int = 64,
) -> DppRanker:
    embeddings = deps.embeddings if deps is not None and deps.embeddings is not None else HashedIdEmbeddings(embedding_dim)
    return DppRanker(embeddings, theta, max_selected_rank, top_k)
