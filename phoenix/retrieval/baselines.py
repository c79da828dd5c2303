"""Non-learned retrieval baselines, scored over a catalogue of item indices ``0..N-1``.

* ``popularity_scores``: every user gets the catalogue ordered by interaction count.
* ``cooccurrence_scores``: an item-to-item sequential baseline: ``C[i, j]`` counts how often
  ``j`` follows ``i`` within a short window in the training sequences (closer = more weight),
  normalised by how often ``i`` occurs; a user's score for ``j`` sums ``C[h, j]`` over their
  most recent items ``h``, newer items weighing more. Popularity breaks ties.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def popularity_scores(train_sequences: Sequence[np.ndarray], num_items: int, num_users: int) -> torch.Tensor:
    counts = np.zeros(num_items, np.float64)
    for seq in train_sequences:
        np.add.at(counts, np.asarray(seq, np.int64), 1.0)
    return torch.from_numpy(counts).float().expand(num_users, num_items)


def cooccurrence_scores(
    train_sequences: Sequence[np.ndarray],
    user_histories: Sequence[np.ndarray],
    num_items: int,
    window: int = 5,
    recent: int = 10,
    decay: float = 0.8,
) -> torch.Tensor:
    counts = np.zeros(num_items, np.float64)
    follow = np.zeros((num_items, num_items), np.float64)
    for seq in train_sequences:
        seq = np.asarray(seq, np.int64)
        np.add.at(counts, seq, 1.0)
        for gap in range(1, window + 1):
            if seq.size > gap:
                np.add.at(follow, (seq[:-gap], seq[gap:]), decay ** (gap - 1))
    follow /= np.maximum(counts, 1.0)[:, None]
    pop = counts / max(counts.sum(), 1.0)
    out = np.zeros((len(user_histories), num_items), np.float64)
    for u, hist in enumerate(user_histories):
        last = np.asarray(hist, np.int64)[-recent:][::-1]
        w = decay ** np.arange(last.size)
        out[u] = w @ follow[last] if last.size else 0.0
    out += 1e-6 * pop[None, :]
    return torch.from_numpy(out).float()
