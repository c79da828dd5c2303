"""A compact int64 -> int32 hash map in numpy (open addressing, linear probing).

Why not a dict: a Python dict of big ints costs ~100 bytes per entry, a third of Thunder's whole
per-post memory budget, and cannot be probed for a thousand keys at once. This table costs
12 bytes per slot (at most 50 % full, so 24-48 bytes per key) and every operation takes a batch
of keys and runs as a handful of vectorised numpy passes.

Keys must be positive (0 marks an empty slot, -1 a removed one).
"""

from __future__ import annotations

import numpy as np

from thunder.array_ops import first_occurrences

EMPTY = 0
REMOVED = -1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MAX_LOAD = 0.5
_SCALAR_TAIL = 16  # below this many unresolved keys, probe one by one


class IdIndex:
    """Maps positive int64 ids to int32 values (row numbers); batch operations only."""

    def __init__(self, capacity: int = 1024) -> None:
        bits = max(4, int(np.ceil(np.log2(max(capacity, 16)))))
        self._init(bits)

    def _init(self, bits: int) -> None:
        self._bits = bits
        self._mask = (1 << bits) - 1
        self.keys = np.zeros(1 << bits, dtype=np.int64)
        self.values = np.zeros(1 << bits, dtype=np.int32)
        self.size = 0
        self._removed = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        return self.keys.nbytes + self.values.nbytes

    def _home(self, keys: np.ndarray) -> np.ndarray:
        hashed = keys.astype(np.uint64) * _GOLDEN
        return (hashed >> np.uint64(64 - self._bits)).astype(np.int64)

    def _find_slots(self, keys: np.ndarray) -> np.ndarray:
        """Slot of each key, -1 where absent."""
        keys = np.asarray(keys, dtype=np.int64)
        out = np.full(len(keys), -1, dtype=np.int64)
        if len(keys) == 0 or self.size == 0:
            return out
        slots = self._home(keys)
        pending = np.arange(len(keys))
        while len(pending):
            if len(pending) <= _SCALAR_TAIL:
                self._finish_scalar(keys, pending, slots, out)
                break
            found_keys = self.keys[slots]
            hit = found_keys == keys[pending]
            out[pending[hit]] = slots[hit]
            go_on = ~hit & (found_keys != EMPTY)
            pending = pending[go_on]
            slots = (slots[go_on] + 1) & self._mask
        return out

    def _finish_scalar(self, keys: np.ndarray, pending: np.ndarray, slots: np.ndarray, out: np.ndarray) -> None:
        """The few keys left in long probe chains: walking them in Python beats more numpy passes."""
        table = self.keys
        mask = self._mask
        for i, slot in zip(pending.tolist(), slots.tolist(), strict=True):
            key = int(keys[i])
            while True:
                found = int(table[slot])
                if found == key:
                    out[i] = slot
                    break
                if found == EMPTY:
                    break
                slot = (slot + 1) & mask

    def get(self, keys: np.ndarray) -> np.ndarray:
        """Value of each key, -1 where absent (0 or negative keys are always absent)."""
        keys = np.asarray(keys, dtype=np.int64)
        slots = self._find_slots(np.where(keys > 0, keys, -2))
        values = self.values[np.maximum(slots, 0)].astype(np.int64)
        values[slots < 0] = -1
        return values

    def insert(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add keys that are distinct and not yet present (the caller checks with ``get``)."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) == 0:
            return
        if np.any(keys <= 0):
            raise ValueError("IdIndex keys must be positive")
        if (self.size + self._removed + len(keys)) > _MAX_LOAD * len(self.keys):
            self._rebuild(self.size + len(keys))
        values = np.asarray(values, dtype=np.int32)
        slots = self._home(keys)
        pending = np.arange(len(keys))
        while len(pending):
            free = self.keys[slots] <= EMPTY
            claim_idx = pending[free]
            claim_slots = slots[free]
            # several pending keys may want the same free slot: the first one takes it
            first = first_occurrences(claim_slots)
            winners = np.zeros(len(claim_idx), dtype=bool)
            winners[first] = True
            won_slots = claim_slots[winners]
            self._removed -= int(np.count_nonzero(self.keys[won_slots] == REMOVED))
            self.keys[won_slots] = keys[claim_idx[winners]]
            self.values[won_slots] = values[claim_idx[winners]]
            placed = np.zeros(len(pending), dtype=bool)
            placed[np.flatnonzero(free)[winners]] = True
            pending = pending[~placed]
            slots = (slots[~placed] + 1) & self._mask
        self.size += len(keys)

    def remove(self, keys: np.ndarray) -> int:
        """Remove the keys that are present; returns how many were."""
        slots = self._find_slots(np.asarray(keys, dtype=np.int64))
        slots = np.unique(slots[slots >= 0])
        self.keys[slots] = REMOVED
        self.size -= len(slots)
        self._removed += len(slots)
        return len(slots)

    def items(self) -> tuple[np.ndarray, np.ndarray]:
        live = self.keys > 0
        return self.keys[live], self.values[live]

    def set_values(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Change the values of present keys (used when rows are compacted)."""
        slots = self._find_slots(np.asarray(keys, dtype=np.int64))
        if np.any(slots < 0):
            raise KeyError("set_values on absent keys")
        self.values[slots] = np.asarray(values, dtype=np.int32)

    def _rebuild(self, want: int) -> None:
        keys, values = self.items()
        bits = max(4, int(np.ceil(np.log2(max(16.0, want / _MAX_LOAD * 1.0001)))))
        self._init(bits)
        if len(keys):
            self.insert(keys, values)
