"""The light post fields of every stored post, one numpy column per field (X's ``CompactPost``).

Rows are appended and never reused until :meth:`PostTable.take` rebuilds the table from the
live rows; a row removed by delete or trim is only flagged dead. 8 int64 columns + 1 flag byte
+ a 4-byte parent row = 69 bytes per row, versus ~500 bytes for a Python object per post.

``parent_row`` caches where a reply's parent (``in_reply_to_post_id``) was found, so X's reply
rule reads the parent with two gathers instead of a hash lookup per query. It is only a hint:
-1 (unknown), a row that has died since (deleted, trimmed, maybe re-inserted under a new row)
or "absent as of insert generation g" once the store has inserted posts since (the parent may
have arrived) sends the query back to the id index, which refreshes it. Between two inserts, a
reply to a post that is not in the store (popped, older than retention) costs no lookup.
"""

from __future__ import annotations

import numpy as np

from thunder.array_ops import sorted_unique

HINT_GENERATIONS = 1 << 30  # parent-row hints below -1 encode an insert generation modulo this


def absent_hint(generation: int) -> int:
    """The parent-row hint for "not in the store as of insert ``generation``" (< -1)."""
    return -2 - generation % HINT_GENERATIONS


INT_COLUMNS = (
    "post_id",
    "author_id",
    "created_at",
    "in_reply_to_post_id",
    "in_reply_to_user_id",
    "source_post_id",
    "source_user_id",
    "conversation_id",
)

# bits of the ``flags`` column
IS_RETWEET = np.uint8(1)
IS_REPLY = np.uint8(2)
HAS_VIDEO = np.uint8(4)
ALIVE = np.uint8(8)


class PostTable:
    """Columnar rows; ``n`` rows are in use, of which ``alive`` are served."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self.alive = 0
        self.columns: dict[str, np.ndarray] = {name: np.zeros(capacity, dtype=np.int64) for name in INT_COLUMNS}
        self.flags = np.zeros(capacity, dtype=np.uint8)
        self.parent_row = np.full(capacity, -1, dtype=np.int32)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def capacity(self) -> int:
        return len(self.flags)

    @property
    def nbytes(self) -> int:
        return sum(col.nbytes for col in self.columns.values()) + self.flags.nbytes + self.parent_row.nbytes

    def append(self, values: dict[str, np.ndarray], flags: np.ndarray) -> np.ndarray:
        """Add rows (all flagged alive); returns their row numbers."""
        k = len(flags)
        if self.n + k > self.capacity:
            self._grow(self.n + k)
        rows = np.arange(self.n, self.n + k, dtype=np.int64)
        for name in INT_COLUMNS:
            self.columns[name][self.n : self.n + k] = values[name]
        self.flags[self.n : self.n + k] = flags | ALIVE
        self.n += k
        self.alive += k
        return rows

    def kill(self, rows: np.ndarray) -> np.ndarray:
        """Flag rows dead; returns the rows that were alive."""
        rows = sorted_unique(rows)
        live = rows[(self.flags[rows] & ALIVE) != 0]
        self.flags[live] &= ~ALIVE
        self.alive -= len(live)
        return live

    def is_alive(self, rows: np.ndarray) -> np.ndarray:
        return (self.flags[rows] & ALIVE) != 0

    def take(self, rows: np.ndarray, remap: np.ndarray) -> PostTable:
        """A new table holding ``rows`` (in that order) as rows 0..len-1, with ~25 % headroom;
        ``remap`` maps old rows to new ones (-1: dropped) for the parent-row hints."""
        out = PostTable(max(1024, len(rows) * 5 // 4))
        k = len(rows)
        for name in INT_COLUMNS:
            out.columns[name][:k] = self.columns[name][rows]
        out.flags[:k] = self.flags[rows]
        parent = self.parent_row[rows]
        out.parent_row[:k] = np.where(parent >= 0, remap[np.maximum(parent, 0)], parent)  # ("absent" hints stay true)
        out.n = k
        out.alive = int(np.count_nonzero(out.flags[:k] & ALIVE))
        return out

    def forget_absent_hints(self) -> None:
        """Turn every "absent as of generation g" hint back into unknown."""
        hints = self.parent_row[: self.n]
        hints[hints < -1] = -1

    def _grow(self, need: int) -> None:
        size = max(need, self.capacity * 3 // 2)
        for name in INT_COLUMNS:
            col = np.zeros(size, dtype=np.int64)
            col[: self.n] = self.columns[name][: self.n]
            self.columns[name] = col
        flags = np.zeros(size, dtype=np.uint8)
        flags[: self.n] = self.flags[: self.n]
        self.flags = flags
        parent_row = np.full(size, -1, dtype=np.int32)
        parent_row[: self.n] = self.parent_row[: self.n]
        self.parent_row = parent_row
