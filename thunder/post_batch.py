"""A batch of new posts as columns: the unit :meth:`PostStore.insert` works on.

Built once per Kafka batch from ``PostCreated`` events (one attribute read per field, no
per-post objects kept), or from plain tuples in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from protos import events_pb2
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET

_FIELDS = attrgetter(*INT_COLUMNS, "is_retweet", "is_reply", "has_video")
post_fields = _FIELDS  # PostCreated -> (the INT_COLUMNS values..., is_retweet, is_reply, has_video)


@dataclass(frozen=True)
class PostBatch:
    """Columns named as :data:`thunder.post_table.INT_COLUMNS` plus a ``flags`` byte per post."""

    columns: dict[str, np.ndarray]
    flags: np.ndarray

    def __len__(self) -> int:
        return len(self.flags)

    @staticmethod
    def from_events(events: Sequence[events_pb2.PostCreated]) -> PostBatch:
        """One C-level attrgetter call per event, then one 2-D array split into columns."""
        return PostBatch.from_fields([_FIELDS(e) for e in events])

    @staticmethod
    def from_fields(fields: Sequence[tuple[int, ...]]) -> PostBatch:
        """From :func:`post_fields` tuples (the ingest handler reads them while it walks the batch)."""
        if not fields:
            return PostBatch({name: np.zeros(0, dtype=np.int64) for name in INT_COLUMNS}, np.zeros(0, dtype=np.uint8))
        table = np.array(fields, dtype=np.int64)
        columns = {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(INT_COLUMNS)}
        n = len(INT_COLUMNS)
        flags = (table[:, n] * IS_RETWEET | table[:, n + 1] * IS_REPLY | table[:, n + 2] * HAS_VIDEO).astype(np.uint8)
        return PostBatch(columns, flags)

    @staticmethod
    def of(posts: Iterable[dict[str, int | bool]]) -> PostBatch:
        """From dicts with LightPost field names (missing ids = 0, missing flags = False)."""
        return PostBatch.from_events([events_pb2.PostCreated(**p) for p in posts])

    def select(self, mask_or_index: np.ndarray) -> PostBatch:
        return PostBatch({k: v[mask_or_index] for k, v in self.columns.items()}, self.flags[mask_or_index])
