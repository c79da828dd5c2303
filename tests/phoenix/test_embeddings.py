from __future__ import annotations

import pytest
import torch

from phoenix.embeddings import HashedEmbedding


def test_project_then_sum_and_zero_padding() -> None:
    torch.manual_seed(0)
    emb = HashedEmbedding(num_buckets=50, num_hashes=2, table_dim=8, out_dim=16)
    rows = torch.tensor([[3, 17], [0, 0]])
    out = emb(rows)
    assert out.shape == (2, 16)
    expected = emb.projections[0](emb.table.weight[3]) + emb.projections[1](emb.table.weight[17])
    assert torch.allclose(out[0], expected, atol=1e-6)
    assert torch.count_nonzero(out[1]) == 0
    # Padding rows receive no gradient, so they stay zero through training.
    out.sum().backward()
    assert torch.count_nonzero(emb.table.weight.grad[0]) == 0


def test_wrong_hash_count_is_refused() -> None:
    emb = HashedEmbedding(10, 2, 4, 4)
    with pytest.raises(ValueError, match="one column per hash"):
        emb(torch.tensor([[1, 2, 3]]))
