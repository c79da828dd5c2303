"""What a shard remembers about posts it does not serve: just enough for X's parent lookups.

In sharded mode each Thunder serves the authors of its own partitions, but two of X's rules look
at *another* post: the reply rule (is the replied-to post in the store, is it an original, what
does it reply to?) and video eligibility of a repost (does the source have a video?). The
parent can be by an author of another shard, so every shard reads every partition and keeps,
for foreign posts, only id, created_at, in_reply_to_post_id and flags (25 bytes plus the index)
instead of the full light post and list entries. That keeps the merged answer of the shards
identical to a single store's answer.
"""

from __future__ import annotations

import numpy as np

from thunder.array_ops import sorted_unique
from thunder.id_index import IdIndex
from thunder.post_table import ALIVE

_COLUMNS = ("post_id", "created_at", "in_reply_to_post_id")


class ParentDirectory:
    """Append-only rows + an id index; removed rows are dropped on the next :meth:`compact`."""

    def __init__(self) -> None:
        self.index = IdIndex()
        self.cols = {name: np.zeros(1024, dtype=np.int64) for name in _COLUMNS}
        self.flags = np.zeros(1024, dtype=np.uint8)
        self.n = 0
        self.alive = 0

    def __len__(self) -> int:
        return self.alive

    @property
    def nbytes(self) -> int:
        return self.index.nbytes + sum(c.nbytes for c in self.cols.values()) + self.flags.nbytes

    def add(self, post_ids: np.ndarray, created_at: np.ndarray, in_reply_to: np.ndarray, flags: np.ndarray) -> None:
        """Add posts not yet present (the caller filters duplicates, window and tombstones)."""
        k = len(post_ids)
        if k == 0:
            return
        if self.n + k > len(self.flags):
            size = max(self.n + k, len(self.flags) * 3 // 2)
            for name in _COLUMNS:
                grown = np.zeros(size, dtype=np.int64)
                grown[: self.n] = self.cols[name][: self.n]
                self.cols[name] = grown
            grown_flags = np.zeros(size, dtype=np.uint8)
            grown_flags[: self.n] = self.flags[: self.n]
            self.flags = grown_flags
        rows = np.arange(self.n, self.n + k)
        for name, values in zip(_COLUMNS, (post_ids, created_at, in_reply_to), strict=True):
            self.cols[name][rows] = values
        self.flags[rows] = flags | ALIVE
        self.index.insert(post_ids, rows)
        self.n += k
        self.alive += k

    def lookup(self, post_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found, flags, in_reply_to_post_id) per id."""
        rows = self.index.get(post_ids)
        found = rows >= 0
        safe = np.maximum(rows, 0)
        return found, np.where(found, self.flags[safe], 0).astype(np.uint8), np.where(found, self.cols["in_reply_to_post_id"][safe], 0)

    def remove(self, post_ids: np.ndarray) -> int:
        rows = self.index.get(post_ids)
        rows = sorted_unique(rows[rows >= 0])
        self.flags[rows] &= ~ALIVE
        self.index.remove(self.cols["post_id"][rows])
        self.alive -= len(rows)
        return len(rows)

    def expire(self, cutoff: int) -> int:
        """Forget posts created before ``cutoff``; compacts when dead rows pile up."""
        live = (self.flags[: self.n] & ALIVE) != 0
        old = np.flatnonzero(live & (self.cols["created_at"][: self.n] < cutoff))
        removed = self.remove(self.cols["post_id"][old]) if len(old) else 0
        if self.n - self.alive > max(self.alive // 4, 50_000):
            self.compact()
        return removed

    def compact(self) -> None:
        keep = np.flatnonzero((self.flags[: self.n] & ALIVE) != 0)
        cols = {name: self.cols[name][keep] for name in _COLUMNS}
        flags = self.flags[keep] & ~ALIVE
        self.__init__()
        self.add(cols["post_id"], cols["created_at"], cols["in_reply_to_post_id"], flags)
