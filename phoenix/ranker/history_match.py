"""What the user's own history says about each candidate: engagement summaries by topic and author.

The transformer can in principle read "how did this user treat posts like this one?" off the
history by attention, but a small model trained on a few thousand examples learns it slowly and
noisily. Production rankers therefore also feed such aggregates directly (X's real-graph and
topic-engagement counts). Here they are computed from the very sequence the ranker is given, so
they need nothing beyond the request and cost a few vector operations:

for each candidate, over the history items that share its semantic-id level 0 (topic), that
share its author, and over the whole history: how many items, how many carried each action the
ranker has a head for (favorite, reply, dwelled, not-dwelled, ...) and their mean log dwell. Counts are ``log2(1 + n) / 8``
(history lengths are at most a few hundred), the dwell mean is of ``log1p(seconds)``.

A candidate's features depend only on the user's history and on the candidate itself, so
candidate isolation holds.
"""

from __future__ import annotations

import numpy as np

from phoenix.actions import DISCRETE_ACTIONS, DWELL_CLIP_S

_HEAD_SLOTS = np.array([h.action for h in DISCRETE_ACTIONS])  # ActionName numbers with a head
BLOCK = 1 + len(_HEAD_SLOTS) + 1  # item count, per-action counts, mean log dwell
BLOCKS = ("topic", "author", "all")
NUM_MATCH_FEATURES = BLOCK * len(BLOCKS)


def history_item_values(actions: np.ndarray, dwell_s: np.ndarray) -> np.ndarray:
    """``[..., BLOCK]`` per history item from its 64-slot ``ActionName`` multi-hot and dwell
    seconds: 1, the head actions' flags, log1p(clipped dwell seconds)."""
    ones = np.ones((*actions.shape[:-1], 1), np.float32)
    dwell = np.log1p(np.clip(dwell_s, 0.0, DWELL_CLIP_S))[..., None].astype(np.float32)
    return np.concatenate([ones, actions[..., _HEAD_SLOTS].astype(np.float32), dwell], -1)


def _finish(sums: np.ndarray) -> np.ndarray:
    """Raw sums ``[..., BLOCK]`` -> scaled counts and the mean log dwell."""
    n = sums[..., :1]
    out = np.empty_like(sums)
    out[..., :-1] = np.log2(1.0 + sums[..., :-1]) / 8.0
    out[..., -1:] = np.where(n > 0, sums[..., -1:] / np.maximum(n, 1.0), 0.0)
    return out


def _matched(hist_keys: np.ndarray, values: np.ndarray, cand_keys: np.ndarray) -> np.ndarray:
    """For one user: ``[C, BLOCK]`` features (``_finish``) of the sums of ``values [S, BLOCK]`` over
    the history items whose key equals the candidate's (key 0 = unknown: never matches). Each
    distinct key is finished once, before the candidates gather it (a user has at most a few
    hundred keys and up to 2,800 candidates); no match finishes to zeros, as zero sums do."""
    out = np.zeros((len(cand_keys), values.shape[-1]), np.float32)
    known = hist_keys != 0
    if not known.any():
        return out
    keys, inverse = np.unique(hist_keys[known], return_inverse=True)
    table = np.zeros((len(keys), values.shape[-1]), np.float32)
    np.add.at(table, inverse, values[known])
    slot = np.minimum(np.searchsorted(keys, cand_keys), len(keys) - 1)
    hit = (keys[slot] == cand_keys) & (cand_keys != 0)
    out[hit] = _finish(table)[slot[hit]]
    return out


def history_match_features(
    hist_topic: np.ndarray,
    hist_author: np.ndarray,
    hist_values: np.ndarray,
    cand_topic: np.ndarray,
    cand_author: np.ndarray,
) -> np.ndarray:
    """``[B, C, NUM_MATCH_FEATURES]`` from per-user history keys ``[B, S]`` (0 = padding/unknown),
    item values ``[B, S, BLOCK]`` (``history_item_values``; zero rows for padding) and candidate
    keys ``[B, C]``."""
    b, c = cand_topic.shape
    out = np.zeros((b, c, NUM_MATCH_FEATURES), np.float32)
    for i in range(b):
        out[i, :, :BLOCK] = _matched(hist_topic[i], hist_values[i], cand_topic[i])
        out[i, :, BLOCK : 2 * BLOCK] = _matched(hist_author[i], hist_values[i], cand_author[i])
        out[i, :, 2 * BLOCK :] = _finish(hist_values[i].sum(0))  # the same for every candidate
    return out
