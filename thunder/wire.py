"""Serialize ``GetInNetworkPostsResponse`` elements straight from light-post columns, vectorised.

Why: building 1,200 ``LightPost`` messages one by one costs ~3 ms in Python, and ingest encodes
every post once (:mod:`thunder.encoded_posts`), so encoding must be cheap per post. Protobuf's
wire format for this message is simple (varints only): each post's element (tag, length, then
each non-zero field's tag and varint in field order) is written into its own 128-byte row of a
scratch buffer, one field at a time for all posts at once, the low 8 varint bytes as one
unaligned uint64 store. The output is byte-for-byte what ``SerializeToString`` produces (a test
checks that) and any protobuf client parses it.
"""

from __future__ import annotations

import numpy as np

from protos import thunder_pb2
from thunder.light_posts import LightPosts
from thunder.packed_posts import pack_posts
from thunder.post_table import HAS_VIDEO, IS_REPLY, IS_RETWEET

# LightPost fields in field-number order: (number, column or flag bit)
_FIELDS: list[tuple[int, str | np.uint8]] = [
    (1, "post_id"), (2, "author_id"), (3, "created_at"), (4, "in_reply_to_post_id"),
    (5, "in_reply_to_user_id"), (6, IS_RETWEET), (7, IS_REPLY), (8, "source_post_id"),
    (9, "source_user_id"), (10, HAS_VIDEO), (11, "conversation_id"),
]
_RESPONSE_POSTS_TAG = 0x0A  # field 1, length-delimited
ROW = 128  # scratch bytes per post: the largest element (2 + 8 * 11 + 3 * 2 = 96) plus a store's spill
_THRESHOLDS = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)
# continuation bits of a varint's first 8 bytes, by its length in bytes (index 0 unused)
_CONTINUE = np.array([0] + [int.from_bytes(b"\x80" * (n - 1) + b"\x00" * (9 - n), "little") for n in range(1, 9)]
                     + [int.from_bytes(b"\x80" * 8, "little")] * 2, dtype=np.uint64)
_U = np.uint64


def _spread(values: np.ndarray) -> np.ndarray:
    """The low 56 bits of each value as eight 7-bit groups, one per byte (little-endian)."""
    x = values & _U(0x00FFFFFFFFFFFFFF)
    x = (x & _U(0x000000000FFFFFFF)) | ((x & _U(0x00FFFFFFF0000000)) << _U(4))
    x = (x & _U(0x00003FFF00003FFF)) | ((x & _U(0x0FFFC0000FFFC000)) << _U(2))
    return (x & _U(0x007F007F007F007F)) | ((x & _U(0x3F803F803F803F80)) << _U(1))


def encode_rows(columns: dict[str, np.ndarray], flags: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Each post's ``posts`` element of the response (tag, length, LightPost fields): returns
    the scratch buffer, where post ``i``'s element starts at ``i * ROW``, and the elements' sizes.

    Fields are written in order at each post's running offset; an absent field is written too
    but does not advance the offset, so the next field overwrites it (and bytes past an
    element's end are never read)."""
    n = len(flags)
    scratch = np.zeros(n * ROW + 16, dtype=np.uint8)
    words = np.ndarray((n * ROW + 8,), dtype="<u8", buffer=scratch, strides=(1,))  # unaligned uint64 at each byte
    base = np.arange(n, dtype=np.int64) * ROW
    scratch[base] = _RESPONSE_POSTS_TAG
    at = base + 2
    for number, source in _FIELDS:
        tag = number << 3  # varint wire type 0
        if isinstance(source, str):
            values = columns[source].astype(np.int64).view(np.uint64)
            length = np.searchsorted(_THRESHOLDS, values, side="right") + 1
            scratch[at] = tag
            words[at + 1] = _spread(values) | _CONTINUE[length]
            long = np.flatnonzero(length > 8)  # bytes 9 and 10 of the longest varints
            if len(long):
                top = values[long] >> _U(56)
                scratch[at[long] + 9] = (top & _U(0x7F)) | np.where(length[long] == 10, 0x80, 0).astype(np.uint64)
                scratch[at[long] + 10] = top >> _U(7)
            at = at + np.where(values != 0, 1 + length, 0)
        else:
            present = (flags & source) != 0
            scratch[at] = tag
            scratch[at + 1] = 1
            at = at + 2 * present
    sizes = at - base
    scratch[base + 1] = sizes - 2  # <= 94 < 128: a single varint byte
    return scratch.tobytes(), sizes


def encode_response(posts: LightPosts) -> bytes:
    """The serialized ``GetInNetworkPostsResponse``: the store's pre-encoded bytes when the
    query attached them, else encoded here."""
    if posts.wire is not None:
        return posts.wire
    data, sizes = encode_rows(posts.columns, posts.flags)
    return b"".join(data[i * ROW : i * ROW + size] for i, size in enumerate(sizes.tolist()))


def encode_packed_response(posts: LightPosts) -> bytes:
    """The serialized ``GetInNetworkPostsResponse`` with the posts as packed columns."""
    return thunder_pb2.GetInNetworkPostsResponse(packed=pack_posts(posts.columns, posts.flags)).SerializeToString()


def to_protos(posts: LightPosts) -> list[thunder_pb2.LightPost]:
    """The result as parsed ``LightPost`` messages (for in-process callers and tests)."""
    return list(thunder_pb2.GetInNetworkPostsResponse.FromString(encode_response(posts)).posts)
