"""Small array helpers for the hot paths: sort-based replacements for ``np.unique``, and
cache-line aligned allocation.

Why: numpy 2's ``np.unique`` goes through a generic (hash or sort) machinery that costs tens of
microseconds per call even on a few thousand ids; ingest calls it a dozen times per batch and
every request twice. These do one sort (or none, when the input is already sorted) and one
comparison.
"""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def first_occurrences(values: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each distinct value (in order of value)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return order[keep]


def runs(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct values, index of each run's start, run lengths) of an already sorted array."""
    n = len(sorted_values)
    change = np.empty(n, dtype=bool)
    change[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    return sorted_values[starts], starts, np.diff(starts, append=n)


def aligned_zeros(count: int, dtype: np.dtype | type, align: int = 64) -> np.ndarray:
    """``count`` zeros whose first element starts on an ``align``-byte boundary. numpy only
    aligns to 16 bytes, so an array of 64-byte records would have every record straddle two
    cache lines, and a gather of records touch twice the memory it needs."""
    dtype = np.dtype(dtype)
    raw = np.zeros(count * dtype.itemsize + align, dtype=np.uint8)
    offset = -raw.ctypes.data % align
    return raw[offset : offset + count * dtype.itemsize].view(dtype)
