"""The mmh3 Bloom filter: no false negatives, FP rate near its target, sizing and errors."""

from __future__ import annotations

import pytest

from home_mixer.bloom import BloomFilter, bloom_parameters


def test_no_false_negatives_and_fp_rate_near_target() -> None:
    bloom = BloomFilter(2000, 0.01)
    bloom.update(range(0, 4000, 2))
    assert all(i in bloom for i in range(0, 4000, 2))
    fps = sum(i in bloom for i in range(1_000_001, 1_020_001))
    assert fps / 20_000 < 0.02


def test_parameters_and_roundtrip() -> None:
    assert bloom_parameters(10_000, 0.001) == (143_776, 10)
    bloom = BloomFilter(100, 0.01)
    bloom.add(5)
    again = BloomFilter(100, 0.01, bits=bloom.to_bytes().rstrip(b"\0"))
    assert 5 in again and "5" not in again


@pytest.mark.parametrize("cap,fpr", [(0, 0.1), (10, 0.0), (10, 1.0)])
def test_bad_parameters_are_rejected(cap: int, fpr: float) -> None:
    with pytest.raises(ValueError):
        BloomFilter(cap, fpr)


def test_oversized_bits_rejected() -> None:
    with pytest.raises(ValueError):
        BloomFilter(10, 0.1, bits=b"\xff" * 1000)
