"""Small models and data shared by the retrieval tests."""

from __future__ import annotations

import numpy as np
import torch

from phoenix.hashing import HashConfig
from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel
from phoenix.retrieval.training import UserHistory, action_multi_hot
from phoenix.transformer import TransformerConfig
from protos import recsys_pb2

A = recsys_pb2.ActionName


def tiny_config(mask: str = "causal", dim: int = 16, pooling: str = "mean") -> RetrievalConfig:
    return RetrievalConfig(
        dim=dim,
        transformer=TransformerConfig(dim=dim, num_layers=1, num_q_heads=2, num_kv_heads=1, head_dim=8),
        hashing=HashConfig(num_hashes=2, user_buckets=101, post_buckets=503, author_buckets=53),
        max_history=12,
        mask=mask,
        pooling=pooling,
    )


def tiny_model(seed: int = 0, mask: str = "causal", dim: int = 16, pooling: str = "mean") -> TwoTowerModel:
    torch.manual_seed(seed)
    return TwoTowerModel(tiny_config(mask, dim, pooling)).eval()


def history(user_id: int, posts: list[int], actions: list[list[int]] | None = None) -> UserHistory:
    acts = actions if actions is not None else [[A.SERVER_TWEET_FAV]] * len(posts)
    return UserHistory(user_id, np.array(posts, np.int64), np.array([p % 7 + 1 for p in posts], np.int64),
                       action_multi_hot(acts))
