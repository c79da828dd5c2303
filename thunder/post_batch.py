"""A batch of new posts as columns: the unit :meth:`PostStore.insert` works on.

Built once per Kafka batch from ``PostCreated`` events (one attribute read per field, no
per-post objects kept), or from plain tuples in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from protos import events_pb2
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET


@dataclass(frozen=True)
class PostBatch:
    """Columns named as :data:`thunder.post_table.INT_COLUMNS` plus a ``flags`` byte per post."""

    columns: dict[str, np.ndarray]
    flags: np.ndarray

    def __len__(self) -> int:
        return len(self.flags)

    @staticmethod
    def from_events(events: Sequence[events_pb2.PostCreated]) -> PostBatch:
        columns = {name: np.fromiter((getattr(e, name) for e in events), dtype=np.int64, count=len(events))
                   for name in INT_COLUMNS}
        flags = np.fromiter(
            ((IS_RETWEET if e.is_retweet else 0) | (IS_REPLY if e.is_reply else 0) | (HAS_VIDEO if e.has_video else 0)
             for e in events),
            dtype=np.uint8, count=len(events),
        )
        return PostBatch(columns, flags)

    @staticmethod
    def of(posts: Iterable[dict[str, int | bool]]) -> PostBatch:
        """From dicts with LightPost field names (missing ids = 0, missing flags = False)."""
        return PostBatch.from_events([events_pb2.PostCreated(**p) for p in posts])

    def select(self, mask_or_index: np.ndarray) -> PostBatch:
        return PostBatch({k: v[mask_or_index] for k, v in self.columns.items()}, self.flags[mask_or_index])
