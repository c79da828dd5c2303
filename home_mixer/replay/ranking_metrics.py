"""Per-request ranking metrics against the posts a user engaged with afterwards.

All functions take the served list (ordered post ids) and the set of relevant (engaged) ids and
return a float, so the replay can average them per configuration and bootstrap intervals over
requests. Binary relevance, as in the HSTU protocol; NDCG uses the ideal ordering of the relevant
set truncated at K.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def hit_rate_at_k(served: Sequence[int], relevant: Collection[int], k: int) -> float:
    """1 when any relevant post is in the top K."""
    return 1.0 if any(p in relevant for p in served[:k]) else 0.0


def recall_at_k(served: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Share of the relevant posts found in the top K (0 when nothing was relevant)."""
    if not relevant:
        return 0.0
    return sum(1 for p in served[:k] if p in relevant) / len(relevant)


def ndcg_at_k(served: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Normalised discounted cumulative gain with binary gains."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, p in enumerate(served[:k]) if p in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


def reciprocal_rank(served: Sequence[int], relevant: Collection[int]) -> float:
    """1 / rank of the first relevant post (0 when none is served)."""
    for i, p in enumerate(served):
        if p in relevant:
            return 1.0 / (i + 1)
    return 0.0
