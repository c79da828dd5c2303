"""A compact int64 -> int32 hash map in numpy (open addressing, linear probing).

Why not a dict: a Python dict of big ints costs ~100 bytes per entry, a third of Thunder's whole
per-post memory budget, and cannot be probed for a thousand keys at once. This table costs
12 bytes per slot (at most 50 % full, so 24-48 bytes per key) and every operation takes a batch
of keys and runs as a handful of vectorised numpy passes.

Keys hash to 8-slot buckets and probe linearly from the bucket's first slot. Lookups read a
key's bucket as one 64-byte element (an overlapping view of the cache-line aligned key array),
so nearly every key is found, or proven absent by an empty slot, with one cache line; the rare
longer chains continue slot by slot. Probing runs on past the last bucket into ``WINDOW`` extra
slots before it wraps, so a window never wraps.

Keys must be positive (0 marks an empty slot, -1 a removed one).
"""

from __future__ import annotations

import numpy as np

from thunder.array_ops import aligned_zeros, sorted_unique

EMPTY = 0
REMOVED = -1
WINDOW = 8  # slots per window: 8 int64 keys, and their 8 "equal?" bytes read as one uint64
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MAX_LOAD = 0.5
_SCALAR_TAIL = 16  # up to this many keys (or unresolved keys), probe one by one in Python
_ONE = np.uint64(1)
_GOLDEN_INT, _MASK64 = int(_GOLDEN), (1 << 64) - 1
_BUCKET = ~(WINDOW - 1)  # clears the low bits of a slot number: the first slot of its bucket


def _valid(keys: np.ndarray) -> np.ndarray:
    """int64 keys with every non-positive one replaced by -2, which no slot ever holds (0 and
    -1 would match empty and removed slots)."""
    keys = np.asarray(keys, dtype=np.int64)
    return np.where(keys > 0, keys, -2)


