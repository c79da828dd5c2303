"""A query result: light-post columns, newest first, plus the serialized response when known."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LightPosts:
    """Copied out of the store under its lock, so it stays valid while ingest goes on."""

    columns: dict[str, np.ndarray]
    flags: np.ndarray
    wire: bytes | None = None  # the serialized GetInNetworkPostsResponse of exactly these posts

    def __len__(self) -> int:
        return len(self.flags)

    @property
    def post_ids(self) -> list[int]:
        return self.columns["post_id"].tolist()
