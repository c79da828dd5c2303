"""Retrieval hits as columns: ``PackedHits`` (``RetrieveTopKCandidatesRequest.packed``).

X's layout answers one ``ScoredCandidate`` (a TweetInfo with its score) per hit. A feed request
retrieves 1,000 posts, and building those messages on the server and reading them back on the
client cost ~3-4 ms of Python per request on the event loop the feed shares; three little-endian
arrays cost microseconds. Bad bytes from the wire raise :class:`HitsError` (never a numpy error).
"""

from __future__ import annotations

import numpy as np

from protos import recsys_pb2 as pb

INT64 = np.dtype("<i8")
FLOAT32 = np.dtype("<f4")

Hit = tuple[int, int, float]  # (post id, author id, score)


class HitsError(ValueError):
    """A ``PackedHits`` whose columns do not match its count."""


def pack_hits(post_ids: np.ndarray, author_ids: np.ndarray, scores: np.ndarray) -> pb.PackedHits:
    """The columns of ``len(post_ids)`` hits (best first)."""
    n = len(post_ids)
    if len(author_ids) != n or len(scores) != n:
        raise HitsError(f"{n} post ids but {len(author_ids)} author ids and {len(scores)} scores")
    return pb.PackedHits(
        count=n,
        tweet_id=np.ascontiguousarray(post_ids, dtype=INT64).tobytes(),
        author_id=np.ascontiguousarray(author_ids, dtype=INT64).tobytes(),
        score=np.ascontiguousarray(scores, dtype=FLOAT32).tobytes(),
    )


def _column(data: bytes, dtype: np.dtype, count: int, what: str) -> np.ndarray:
    if len(data) != count * dtype.itemsize:
        raise HitsError(f"packed hits: {what} has {len(data)} bytes, expected {count} x {dtype.itemsize}")
    return np.frombuffer(data, dtype=dtype)


def unpack_hits(packed: pb.PackedHits) -> list[Hit]:
    """(post id, author id, score) per hit, in the server's order (scores widened from float32
    exactly as protobuf's float field reads them)."""
    n = packed.count
    if n < 0:
        raise HitsError(f"packed hits: count must be >= 0, got {n}")
    ids = _column(packed.tweet_id, INT64, n, "tweet_id")
    authors = _column(packed.author_id, INT64, n, "author_id")
    scores = _column(packed.score, FLOAT32, n, "score")
    return list(zip(ids.tolist(), authors.tolist(), scores.astype(np.float64).tolist(), strict=True))
