"""Per-request metrics of one served list against what the viewer did in that session.

Ranking metrics (HR/NDCG/recall/MRR) use binary relevance: the posts the viewer took a positive
action on; they are NaN for requests with no engaged post (averaged only over requests with at
least one). The action-weighted utility scores the actions actually taken on served posts with
ONE fixed set of weights (the default config's WeightedScorer weights) for every configuration,
so configurations with different weights are judged by the same yardstick. ``shown_overlap`` is
the share of the served list the logging policy actually showed: only those posts could be
engaged, which is the logging-policy bias of every logged metric here (the oracle utility, on
the synthetic world, does not have it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml

from events.world.actions import ORACLE_ACTIONS
from events.world.world import World
from home_mixer.pipeline_factory import DEFAULT_CONFIG
from home_mixer.replay.ranking_metrics import hit_rate_at_k, ndcg_at_k, recall_at_k, reciprocal_rank
from home_mixer.replay.sessions import Session
from home_mixer.replay.strategies import ServedItem

KS: tuple[int, ...] = (10, 35)
RANKING_METRICS = ("hr@10", "ndcg@10", "hr@35", "ndcg@35", "recall@35", "mrr")
LIST_METRICS = ("utility", "negative_rate", "author_diversity", "in_network_share", "freshness_h", "shown_overlap",
                "served")
ORACLE_METRIC = "oracle_utility"
# Session action names (events.world.actions) -> the weight names of the WeightedScorer.
WEIGHT_NAME = {"video_view": "vqv", "copy_link": "share_via_copy_link", "mute": "mute_author",
               "block": "block_author"}
AGE_BUCKETS: tuple[tuple[str, float], ...] = (("<1h", 1.0), ("1-6h", 6.0), ("6-24h", 24.0), (">=24h", float("inf")))
HISTORY_BUCKETS: tuple[tuple[str, int], ...] = (("0", 0), ("1-9", 9), ("10-49", 49), ("50+", 1 << 62))


def default_weights(config_path: str | Path = DEFAULT_CONFIG) -> dict[str, float]:
    """The WeightedScorer weights of a pipeline config (the evaluation yardstick)."""
    spec = yaml.safe_load(Path(config_path).read_text())
    for entry in spec.get("scorers", []):
        if isinstance(entry, dict) and entry.get("name") == "WeightedScorer":
            return {str(k): float(v) for k, v in entry.get("params", {}).get("weights", {}).items()}
    raise ValueError(f"{config_path} has no WeightedScorer weights to evaluate utility with")


def action_weight(action: str, weights: Mapping[str, float]) -> float:
    return weights.get(WEIGHT_NAME.get(action, action), 0.0)


def history_bucket(n: int) -> str:
    return next(name for name, hi in HISTORY_BUCKETS if n <= hi)


def age_bucket(age_h: float) -> str:
    return next(name for name, hi in AGE_BUCKETS if age_h < hi)


def match_ids(served: Sequence[ServedItem], relevant: set[int]) -> list[int]:
    """Served ids as the ids the user engaged with: a repost matches its original."""
    return [s.post_id if s.post_id in relevant or s.original_id not in relevant else s.original_id for s in served]


def request_metrics(served: Sequence[ServedItem], session: Session, following: set[int], now_ms: int,
                    weights: Mapping[str, float]) -> dict[str, float]:
    engaged = session.engaged
    ids = match_ids(served, set(session.actions))
    out: dict[str, float] = {}
    nan = float("nan")
    for k in KS:
        out[f"hr@{k}"] = hit_rate_at_k(ids, engaged, k) if engaged else nan
        out[f"ndcg@{k}"] = ndcg_at_k(ids, engaged, k) if engaged else nan
    out["recall@35"] = recall_at_k(ids, engaged, 35) if engaged else nan
    out["mrr"] = reciprocal_rank(ids, engaged) if engaged else nan
    n = len(served)
    negative = session.negative
    out["utility"] = float(sum(action_weight(a, weights) for p in ids for a in session.actions.get(p, ())))
    out["negative_rate"] = sum(1 for p in ids if p in negative) / n if n else 0.0
    out["author_diversity"] = len({s.author_id for s in served}) / n if n else nan
    out["in_network_share"] = sum(1 for s in served if s.author_id in following) / n if n else nan
    ages = [(now_ms - s.created_ms) / 3_600_000 for s in served if s.created_ms > 0]
    out["freshness_h"] = float(np.mean(ages)) if ages else nan
    shown = set(session.shown)
    out["shown_overlap"] = sum(1 for p in ids if p in shown) / n if n else 0.0
    out["served"] = float(n)
    return out


def recall_by_post_age(served: Sequence[ServedItem], session: Session, now_ms: int,
                       created_ms: Mapping[int, int]) -> dict[str, float]:
    """Recall@35 of the engaged posts in each post-age bucket (NaN where none was engaged)."""
    ids = set(match_ids(served[:35], set(session.actions)))
    per_bucket: dict[str, list[int]] = {}
    for p in session.engaged:
        c = created_ms.get(p, 0)
        if c > 0:
            per_bucket.setdefault(age_bucket((now_ms - c) / 3_600_000), []).append(p)
    return {name: (sum(1 for p in per_bucket[name] if p in ids) / len(per_bucket[name]) if name in per_bucket
                   else float("nan")) for name, _ in AGE_BUCKETS}


class OracleUtility:
    """Expected utility of a served list under the synthetic world's TRUE action probabilities.

    Sum over served posts (at their served position, with the viewer's follow state at request
    time) of Σ_action P_true(action) x weight. It needs no logged outcome, so it is free of the
    logging policy's bias: a post the policy never showed counts exactly as much as one it did."""

    def __init__(self, world: World, weights: Mapping[str, float]) -> None:
        self.world = world
        self.w = np.array([action_weight(a, weights) for a in ORACLE_ACTIONS], np.float64)

    def __call__(self, viewer_id: int, served: Sequence[ServedItem], following: set[int], now_ms: int) -> float:
        rows, follows = [], []
        for s in served:
            try:
                rows.append(self.world.posts.row_of(s.post_id))
            except KeyError:
                continue
            follows.append(s.author_id in following)
        if not rows:
            return 0.0
        n = len(rows)
        probs = self.world.oracle_rows(np.full(n, self.world.user_index(viewer_id)), np.array(rows), np.arange(n),
                                       np.array(follows), np.full(n, now_ms, np.int64))
        return float((probs @ self.w).sum())
