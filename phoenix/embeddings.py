"""Hashed-id embeddings, combined "project-then-sum" (reference §4.3.3).

One table per entity kind holds ``buckets`` rows of width ``table_dim``; every hash function of
an id looks up a row in that same table, each looked-up row goes through its OWN linear
projection to the model width, and the projections are summed. Row 0 is padding and stays zero
(``padding_idx``), so a padded slot contributes exactly nothing.
"""

from __future__ import annotations

import torch
from torch import nn


class HashedEmbedding(nn.Module):
    """``[..., num_hashes]`` int64 rows -> ``[..., out_dim]`` (sum of per-hash projections)."""

    def __init__(self, num_buckets: int, num_hashes: int, table_dim: int, out_dim: int) -> None:
        super().__init__()
        if num_buckets < 2 or num_hashes < 1 or table_dim < 1 or out_dim < 1:
            raise ValueError(
                f"bad HashedEmbedding shape: buckets={num_buckets} hashes={num_hashes} "
                f"table_dim={table_dim} out_dim={out_dim}"
            )
        self.num_hashes = num_hashes
        self.table = nn.Embedding(num_buckets, table_dim, padding_idx=0)
        nn.init.normal_(self.table.weight, std=table_dim**-0.5)
        with torch.no_grad():
            self.table.weight[0].zero_()
        self.projections = nn.ModuleList(nn.Linear(table_dim, out_dim, bias=False) for _ in range(num_hashes))

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        if rows.shape[-1] != self.num_hashes:
            raise ValueError(
                f"expected last dim {self.num_hashes} (one column per hash), got {tuple(rows.shape)}"
            )
        looked_up = self.table(rows)  # [..., H, table_dim]
        out = self.projections[0](looked_up[..., 0, :])
        for j in range(1, self.num_hashes):
            out = out + self.projections[j](looked_up[..., j, :])
        return out
