"""Many messages' ``map<string, double>`` field with the same keys, serialised column-wise.

Filling a map field from Python goes through ``MutableMapping.update`` one key at a time: for the
``served`` event's ~535 candidates x ~22 action probabilities that was ~3 ms of the event loop
per request. With the same keys in every row, each row's map is the same bytes but for the
doubles, so numpy writes all rows at once (a structured array of constant key prefixes and
little-endian values) and each message merges its slice with one C-level ``MergeFromString``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_LEN = 2  # protobuf wire type of a map entry (a length-delimited message)
_DOUBLE = 1  # wire type of the entry's 64-bit value


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _entry_prefix(field_number: int, key: str) -> bytes:
    """Everything of one map entry but its 8-byte value: field tag, entry length, key, value tag."""
    raw = key.encode()
    entry = b"\x0a" + _varint(len(raw)) + raw + bytes([(2 << 3) | _DOUBLE])  # key = field 1, value = 2
    return _varint((field_number << 3) | _LEN) + _varint(len(entry) + 8) + entry


def double_map_rows(field_number: int, keys: Sequence[str], values: np.ndarray) -> list[bytes]:
    """Serialised map field ``field_number`` with ``keys[j] -> values[i, j]`` for each row ``i``
    (bytes that ``MergeFromString`` adds to a message's map)."""
    values = np.asarray(values, dtype="<f8")
    if values.ndim != 2 or values.shape[1] != len(keys):
        raise ValueError(f"values have shape {values.shape}, expected (rows, {len(keys)})")
    prefixes = [_entry_prefix(field_number, key) for key in keys]
    layout = np.dtype([f for j, p in enumerate(prefixes) for f in ((f"k{j}", f"S{len(p)}"), (f"v{j}", "<f8"))])
    table = np.empty(values.shape[0], dtype=layout)
    for j, prefix in enumerate(prefixes):
        table[f"k{j}"] = prefix
        table[f"v{j}"] = values[:, j]
    blob, size = table.tobytes(), layout.itemsize
    return [blob[i * size : (i + 1) * size] for i in range(values.shape[0])]
