"""Sampled softmax for two-tower retrieval (reference §5.2).

For every (user state, positive post) pair the softmax runs over: the positive, the positives of
the other examples in the batch (in-batch negatives) and a set of posts sampled uniformly from
the corpus (global negatives). Scores are cosines divided by a learnable temperature (init 0.1).

In-batch negatives are drawn in proportion to popularity, so a plain softmax over them learns to
push popular posts down too hard; the log-Q correction subtracts ``scale * log q(post)`` from
every logit, where ``q`` is the probability the post shows up as a candidate (its share of the
training positives). Candidates equal to the row's own positive ("accidental hits") are masked
out, so a popular post is never its own negative. The loss is averaged per user, then over users.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class SampledSoftmaxLoss(nn.Module):
    def __init__(
        self, init_temperature: float = 0.1, logq_scale: float = 1.0, min_temperature: float = 0.01
    ) -> None:
        super().__init__()
        if not 0 < init_temperature <= 10:
            raise ValueError(f"init_temperature must be in (0, 10], got {init_temperature}")
        self.log_temperature = nn.Parameter(torch.tensor(math.log(init_temperature)))
        self.logq_scale = logq_scale
        self.min_temperature = min_temperature

    @property
    def temperature(self) -> torch.Tensor:
        return self.log_temperature.exp().clamp_min(self.min_temperature)

    def forward(
        self,
        user_vecs: torch.Tensor,
        target_index: torch.Tensor,
        cand_vecs: torch.Tensor,
        cand_ids: torch.Tensor,
        cand_log_q: torch.Tensor,
        row_user: torch.Tensor,
    ) -> torch.Tensor:
        """Mean over users of each user's mean loss.

        ``user_vecs [N, D]`` one row per positive example; ``target_index [N]`` the column of its
        positive in ``cand_vecs [C, D]`` (unique in-batch positives followed by global
        negatives); ``cand_ids [C]`` post ids (to mask accidental hits); ``cand_log_q [C]``;
        ``row_user [N]`` which user each row belongs to (for the per-user mean).
        """
        if user_vecs.shape[0] == 0:
            raise ValueError("no positive examples in the batch")
        logits = user_vecs @ cand_vecs.T / self.temperature
        logits = logits - self.logq_scale * cand_log_q[None, :]
        target_ids = cand_ids[target_index]
        hit = cand_ids[None, :] == target_ids[:, None]
        hit[torch.arange(hit.shape[0], device=hit.device), target_index] = False
        logits = logits.masked_fill(hit, float("-inf"))
        per_row = nn.functional.cross_entropy(logits, target_index, reduction="none")
        users, inverse = torch.unique(row_user, return_inverse=True)
        per_user = torch.zeros(users.shape[0], device=per_row.device).index_add_(0, inverse, per_row)
        counts = torch.zeros(users.shape[0], device=per_row.device).index_add_(
            0, inverse, torch.ones_like(per_row)
        )
        return (per_user / counts).mean()
