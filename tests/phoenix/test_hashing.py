from __future__ import annotations

import mmh3
import numpy as np
import pytest

from phoenix.hashing import HashCache, HashConfig, hash_ids, murmur3_32_int64


def test_vectorised_murmur_matches_mmh3_library() -> None:
    rng = np.random.default_rng(0)
    ids = np.concatenate([rng.integers(-(2**62), 2**62, 200), [0, 1, -1, 2**63 - 1]]).astype(np.int64)
    for seed in (0, 42, 0x5EED1001):
        ours = murmur3_32_int64(ids, seed)
        ref = [mmh3.hash(int(i).to_bytes(8, "little", signed=True), seed, signed=False) for i in ids]
        assert ours.tolist() == ref


def test_padding_and_range() -> None:
    cfg = HashConfig(num_hashes=3, user_buckets=11, post_buckets=7, author_buckets=5)
    ids = np.arange(0, 5000, dtype=np.int64)
    rows = hash_ids("post", ids, cfg)
    assert rows.shape == (5000, 3) and rows.dtype == np.int64
    assert (rows[0] == 0).all()
    assert (rows[1:] >= 1).all() and (rows[1:] < 7).all()


def test_hash_functions_and_kinds_differ() -> None:
    cfg = HashConfig(num_hashes=2, user_buckets=1_000_003, post_buckets=1_000_003, author_buckets=1_000_003)
    ids = np.arange(1, 2001, dtype=np.int64)
    users, posts = hash_ids("user", ids, cfg), hash_ids("post", ids, cfg)
    assert (users[:, 0] != users[:, 1]).mean() > 0.99
    assert (users != posts).mean() > 0.99
    # Two ids colliding in every function is (almost) impossible: all 2000 rows are distinct pairs.
    assert len({tuple(r) for r in users.tolist()}) == 2000


def test_shape_is_preserved_and_duplicates_consistent() -> None:
    cfg = HashConfig()
    ids = np.array([[5, 0, 5], [7, 7, 0]], dtype=np.int64)
    rows = hash_ids("author", ids, cfg)
    assert rows.shape == (2, 3, 2)
    assert (rows[0, 0] == rows[0, 2]).all() and (rows[1, 0] == rows[1, 1]).all()
    assert (rows[0, 1] == 0).all()


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown id kind"):
        hash_ids("ip", np.array([1]), HashConfig())
    with pytest.raises(TypeError, match="integers"):
        hash_ids("user", np.array([1.5]), HashConfig())
    with pytest.raises(ValueError, match="buckets"):
        HashConfig(user_buckets=1)


def test_cache_hashes_each_id_once_and_matches() -> None:
    cfg = HashConfig()
    cache = HashCache(cfg, capacity=100)
    ids = np.array([3, 4, 3, 0, 9], dtype=np.int64)
    assert (cache.rows("post", ids) == hash_ids("post", ids, cfg)).all()
    assert cache.hashed == 4
    cache.rows("post", np.array([4, 9, 3]))
    assert cache.hashed == 4
    cache.rows("user", np.array([4]))  # other kind: a new entry
    assert cache.hashed == 5
    big = HashCache(cfg, capacity=3)
    big.rows("post", np.arange(1, 10))
    assert len(big) == 3
