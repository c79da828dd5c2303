"""Full-ranking leave-one-out metrics (the HSTU protocol, evaluation-and-anchors.md §2).

Each user's held-out item is ranked against the WHOLE catalogue by exact scores; the items the
user already interacted with (their history) are removed from the ranking first. Rank 1 = best.
Ties count against the target (``rank = 1 + #items scoring >= target, other than itself``), so
a model that scores everything equal gets no credit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

KS: tuple[int, ...] = (10, 50, 200)


def target_ranks(scores: torch.Tensor, target: np.ndarray, seen: Sequence[np.ndarray]) -> np.ndarray:
    """1-based rank of ``target[u]`` in row ``u`` of ``scores [U, N]`` after removing ``seen[u]``."""
    if scores.ndim != 2 or scores.shape[0] != len(target) or len(seen) != len(target):
        raise ValueError(f"scores {tuple(scores.shape)}, {len(target)} targets, {len(seen)} seen lists")
    s = scores.detach().float().clone()
    tgt = torch.as_tensor(np.asarray(target, np.int64), device=s.device)
    rows = torch.arange(s.shape[0], device=s.device)
    for u, items in enumerate(seen):
        items = np.asarray(items, np.int64)
        items = items[items != int(target[u])]  # never hide the target itself
        if items.size:
            s[u, torch.as_tensor(items, device=s.device)] = float("-inf")
    t = s[rows, tgt]
    ahead = (s >= t[:, None]).sum(1) - 1  # minus the target itself
    return (ahead + 1).cpu().numpy()


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = KS, prefix: str = "") -> dict[str, float]:
    r = np.asarray(ranks, np.float64)
    out: dict[str, float] = {}
    for k in ks:
        hit = r <= k
        out[f"{prefix}hr@{k}"] = round(float(hit.mean()), 4)
        out[f"{prefix}ndcg@{k}"] = round(float(np.where(hit, 1.0 / np.log2(r + 1.0), 0.0).mean()), 4)
    out[f"{prefix}mrr"] = round(float((1.0 / r).mean()), 4)
    return out
