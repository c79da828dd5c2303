"""Turning the wire's ``UserActionSequence`` into the user tower's input batch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from phoenix.retrieval.model import HistoryBatch, pad_histories
from phoenix.retrieval.training import action_multi_hot
from protos import recsys_pb2


def histories_from_protos(
    user_ids: Sequence[int], sequences: Sequence[recsys_pb2.UserActionSequence], max_len: int
) -> HistoryBatch:
    """One padded batch; each sequence is oldest-first, only its newest ``max_len`` posts are used.

    Aggregated actions without a post id are skipped (they cannot be embedded).
    """
    posts, authors, actions = [], [], []
    for seq in sequences:
        items = [a for a in seq.user_actions if a.tweet_info.tweet_id > 0][-max_len:]
        posts.append(np.array([a.tweet_info.tweet_id for a in items], np.int64))
        authors.append(np.array([a.tweet_info.author_id for a in items], np.int64))
        actions.append(action_multi_hot([[x.action_name for x in a.actions] for a in items]))
    return pad_histories(list(user_ids), posts, authors, actions, max_len)
