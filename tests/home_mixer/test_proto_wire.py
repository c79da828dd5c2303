"""Packed doubles written with numpy parse back to exactly the values, as the message API writes them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from home_mixer.proto_wire import packed_doubles, varint
from protos import events_pb2

_FIELD = events_pb2.ServedFeed.DESCRIPTOR.fields_by_name["probabilities"].number


def test_packed_doubles_merge_into_the_repeated_field() -> None:
    values = np.array([[0.5, 1e-300, math.inf, -0.0], [1.0, 2.0, 3.0, math.nan]])
    feed = events_pb2.ServedFeed(viewer_id=7)
    feed.MergeFromString(packed_doubles(_FIELD, values))
    got = np.array(feed.probabilities)
    assert feed.viewer_id == 7 and np.array_equal(got, values.ravel(), equal_nan=True)
    assert math.copysign(1.0, got[3]) == -1.0
    plain = events_pb2.ServedFeed(viewer_id=7, probabilities=values.ravel().tolist())
    assert feed.SerializeToString(deterministic=True) == plain.SerializeToString(deterministic=True)


def test_large_and_empty_fields_and_appending() -> None:
    big = np.arange(40_000, dtype=np.float64)  # 320,000 bytes: a 3-byte length
    feed = events_pb2.ServedFeed()
    feed.MergeFromString(packed_doubles(_FIELD, big[:5]))
    feed.MergeFromString(packed_doubles(_FIELD, big))
    assert list(feed.probabilities) == [*big[:5].tolist(), *big.tolist()]
    empty = events_pb2.ServedFeed()
    empty.MergeFromString(packed_doubles(_FIELD, np.zeros((0, 3))))
    assert list(empty.probabilities) == []


def test_varints_and_bad_input() -> None:
    assert [varint(n) for n in (0, 1, 127, 128, 300)] == [b"\x00", b"\x01", b"\x7f", b"\x80\x01", b"\xac\x02"]
    with pytest.raises(ValueError, match="negative"):
        varint(-1)
    with pytest.raises(ValueError, match="field numbers"):
        packed_doubles(0, np.zeros(1))
