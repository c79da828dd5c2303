"""Every stored post's response bytes, encoded once at insert and joined per request.

A response is then ``b"".join`` of the chosen posts' bytes objects (one C-level pass, ~40 us for
1,200 posts) instead of encoding 1,200 posts on every request, or gathering their bytes out of
one numpy buffer (which needs a position per byte: ~5x slower). A post's element costs its
~60-90 bytes plus a bytes object header and a list slot (~40 bytes), which the 300-byte budget
affords. Rows are aligned with :class:`thunder.post_table.PostTable` rows.
"""

from __future__ import annotations

import sys
from operator import itemgetter

import numpy as np

from thunder.wire import encode_elements

_BYTES_OVERHEAD = sys.getsizeof(b"")  # header of one bytes object


class EncodedPosts:
    def __init__(self) -> None:
        self.elements: list[bytes] = []
        self._payload = 0

    @property
    def nbytes(self) -> int:
        return 8 * len(self.elements) + (_BYTES_OVERHEAD + 1) * len(self.elements) + self._payload

    def append(self, columns: dict[str, np.ndarray], flags: np.ndarray) -> None:
        """Encode and add the next ``len(flags)`` rows."""
        blob, sizes = encode_elements(columns, flags)
        data = blob.tobytes()
        ends = np.cumsum(sizes).tolist()
        self.elements += [data[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
        self._payload += len(data)

    def gather(self, rows: np.ndarray) -> bytes:
        """The serialized response holding ``rows`` in that order."""
        if len(rows) < 2:
            return b"".join(self.elements[r] for r in rows.tolist())
        return b"".join(itemgetter(*rows.tolist())(self.elements))

    def take(self, rows: np.ndarray) -> EncodedPosts:
        """A copy holding ``rows`` as rows 0..len-1."""
        out = EncodedPosts()
        if len(rows):
            out.elements = list(itemgetter(*rows.tolist())(self.elements)) if len(rows) > 1 else [self.elements[int(rows[0])]]
        out._payload = sum(map(len, out.elements))
        return out
