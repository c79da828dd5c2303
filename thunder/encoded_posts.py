"""Every stored post's response bytes, encoded once at insert and gathered per request.

A response is then one fancy-indexing gather over ~100 KB instead of encoding 1,200 posts on
every request; it costs ~60-90 bytes per post, which the 300-byte budget affords. Rows are
aligned with :class:`thunder.post_table.PostTable` rows.
"""

from __future__ import annotations

import numpy as np

from thunder.wire import encode_elements


class EncodedPosts:
    def __init__(self, capacity_rows: int = 1024) -> None:
        self.data = np.zeros(capacity_rows * 64, dtype=np.uint8)
        self.used = 0
        self.offset = np.zeros(capacity_rows, dtype=np.int64)
        self.size = np.zeros(capacity_rows, dtype=np.uint8)  # an element is at most 96 bytes
        self.n = 0

    @property
    def nbytes(self) -> int:
        return self.data.nbytes + self.offset.nbytes + self.size.nbytes

    def append(self, columns: dict[str, np.ndarray], flags: np.ndarray) -> None:
        """Encode and add the next ``len(flags)`` rows."""
        blob, sizes = encode_elements(columns, flags)
        k = len(sizes)
        if self.n + k > len(self.offset):
            grow = max(self.n + k, len(self.offset) * 3 // 2)
            self.offset = np.resize(self.offset, grow)
            self.size = np.resize(self.size, grow)
        if self.used + len(blob) > len(self.data):
            data = np.zeros(max(self.used + len(blob), len(self.data) * 3 // 2), dtype=np.uint8)
            data[: self.used] = self.data[: self.used]
            self.data = data
        self.offset[self.n : self.n + k] = self.used + np.cumsum(sizes) - sizes
        self.size[self.n : self.n + k] = sizes
        self.data[self.used : self.used + len(blob)] = blob
        self.used += len(blob)
        self.n += k

    def _positions(self, rows: np.ndarray) -> np.ndarray:
        sizes = self.size[rows].astype(np.int64)
        first = np.cumsum(sizes) - sizes
        return np.repeat(self.offset[rows] - first, sizes) + np.arange(int(sizes.sum()))

    def gather(self, rows: np.ndarray) -> bytes:
        """The serialized response holding ``rows`` in that order."""
        return self.data[self._positions(rows)].tobytes()

    def take(self, rows: np.ndarray) -> EncodedPosts:
        """A compacted copy holding ``rows`` as rows 0..len-1."""
        out = EncodedPosts(max(1024, len(rows) * 5 // 4))
        blob = self.data[self._positions(rows)]
        sizes = self.size[rows]
        out.data = np.zeros(max(len(blob) * 5 // 4, 65536), dtype=np.uint8)
        out.data[: len(blob)] = blob
        out.used = len(blob)
        out.offset[: len(rows)] = np.cumsum(sizes.astype(np.int64)) - sizes
        out.size[: len(rows)] = sizes
        out.n = len(rows)
        return out
