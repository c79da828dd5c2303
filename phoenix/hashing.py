"""Id hashing for the embedding tables: several mmh3 hash functions per entity kind.

Ids (users, posts, authors) are unbounded, so Phoenix never keeps an id -> row vocabulary. Each
id is hashed by ``num_hashes`` independent functions into its kind's table; a collision in one
function is almost never a collision in the others, and the model sums one projection per
function (reference §4.3.2-4.3.3). Row 0 of every table is reserved for padding: id 0 maps to 0
and a real id never does, so padded slots get an all-zero embedding.

The hash is MurmurHash3 x86_32 of the id's 8 little-endian bytes - bit-identical to
``mmh3.hash(int64_bytes, seed, signed=False)`` (a test checks this) - re-implemented in numpy so
a whole request is hashed in a handful of vector operations. ``hash_ids`` additionally
de-duplicates its input (``np.unique``) so an id repeated in a request is hashed once, and
``HashCache`` memoises rows across calls for callers that see the same ids again and again.

Row layout: one table per kind (``user``, ``post``, ``author``), each with
``<kind>_buckets`` rows; the returned values are row indices into that kind's table, shared by
all hash functions of the kind (as X's unified table does).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

KINDS = ("user", "post", "author")
# Distinct seed ranges per kind so "user 5" and "post 5" hash differently.
_KIND_SEED_BASE = {"user": 0x5EED_0001, "post": 0x5EED_1001, "author": 0x5EED_2001}

_U32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0xCC9E2D51)
_C2 = np.uint64(0x1B873593)


@dataclass(frozen=True)
class HashConfig:
    """How many hash functions per id and how many rows each kind's table has (row 0 = padding)."""

    num_hashes: int = 2
    user_buckets: int = 100_003
    post_buckets: int = 200_003
    author_buckets: int = 50_021

    def __post_init__(self) -> None:
        if self.num_hashes < 1:
            raise ValueError(f"num_hashes must be >= 1, got {self.num_hashes}")
        for kind in KINDS:
            if self.buckets(kind) < 2:
                raise ValueError(f"{kind}_buckets must be >= 2 (row 0 is padding), got {self.buckets(kind)}")

    def buckets(self, kind: str) -> int:
        if kind not in KINDS:
            raise ValueError(f"unknown id kind {kind!r}; expected one of {KINDS}")
        return int(getattr(self, f"{kind}_buckets"))

    def seeds(self, kind: str) -> list[int]:
        self.buckets(kind)  # validates kind
        return [(_KIND_SEED_BASE[kind] + 7919 * j) & 0xFFFFFFFF for j in range(self.num_hashes)]

    def to_dict(self) -> dict[str, int]:
        return {
            "num_hashes": self.num_hashes,
            "user_buckets": self.user_buckets,
            "post_buckets": self.post_buckets,
            "author_buckets": self.author_buckets,
        }


def _rotl32(x: np.ndarray, r: int) -> np.ndarray:
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _U32


def murmur3_32_int64(ids: np.ndarray, seed: int) -> np.ndarray:
    """MurmurHash3 x86_32 of each int64's 8 little-endian bytes (== ``mmh3.hash(..., signed=False)``)."""
    words = np.ascontiguousarray(ids, dtype="<i8").view("<u4").reshape(-1, 2).astype(np.uint64)
    h = np.full(words.shape[0], seed & 0xFFFFFFFF, dtype=np.uint64)
    for block in (words[:, 0], words[:, 1]):
        k = (block * _C1) & _U32
        k = _rotl32(k, 15)
        k = (k * _C2) & _U32
        h ^= k
        h = _rotl32(h, 13)
        h = (h * np.uint64(5) + np.uint64(0xE6546B64)) & _U32
    h ^= np.uint64(8)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _U32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _U32
    h ^= h >> np.uint64(16)
    return h


def _as_ids(ids: np.ndarray | list[int]) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.size == 0:
        return arr.astype(np.int64).reshape(-1)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"ids must be integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def hash_ids(kind: str, ids: np.ndarray | list[int], cfg: HashConfig) -> np.ndarray:
    """Rows of ``kind``'s table for every id: int64 array of shape ``ids.shape + (num_hashes,)``.

    Id 0 -> row 0 (padding) in every column; any other id -> rows in ``[1, buckets)``. Each
    distinct id is hashed once however often it appears.
    """
    buckets = cfg.buckets(kind)
    arr = _as_ids(ids)
    flat = arr.reshape(-1)
    unique, inverse = np.unique(flat, return_inverse=True)
    rows = np.empty((unique.shape[0], cfg.num_hashes), dtype=np.int64)
    for j, seed in enumerate(cfg.seeds(kind)):
        rows[:, j] = (murmur3_32_int64(unique, seed) % np.uint64(buckets - 1)).astype(np.int64) + 1
    rows[unique == 0] = 0
    return rows[inverse.reshape(-1)].reshape(*arr.shape, cfg.num_hashes)


class HashCache:
    """Bounded LRU memo of ``hash_ids`` rows per (kind, id), for long-lived callers.

    Only the ids it has not seen are hashed; the result equals ``hash_ids`` exactly.
    """

    def __init__(self, cfg: HashConfig, capacity: int = 1_000_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self.cfg = cfg
        self.capacity = capacity
        self._rows: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self.hashed = 0  # ids actually hashed (for tests/metrics)

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, kind: str, ids: np.ndarray | list[int]) -> np.ndarray:
        arr = _as_ids(ids)
        flat = arr.reshape(-1)
        unique, inverse = np.unique(flat, return_inverse=True)
        missing = [int(i) for i in unique if (kind, int(i)) not in self._rows]
        if missing:
            fresh = hash_ids(kind, np.asarray(missing, dtype=np.int64), self.cfg)
            self.hashed += len(missing)
            for i, row in zip(missing, fresh, strict=True):
                self._rows[(kind, i)] = row
        out = np.empty((unique.shape[0], self.cfg.num_hashes), dtype=np.int64)
        for n, i in enumerate(unique.tolist()):
            key = (kind, i)
            self._rows.move_to_end(key)
            out[n] = self._rows[key]
        while len(self._rows) > self.capacity:
            self._rows.popitem(last=False)
        return out[inverse.reshape(-1)].reshape(*arr.shape, self.cfg.num_hashes)
