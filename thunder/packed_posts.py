"""Light posts as columns: ``PackedLightPosts`` (``GetInNetworkPostsRequest.packed``).

X's layout answers one ``LightPost`` message per post. A feed request reads 1,200 of them, and
reading their fields back one message at a time cost home-mixer ~5 ms of Python per request on
the event loop the feed shares; nine little-endian arrays cost microseconds on both ends, and
the server copies them straight out of its columnar store. Bad bytes from the wire raise
:class:`PackedPostsError` (never a numpy error).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from protos import thunder_pb2
from thunder.light_posts import LightPosts
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET

INT64 = np.dtype("<i8")
FLAGS = np.dtype("u1")
WIRE_FLAGS = IS_RETWEET | IS_REPLY | HAS_VIDEO
"""The flag bits that travel (the store's ALIVE bit does not)."""


class PackedPostsError(ValueError):
    """A ``PackedLightPosts`` whose columns do not match its count."""


def pack_posts(columns: Mapping[str, np.ndarray], flags: np.ndarray) -> thunder_pb2.PackedLightPosts:
    """The columns of ``len(flags)`` posts (newest first), every one of ``INT_COLUMNS`` included."""
    n = len(flags)
    short = [name for name in INT_COLUMNS if len(columns[name]) != n]
    if short:
        raise PackedPostsError(f"{n} flags but columns {short} have other lengths")
    fields = {name: np.ascontiguousarray(columns[name], dtype=INT64).tobytes() for name in INT_COLUMNS}
    return thunder_pb2.PackedLightPosts(count=n, flags=(np.asarray(flags, dtype=FLAGS) & WIRE_FLAGS).tobytes(), **fields)


def _column(data: bytes, dtype: np.dtype, count: int, what: str) -> np.ndarray:
    if len(data) != count * dtype.itemsize:
        raise PackedPostsError(f"packed light posts: {what} has {len(data)} bytes, expected {count} x {dtype.itemsize}")
    return np.frombuffer(data, dtype=dtype)


def unpack_posts(packed: thunder_pb2.PackedLightPosts) -> LightPosts:
    """The posts in the server's order (read-only columns over the message's bytes)."""
    n = packed.count
    if n < 0:
        raise PackedPostsError(f"packed light posts: count must be >= 0, got {n}")
    columns = {name: _column(getattr(packed, name), INT64, n, name) for name in INT_COLUMNS}
    return LightPosts(columns, _column(packed.flags, FLAGS, n, "flags"))


def posts_of_response(response: thunder_pb2.GetInNetworkPostsResponse) -> LightPosts:
    """Either layout of a response as columns."""
    if response.HasField("packed"):
        return unpack_posts(response.packed)
    return LightPosts.from_messages(response.posts)


__all__ = ["PackedPostsError", "pack_posts", "posts_of_response", "unpack_posts"]
