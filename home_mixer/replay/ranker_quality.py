"""The ranker on logged impressions of the replay window: per-action AUC, log loss, RCE and
calibration, through ``phoenix.ranker.evaluate`` (the Phoenix team's metric code).

Examples come from ``phoenix.ranker.examples.build_examples`` with the replay's split time, so
the model is judged only on impressions after everything it was trained on. On the synthetic
world two oracle AUCs on the same labels are reported next to the model's: ``oracle_auc`` = the
world's truth with the feed-position term neutralised (the ranker, like X's, never sees the
position: the fair ceiling), ``oracle_auc_with_position`` = the full truth.
"""

from __future__ import annotations

import numpy as np

from events.world.world import World
from home_mixer.replay.models import TrainingData
from phoenix.actions import ACTION_NAMES
from phoenix.ranker.evaluate import evaluate, predict
from phoenix.ranker.examples import build_examples
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.world_eval import world_oracle

CALIBRATION_ACTIONS = ("favorite", "reply", "repost", "click", "dwell", "not_interested")
CALIBRATION_BINS = 10


def calibration_curve(labels: np.ndarray, probs: np.ndarray, bins: int = CALIBRATION_BINS) -> list[dict]:
    """Equal-count bins of predicted probability: mean predicted vs observed rate per bin."""
    if len(probs) == 0:
        return []
    order = np.argsort(probs, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, len(order))):
        out.append({"predicted": float(probs[chunk].mean()), "observed": float(labels[chunk].mean()),
                    "count": int(len(chunk))})
    return out


def evaluate_ranker(model: PhoenixRanker, train: TrainingData, window: TrainingData, split_ms: int,
                    max_examples: int, seed: int, world: World | None) -> dict:
    """``train`` = events before the split, ``window`` = the replay window's events."""
    _, valid = build_examples(train.posts + window.posts, train.engagements + window.engagements,
                              history_len=model.cfg.history_len, max_candidates=16, split_time_ms=split_ms,
                              social=train.social + window.social)
    if not valid:
        return {"examples": 0, "candidates": 0, "actions": {}, "calibration": {}}
    if len(valid) > max_examples:
        keep = np.sort(np.random.default_rng(seed).choice(len(valid), max_examples, replace=False))
        valid = [valid[i] for i in keep.tolist()]
    per_action = evaluate(model, valid, oracle=world_oracle(world, ignore_position=True) if world is not None else None)
    with_position = evaluate(model, valid, oracle=world_oracle(world)) if world is not None else {}
    probs = predict(model, valid)
    labels = np.concatenate([e.labels for e in valid])
    calibration = {a: calibration_curve(labels[:, ACTION_NAMES.index(a)], probs[:, ACTION_NAMES.index(a)])
                   for a in CALIBRATION_ACTIONS if a in ACTION_NAMES}
    return {
        "examples": len(valid),
        "candidates": int(len(labels)),
        "actions": {name: {**m.to_dict(), "oracle_auc_with_position": with_position[name].oracle_auc
                           if name in with_position else None}
                    for name, m in per_action.items() if m.positives > 0},
        "calibration": calibration,
    }
