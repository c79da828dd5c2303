"""The vectorised response encoder must write exactly what protobuf's SerializeToString writes."""

from __future__ import annotations

import numpy as np

from protos import thunder_pb2
from thunder.post_table import HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET
from thunder.wire import ROW, encode_rows


def test_rows_equal_protobuf_for_every_varint_length_and_sign() -> None:
    rng = np.random.default_rng(2)
    n = 3_000
    # values at every varint length boundary, negatives (10-byte varints), zeros and random ones
    edges = np.array([0, 1, 127, 128, 16_383, 16_384, 2**21 - 1, 2**21, 2**28, 2**35 - 1, 2**42, 2**49, 2**56 - 1,
                      2**56, 2**62, 2**63 - 1, -1, -(2**62), -(2**63)], dtype=np.int64)
    columns = {}
    for name in INT_COLUMNS:
        pick = rng.random(n)
        columns[name] = np.where(pick < 0.3, rng.choice(edges, n), np.where(pick < 0.5, 0, rng.integers(-(2**62), 2**62, n)))
    flags = rng.integers(0, 16, n).astype(np.uint8)
    data, sizes = encode_rows(columns, flags)
    for i in range(n):
        post = thunder_pb2.LightPost(**{name: int(columns[name][i]) for name in INT_COLUMNS},
                                     is_retweet=bool(flags[i] & IS_RETWEET), is_reply=bool(flags[i] & IS_REPLY),
                                     has_video=bool(flags[i] & HAS_VIDEO))
        expected = thunder_pb2.GetInNetworkPostsResponse(posts=[post]).SerializeToString()
        assert data[i * ROW : i * ROW + int(sizes[i])] == expected, f"post {i}"
