"""Light posts newest first: a query result, or what a client read back.

A query for X's message layout makes a result known by its serialized response and post ids:
the bytes are what the service sends, and the per-field columns (for in-process callers and
tests) are decoded from them when first asked instead of gathered per request. A query for the
packed layout (:mod:`thunder.packed_posts`) gathers the columns themselves, and so does a client.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from protos import thunder_pb2
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET


class LightPosts:
    """Columns (``INT_COLUMNS`` int64 and the ``flags`` bits) of the same posts, row i = post i.
    A query copies them out of the store under its lock, so they stay valid while ingest goes on."""

    def __init__(self, columns: dict[str, np.ndarray], flags: np.ndarray, wire: bytes | None = None) -> None:
        self._columns: dict[str, np.ndarray] | None = columns
        self._flags: np.ndarray | None = flags
        self._post_ids = columns["post_id"]
        self.wire = wire  # the serialized GetInNetworkPostsResponse of exactly these posts

    @classmethod
    def encoded(cls, wire: bytes, post_ids: np.ndarray) -> LightPosts:
        """A result known by its response bytes and post ids (columns decoded on demand)."""
        posts = cls.__new__(cls)
        posts._columns, posts._flags, posts._post_ids, posts.wire = None, None, post_ids, wire
        return posts

    @classmethod
    def from_messages(cls, posts: Sequence[thunder_pb2.LightPost]) -> LightPosts:
        """The columns of X's one-message-per-post layout."""
        columns = {name: np.array([getattr(p, name) for p in posts], dtype=np.int64) for name in INT_COLUMNS}
        flags = np.array([p.is_retweet * IS_RETWEET | p.is_reply * IS_REPLY | p.has_video * HAS_VIDEO for p in posts],
                         dtype=np.uint8)
        return cls(columns, flags)

    def __len__(self) -> int:
        return len(self._post_ids)

    @property
    def post_ids(self) -> list[int]:
        return self._post_ids.tolist()

    @property
    def columns(self) -> dict[str, np.ndarray]:
        if self._columns is None:
            self._decode()
        return self._columns  # type: ignore[return-value]

    @property
    def flags(self) -> np.ndarray:
        if self._flags is None:
            self._decode()
        return self._flags  # type: ignore[return-value]

    def _decode(self) -> None:
        decoded = LightPosts.from_messages(thunder_pb2.GetInNetworkPostsResponse.FromString(self.wire or b"").posts)
        self._columns, self._flags = decoded.columns, decoded.flags
