"""Hashed-id post embeddings: the stand-in for X's multimodal post embeddings in the DPP ranker.

X's VMRanker fetches a 1024-d content embedding per post; this project has no content
encoder, so by default each post id seeds a deterministic random unit vector (X itself uses a
random unit vector when an embedding is missing). Such vectors are nearly orthogonal, so the
DPP then mostly re-orders by quality; plug a real ``PostEmbeddings`` (e.g. the retrieval
candidate tower) into ``Deps.embeddings`` to get content diversity.
"""

from __future__ import annotations

from collections.abc import Sequence

import mmh3
import numpy as np


class HashedIdEmbeddings:
    """Deterministic unit vectors from ``mmh3(post_id)``-seeded Gaussians."""

    def __init__(self, dim: int = 64) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self.dim = dim

    def embed(self, post_ids: Sequence[int]) -> np.ndarray:
        out = np.empty((len(post_ids), self.dim), dtype=np.float64)
        for row, pid in enumerate(post_ids):
            seed = mmh3.hash(int(pid).to_bytes(8, "little", signed=True), signed=False)
            vec = np.random.default_rng(seed).standard_normal(self.dim)
            out[row] = vec / np.linalg.norm(vec)
        return out