class IdIndex:
    """Maps positive int64 ids to int32 values (row numbers); batch operations only."""

    def __init__(self, capacity: int = 1024) -> None:
        bits = max(4, int(np.ceil(np.log2(max(capacity, 16)))))
        self._init(bits)

    def _init(self, bits: int) -> None:
        self._bits = bits
        self._homes = 1 << bits
        self._total = self._homes + WINDOW
        self.keys = aligned_zeros(self._total, np.int64)  # (buckets start on cache lines)
        self.values = np.zeros(self._total, dtype=np.int32)
        # windows[h] = keys[h : h + WINDOW], as one element (a view: it sees every write to keys)
        self._windows = np.ndarray((self._homes,), dtype=np.dtype((np.void, 8 * WINDOW)), buffer=self.keys, strides=(8,))
        self.size = 0
        self._removed = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.values.nbytes

    def _home(self, keys: np.ndarray) -> np.ndarray:
        """A key's first slot: the start of its 8-slot bucket, so its window is one cache line."""
        return ((keys.view(np.uint64) * _GOLDEN) >> np.uint64(64 - self._bits)).view(np.int64) & _BUCKET

    def _find_slots(self, keys: np.ndarray) -> np.ndarray:
        """Slot of each key, -1 where absent (keys must be int64)."""
        n = len(keys)
        if n == 0 or self.size == 0:
            return np.full(n, -1, dtype=np.int64)
        home = self._home(keys)
        window = self._windows[home].view(np.int64).reshape(n, WINDOW)
        # keys are unique in the table, so at most one byte is set: 1 << 8 * (position in the window)
        equal = (window == keys[:, None]).view(np.uint64).ravel()
        out = np.where(equal != 0, home + (np.bitwise_count(equal - _ONE) >> 3), -1)
        # neither found nor proven absent by an empty slot in the window: keep probing
        open_chain = (equal | (window == EMPTY).view(np.uint64).ravel()) == 0
        if open_chain.any():
            pending = np.flatnonzero(open_chain)
            self._probe(keys, pending, home[pending] + WINDOW, out)
        return out

    def _probe(self, keys: np.ndarray, pending: np.ndarray, slots: np.ndarray, out: np.ndarray) -> None:
        """Walk the chains of ``keys[pending]`` from ``slots`` on, one slot per round."""
        slots = slots % self._total
        while len(pending):
            if len(pending) <= _SCALAR_TAIL:
                self._finish_scalar(keys, pending, slots, out)
                return
            found_keys = self.keys[slots]
            hit = found_keys == keys[pending]
            out[pending[hit]] = slots[hit]
            go_on = ~hit & (found_keys != EMPTY)
            pending = pending[go_on]
            slots = (slots[go_on] + 1) % self._total

    def _finish_scalar(self, keys: np.ndarray, pending: np.ndarray, slots: np.ndarray, out: np.ndarray) -> None:
        """The few keys left in long probe chains: walking them in Python beats more numpy passes."""
        table = self.keys
        total = self._total
        for i, slot in zip(pending.tolist(), slots.tolist(), strict=True):
            key = int(keys[i])
            while True:
                found = int(table[slot])
                if found == key:
                    out[i] = slot
                    break
                if found == EMPTY:
                    break
                slot = (slot + 1) % total

    def get(self, keys: np.ndarray) -> np.ndarray:
        """Value of each key, -1 where absent (0 or negative keys are always absent)."""
        if len(keys) <= _SCALAR_TAIL:
            return np.array([self._get_one(key) for key in np.asarray(keys).tolist()], dtype=np.int64)
        slots = self._find_slots(_valid(keys))
        return np.where(slots >= 0, self.values[slots], -1)

    def _get_one(self, key: int) -> int:
        """One key in plain Python: for a handful of keys, a dozen numpy calls cost more."""
        if key <= 0 or self.size == 0:
            return -1
        table = self.keys
        slot = (((key * _GOLDEN_INT) & _MASK64) >> (64 - self._bits)) & _BUCKET
        while True:
            found = int(table[slot])
            if found == key:
                return int(self.values[slot])
            if found == EMPTY:
                return -1
            slot = (slot + 1) % self._total

    def insert(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add keys that are distinct and not yet present (the caller checks with ``get``)."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return
        if np.any(keys <= 0):
            raise ValueError("IdIndex keys must be positive")
        if (self.size + self._removed + len(keys)) > _MAX_LOAD * self._homes:
            self._rebuild(self.size + len(keys))
        values = np.asarray(values, dtype=np.int32)
        if self.size + self._removed == 0:
            self._fill(keys, values)
            return
        pending = np.arange(len(keys))
        slots = self._home(keys)
        while len(pending):
            # each key claims the first free slot (empty or removed) in its window; of the keys
            # claiming one slot the last write wins (read back), the others look again next round
            window = self._windows[slots].view(np.int64).reshape(len(pending), WINDOW)
            free = (window <= EMPTY).view(np.uint64).ravel()
            claims = np.flatnonzero(free)
            bits = free[claims]
            # each free slot is one 0x01 byte: bits - 1 sets the 8 * k bits below the first (k), and
            # the other free bytes add at most 7 more, which >> 3 drops
            target = slots[claims] + (np.bitwise_count(bits - _ONE) >> 3).astype(np.int64)
            was_removed = self.keys[target] == REMOVED
            claimed = keys[pending[claims]]
            self.keys[target] = claimed
            won = self.keys[target] == claimed
            self._removed -= int(np.count_nonzero(was_removed & won))
            self.values[target[won]] = values[pending[claims[won]]]
            left = np.ones(len(pending), dtype=bool)
            left[claims[won]] = False
            slots = np.where(free == 0, slots + WINDOW, slots)  # a full window: look past it
            pending, slots = pending[left], slots[left]
            tail = slots >= self._homes  # past the last home slot: the chain may wrap around
            if tail.any():
                self._place_one_by_one(keys, values, pending[tail], slots[tail])
                pending, slots = pending[~tail], slots[~tail]
        self.size += len(keys)

    def _place_one_by_one(self, keys: np.ndarray, values: np.ndarray, pending: np.ndarray, slots: np.ndarray) -> None:
        """Finish an insert slot by slot (chains that ran past the last home slot wrap around)."""
        for i, slot in zip(pending.tolist(), slots.tolist(), strict=True):
            while self.keys[slot] > EMPTY:
                slot = (slot + 1) % self._total
            self._removed -= int(self.keys[slot] == REMOVED)
            self.keys[slot] = keys[i]
            self.values[slot] = values[i]

    def remove(self, keys: np.ndarray) -> int:
        """Remove the keys that are present; returns how many were."""
        slots = self._find_slots(_valid(keys))
        slots = sorted_unique(slots[slots >= 0])
        self.keys[slots] = REMOVED
        self.size -= len(slots)
        self._removed += len(slots)
        return len(slots)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        live = self.keys > 0
        return self.keys[live], self.values[live]

    def set_values(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Change the values of present keys (used when rows are compacted)."""
        slots = self._find_slots(_valid(keys))
        if np.any(slots < 0):
            raise KeyError("set_values on absent keys")
        self.values[slots] = np.asarray(values, dtype=np.int32)

    def _fill(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Insert into an empty table without probing rounds: taken in home order, each key's
        slot is the first free one from its home, slot_i = max(home_i, slot_{i-1} + 1), which is
        i + the running max of home_j - j (keys pushed past the end wrap around, one by one)."""
        home = self._home(keys)
        order = np.argsort(home, kind="stable")
        rank = np.arange(len(order))
        slot = rank + np.maximum.accumulate(home[order] - rank)
        fits = slot < self._total
        self.keys[slot[fits]] = keys[order[fits]]
        self.values[slot[fits]] = values[order[fits]]
        if not fits.all():
            self._place_one_by_one(keys, values, order[~fits], np.zeros(int((~fits).sum()), dtype=np.int64))
        self.size += len(keys)

    def _rebuild(self, want: int) -> None:
        keys, values = self.items()
        bits = max(4, int(np.ceil(np.log2(max(16.0, want / _MAX_LOAD * 1.0001)))))
        self._init(bits)
        if len(keys):
            self._fill(keys, values)
