"""A Bloom filter over post ids, hashed with mmh3 (X's impression filter; its scheme is unpublished).

Why a Bloom filter: a heavy viewer's impressions over the 48 h the age filter allows are too
many to send or store as id lists, while a false positive only hides one extra post. Bit
``i`` lives at byte ``i >> 3`` under mask ``0x80 >> (i & 7)``, the same order as Redis
``SETBIT``/``GETBIT``, so the store can set bits atomically server-side and readers can test
a plain ``GET`` of the key locally. Positions use Kirsch-Mitzenmacher double hashing over the
two 64-bit halves of ``mmh3.hash128`` of the id's 8-byte little-endian form.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import mmh3


def bloom_parameters(size_cap: int, false_positive_rate: float) -> tuple[int, int]:
    """(number of bits, number of hashes) for ``size_cap`` entries at the given FP rate."""
    if size_cap <= 0:
        raise ValueError(f"size_cap must be positive, got {size_cap}")
    if not 0.0 < false_positive_rate < 1.0:
        raise ValueError(f"false_positive_rate must be in (0, 1), got {false_positive_rate}")
    bits = math.ceil(-size_cap * math.log(false_positive_rate) / (math.log(2) ** 2))
    hashes = max(1, round(bits / size_cap * math.log(2)))
    return bits, hashes


class BloomFilter:
    """Fixed-size Bloom filter of non-negative integer ids."""

    def __init__(self, size_cap: int = 10_000, false_positive_rate: float = 0.001, bits: bytes | None = None):
        self.size_cap = size_cap
        self.false_positive_rate = false_positive_rate
        self.num_bits, self.num_hashes = bloom_parameters(size_cap, false_positive_rate)
        nbytes = (self.num_bits + 7) // 8
        data = bytearray(bits or b"")
        if len(data) > nbytes:
            raise ValueError(f"{len(data)} bytes of bits exceed the filter's {nbytes}")
        # Redis returns a bitmap only as long as its highest set bit: pad with zeros.
        data.extend(b"\0" * (nbytes - len(data)))
        self._bits = data

    def positions(self, item: int) -> list[int]:
        """The bit offsets ``item`` maps to (also used by the Redis store's SETBIT calls)."""
        h = mmh3.hash128(int(item).to_bytes(8, "little", signed=True), seed=0, signed=False)
        h1, h2 = h & 0xFFFF_FFFF_FFFF_FFFF, h >> 64
        return [(h1 + i * h2) % self.num_bits for i in range(self.num_hashes)]

    def add(self, item: int) -> None:
        for pos in self.positions(item):
            self._bits[pos >> 3] |= 0x80 >> (pos & 7)

    def update(self, items: Iterable[int]) -> None:
        for item in items:
            self.add(item)

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int):
            return False
        return all(self._bits[pos >> 3] & (0x80 >> (pos & 7)) for pos in self.positions(item))

    def to_bytes(self) -> bytes:
        return bytes(self._bits)
