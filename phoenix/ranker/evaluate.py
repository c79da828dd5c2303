"""Per-action quality on a held-out period: ROC-AUC, log loss, RCE, calibration, oracle AUC.

RCE (relative cross entropy, X's usual offline metric) = 100 · (1 - LL_model / LL_prior), where
the prior predicts the observed positive rate for everyone: 0 = no better than the base rate.
When the data come from a synthetic world with known truth, ``oracle`` gives the true action
probabilities, and the oracle's AUC on the same labels is the ceiling the model is judged against.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from phoenix.actions import ACTION_NAMES
from phoenix.ranker.examples import Example
from phoenix.ranker.features import CandidateItem
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import collate

# oracle(user_id, candidate, seen_ms, position) -> {ranker head name: true probability}
OracleFn = Callable[[int, CandidateItem, int, int], Mapping[str, float]]
_EPS = 1e-7


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Rank-based (Mann-Whitney) AUC with tied scores averaged; NaN when a class is absent."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    pos, neg = int(labels.sum()), int((~labels).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def log_loss(labels: np.ndarray, probs: np.ndarray) -> float:
    p = np.clip(probs, _EPS, 1 - _EPS)
    return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))


@dataclass
class ActionMetrics:
    positives: int
    count: int
    auc: float
    log_loss: float
    rce: float
    mean_predicted: float
    observed_rate: float
    oracle_auc: float | None = None

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def action_metrics(labels: np.ndarray, probs: np.ndarray, oracle: np.ndarray | None = None) -> ActionMetrics:
    rate = float(labels.mean()) if len(labels) else float("nan")
    ll = log_loss(labels, probs)
    prior = log_loss(labels, np.full_like(probs, rate)) if 0 < rate < 1 else float("nan")
    return ActionMetrics(
        positives=int(labels.sum()),
        count=len(labels),
        auc=roc_auc(labels, probs),
        log_loss=ll,
        rce=100.0 * (1.0 - ll / prior) if prior and not math.isnan(prior) else float("nan"),
        mean_predicted=float(probs.mean()) if len(probs) else float("nan"),
        observed_rate=rate,
        oracle_auc=None if oracle is None else roc_auc(labels, oracle),
    )


@torch.no_grad()
def predict(
    model: PhoenixRanker, examples: Sequence[Example], batch_size: int = 64, device: str = "cpu"
) -> np.ndarray:
    """Probabilities [N_candidates, A] for every candidate of every example, in order."""
    model.eval().to(device)
    out = []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        batch, _, _ = collate(chunk, model.cfg)
        logits, _ = model(batch.to(device))
        probs = torch.sigmoid(logits).cpu().numpy()
        for i, e in enumerate(chunk):
            out.append(probs[i, : len(e.candidates)])
    return np.concatenate(out) if out else np.zeros((0, len(ACTION_NAMES)), np.float32)


def evaluate(
    model: PhoenixRanker,
    examples: Sequence[Example],
    *,
    oracle: OracleFn | None = None,
    actions: Sequence[str] = ACTION_NAMES,
    device: str = "cpu",
) -> dict[str, ActionMetrics]:
    """Metrics per action name over every candidate of ``examples`` (those with no positives get NaN AUC)."""
    probs = predict(model, examples, device=device)
    labels = _labels(examples)
    oracle_probs = None if oracle is None else oracle_probabilities(examples, oracle, actions)
    result = {}
    for name in actions:
        col = ACTION_NAMES.index(name)
        o = None
        if oracle_probs is not None and not np.isnan(oracle_probs[name]).all():
            o = oracle_probs[name]
        result[name] = action_metrics(labels[:, col], probs[:, col], o)
    return result


def oracle_probabilities(
    examples: Sequence[Example], oracle: OracleFn, actions: Sequence[str]
) -> dict[str, np.ndarray]:
    """The oracle's probability of each action for every candidate of ``examples``, in order
    (NaN where it has none for an action)."""
    rows = [
        oracle(
            e.user.user_id,
            c,
            int(e.seen_ms[j]) if e.seen_ms is not None else e.time_ms,
            int(e.positions[j]) if e.positions is not None else -1,
        )
        for e in examples
        for j, c in enumerate(e.shown if e.shown is not None else e.candidates)
    ]
    return {a: np.array([r.get(a, np.nan) for r in rows], np.float64) for a in actions}


def oracle_aucs(examples: Sequence[Example], oracle: OracleFn, actions: Sequence[str]) -> dict[str, float]:
    """AUC of ``oracle``'s probabilities on the examples' labels, per action (no model involved:
    compare several oracles on the same labels without scoring the model again)."""
    labels = _labels(examples)
    probs = oracle_probabilities(examples, oracle, actions)
    return {
        a: float("nan") if np.isnan(probs[a]).all() else roc_auc(labels[:, ACTION_NAMES.index(a)], probs[a])
        for a in actions
    }


def _labels(examples: Sequence[Example]) -> np.ndarray:
    return np.concatenate([e.labels for e in examples]) if examples else np.zeros((0, len(ACTION_NAMES)))
