"""Column-wise serialised map fields parse back to exactly the rows' values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from home_mixer.proto_maps import double_map_rows
from protos import events_pb2


def test_rows_merge_into_the_map_they_stand_for() -> None:
    keys = ["favorite", "reply", "k" * 300, "dwell_time"]  # a key long enough for 2-byte lengths
    values = np.array([[0.5, 1e-300, math.inf, -0.0], [1.0, 2.0, 3.0, math.nan]])
    blobs = double_map_rows(9, keys, values)
    for row, blob in zip(values.tolist(), blobs, strict=True):
        served = events_pb2.ServedCandidate(post_id=7, score=0.25)
        served.MergeFromString(blob)
        got = dict(served.action_probabilities)
        assert served.post_id == 7 and served.score == 0.25 and set(got) == set(keys)
        assert np.array_equal(np.array([got[k] for k in keys]), np.array(row), equal_nan=True)
    assert math.copysign(1.0, dict(_merged(blobs[0]).action_probabilities)["dwell_time"]) == -1.0
    plain = events_pb2.ServedCandidate(action_probabilities=dict(zip(keys, values[0].tolist(), strict=True)))
    assert _merged(blobs[0]).SerializeToString(deterministic=True) == plain.SerializeToString(deterministic=True)


def _merged(blob: bytes) -> events_pb2.ServedCandidate:
    out = events_pb2.ServedCandidate()
    out.MergeFromString(blob)
    return out


def test_no_rows_and_bad_shapes() -> None:
    assert double_map_rows(9, ["a"], np.zeros((0, 1))) == []
    with pytest.raises(ValueError, match="shape"):
        double_map_rows(9, ["a", "b"], np.zeros((2, 1)))
