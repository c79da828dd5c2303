"""The scored-candidate cache's wire form: a column-wise JSON header over binary number columns.

Row-wise JSON of 750 ``PostCandidate`` dicts was ~1.5 MB and ~25-50 ms of ``json.dumps`` per
request, almost all of it in ``float.__repr__`` (~25 ranker probabilities per post plus the
scores) and in repeating every field name 750 times. Here each field is one column: a column
holding only floats (or None) travels as float64 bytes (exact, NaN and inf included)
with the positions of its Nones, one of only ints (or None) as int64 bytes the same way, a
column holding one value of one type (most flags, and every explanation field of a feed that
was not explained) as that value once, every other column as a plain JSON list; the ranker
probabilities are one float64 matrix over the union of action names plus, per post, which
names it has. Decoding gives back exactly what ``PostCandidate.from_dict(cache_form(p))``
gave (weighted-score terms left out, containers as lists), and the previous row-wise form
(a JSON list of dicts, written before this codec) and version 2 (no constant columns) are still
read.

Version 4 (written now) keeps the packed columns out of the JSON: ``MAGIC``, the header's length
(4 bytes, little-endian), the JSON header, then the columns' raw bytes, each named in the header
by ``[offset, count]``. Version 3 carried them as base64 text inside the JSON: ~230 KB of it for
750 posts, which base64 and ``json.dumps`` then scanned (~0.8 of ~3.4 ms per write); version 3
payloads (JSON from the first byte) are still read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from home_mixer.action_scores import shared_table
from home_mixer.models import (
    _CANDIDATE_FIELDS,
    _EXPLANATION_FIELDS,
    _LIST_FIELDS,
    BLANK_EXPLANATION,
    PostCandidate,
    ScoreExplanation,
)

FORMAT_VERSION = 4
READABLE_VERSIONS = (2, 3, 4)
MAGIC = b"SPC\x04"
"""First bytes of a version-4 payload (a JSON payload starts with ``{`` or ``[``)."""
_PLAIN_FIELDS = tuple(f for f in _CANDIDATE_FIELDS if f not in ("phoenix_scores", "explanation"))
_EXPLANATION_COLUMNS = tuple(f for f in _EXPLANATION_FIELDS if f != "terms")
_PLAIN_GETTER = attrgetter(*_PLAIN_FIELDS)


class CacheFormatError(ValueError):
    """The cached blob is not a scored-posts payload this codec can read."""


class _Body:
    """The binary part of a version-4 payload: arrays appended, each named by [offset, count]."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, array: np.ndarray) -> list[int]:
        raw = array.tobytes()
        self.parts.append(raw)
        self.size += len(raw)
        return [self.size - len(raw), int(array.size)]


def encode(posts: Sequence[PostCandidate]) -> bytes:
    """The version-4 payload of ``posts`` (terms of the explanations left out)."""
    body = _Body()
    explanations = [p.explanation for p in posts]
    # Every field of a post in one pass, then transposed (C loops): a pass per field walked all
    # the posts, scattered over the heap, ~48 times.
    columns = zip(*map(_PLAIN_GETTER, posts), strict=True) if posts else ([] for _ in _PLAIN_FIELDS)
    doc = {
        "v": FORMAT_VERSION,
        "n": len(posts),
        "fields": {f: _encode_column(column, f in _LIST_FIELDS, body)
                   for f, column in zip(_PLAIN_FIELDS, columns, strict=True)},
        "explanation": {} if explanations.count(BLANK_EXPLANATION) == len(explanations) else {
            f: _encode_column(map(attrgetter(f), explanations), f == "other_multipliers", body)
            for f in _EXPLANATION_COLUMNS
        },  # {}: none explained (not a debug request), every post gets the blank explanation back
        "phoenix_scores": _encode_scores([p.phoenix_scores for p in posts], body),
    }
    header = json.dumps(doc, separators=(",", ":")).encode()
    return b"".join((MAGIC, len(header).to_bytes(4, "little"), header, *body.parts))


def header(payload: bytes) -> tuple[dict[str, Any], memoryview | None]:
    """(the JSON document, the binary body or None) of a payload of any readable version."""
    if payload[: len(MAGIC)] == MAGIC:
        start = len(MAGIC) + 4
        if len(payload) < start:
            raise CacheFormatError(f"scored-posts cache payload cut short ({len(payload)} bytes)")
        end = start + int.from_bytes(payload[len(MAGIC) : start], "little")
        if len(payload) < end:
            raise CacheFormatError(f"scored-posts cache header runs past the payload ({end} > {len(payload)} bytes)")
        text, body = payload[start:end], memoryview(payload)[end:]
    else:
        text, body = payload, None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CacheFormatError(f"scored-posts cache is not JSON: {exc}") from exc
    if body is not None and (not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION):
        raise CacheFormatError(f"a binary scored-posts cache payload must be version {FORMAT_VERSION}")
    return doc, body


def decode(payload: bytes) -> list[PostCandidate]:
    """Posts from :func:`encode`'s bytes, from version 2/3 JSON, or from the older row-wise JSON list."""
    doc, body = header(payload)
    if isinstance(doc, list):
        return [PostCandidate.from_dict(d) for d in doc]
    if not isinstance(doc, dict) or doc.get("v") not in READABLE_VERSIONS or (body is None) != (doc["v"] < 4):
        version = doc.get("v") if isinstance(doc, dict) else None
        raise CacheFormatError(f"unknown scored-posts cache format: {type(doc).__name__}, v={version!r}")
    try:
        return _decode_columns(doc, body)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CacheFormatError(f"malformed scored-posts cache: {exc!r}") from exc


def _decode_columns(doc: dict[str, Any], body: memoryview | None) -> list[PostCandidate]:
    n = doc["n"]
    fields = {f: _decode_column(c, n, body) for f, c in doc["fields"].items() if f in _PLAIN_FIELDS}
    exp_fields = {f: _decode_column(c, n, body) for f, c in doc["explanation"].items() if f in _EXPLANATION_COLUMNS}
    scores = _decode_scores(doc["phoenix_scores"], n, body)
    posts = []
    for i in range(n):
        explanation = ScoreExplanation(**{f: col[i] for f, col in exp_fields.items()}) if exp_fields else BLANK_EXPLANATION
        posts.append(
            PostCandidate(
                **{f: col[i] for f, col in fields.items()}, phoenix_scores=scores[i], explanation=explanation
            )
        )
    return posts


_PACKED = {float: ("f64", np.float64, 0.0), int: ("i64", np.int64, 0)}
"""Column types that travel as binary: exact types only (a bool is not packed as an int)."""


_JSON_CONTAINERS = frozenset({list, tuple, dict, type(None)})


def _encode_column(values: Iterable[Any], containers: bool, body: _Body) -> dict[str, Any]:
    column = list(values)
    kinds = set(map(type, column))
    if len(kinds) == 1 and float not in kinds and column.count(column[0]) == len(column):
        return {"const": column[0]}  # (floats are packed instead: 0.0 == -0.0 but must stay apart)
    if containers:  # lists / mappings: JSON writes them as they are (decoding makes new ones)
        if kinds <= _JSON_CONTAINERS:
            return {"json": column}
        return {"json": [v if v is None else list(v) if isinstance(v, list | tuple) else dict(v) for v in column]}
    kinds.discard(type(None))
    if len(kinds) == 1 and (kind := kinds.pop()) in _PACKED:
        tag, dtype, filler = _PACKED[kind]
        nulls = [i for i, v in enumerate(column) if v is None] if None in column else []
        try:
            packed = np.array([filler if v is None else v for v in column] if nulls else column, dtype=dtype)
        except OverflowError:  # an int beyond int64 stays JSON
            return {"json": column}
        return {tag: body.add(packed), "nulls": nulls}
    return {"json": column}


def _packed(value: str | list[int], dtype: type[np.generic], body: memoryview | None) -> np.ndarray:
    """A packed array: base64 text (version 3) or ``[offset, count]`` into the body (version 4)."""
    if body is None:
        return np.frombuffer(base64.b64decode(value), dtype=dtype)
    offset, count = value
    size = np.dtype(dtype).itemsize
    if not (isinstance(offset, int) and isinstance(count, int) and 0 <= offset and 0 <= count
            and offset + count * size <= len(body)):
        raise CacheFormatError(f"packed column {value!r} outside the {len(body)}-byte body")
    return np.frombuffer(body, dtype=dtype, count=count, offset=offset)


def _decode_column(column: dict[str, Any], n: int, body: memoryview | None) -> list[Any]:
    if "const" in column:
        value = column["const"]
        if isinstance(value, list | dict):  # every post its own container
            return [type(value)(value) for _ in range(n)]
        return [value] * n
    if "json" in column:
        values = column["json"]
    else:
        tag, dtype = ("f64", np.float64) if "f64" in column else ("i64", np.int64)
        values = _packed(column[tag], dtype, body).tolist()
        for i in column["nulls"]:
            values[i] = None
    if len(values) != n:
        raise CacheFormatError(f"column of {len(values)} values for {n} posts")
    return values


def _encode_scores(all_scores: list[Mapping[str, float] | None], body: _Body) -> dict[str, Any]:
    """Union of action names, one name-set index per post (-1: unscored) and the value matrix."""
    scored = [s for s in all_scores if s is not None]
    shared = shared_table(scored)
    if shared is not None:  # views of the ranker's matrix: its rows as they are
        table, rows = shared
        return {
            "names": list(table.names),
            "sets": [list(table.names)],
            "which": [-1 if s is None else 0 for s in all_scores],
            "f64": body.add(table.values[np.asarray(rows, dtype=np.intp)]),
        }
    name_sets: dict[tuple[str, ...], int] = {}
    which = []
    for scores in all_scores:
        which.append(-1 if scores is None else name_sets.setdefault(tuple(scores), len(name_sets)))
    names = list(dict.fromkeys(name for names in name_sets for name in names))
    if len(name_sets) == 1:  # the usual case: every post has the same actions, in the same order
        flat = chain.from_iterable(s.values() for s in scored)
    else:
        flat = chain.from_iterable([s.get(name, np.nan) for name in names] for s in scored)
    matrix = np.fromiter(flat, dtype=np.float64, count=len(scored) * len(names))
    return {
        "names": names,
        "sets": [list(s) for s in name_sets],
        "which": which,
        "f64": body.add(matrix),
    }


def _decode_scores(doc: dict[str, Any], n: int, body: memoryview | None) -> list[dict[str, float] | None]:
    names = doc["names"]
    which = doc["which"]
    if len(which) != n:
        raise CacheFormatError(f"{len(which)} score rows for {n} posts")
    flat = _packed(doc["f64"], np.float64, body)
    rows = flat.reshape(-1, len(names)).tolist() if names else [[] for k in which if k >= 0]
    position = {name: j for j, name in enumerate(names)}
    sets = [[(name, position[name]) for name in s] for s in doc["sets"]]
    out: list[dict[str, float] | None] = []
    next_row = iter(rows)
    for k in which:
        if k < 0:
            out.append(None)
            continue
        row = next(next_row)
        out.append({name: row[j] for name, j in sets[k]})
    return out
