"""The ranker's columnar wire format: ``PackedCandidates`` in, ``PackedDistributions`` out.

X's layout sends one ``TweetInfo`` per candidate and answers one ``NextActionDistribution`` with
64 log-probabilities each. For the ~2,200 candidates of a feed request, building, serialising
and parsing those messages in Python cost ~45 ms per request across home-mixer and the ranker
(measured: 12 ms to turn TweetInfos into ranker items, 14 ms to build the answer, ~17 ms on the
client side), several times the model's own work. Here every field is one little-endian array
(``np.frombuffer`` reads it without a copy) and the answer is one float32 matrix of the modelled
heads. Both layouts stay served; a candidate set uses one or the other.

Everything decoded from the wire is validated and bad input raises :class:`PackingError` (the
server answers INVALID_ARGUMENT with its message), never an exception from numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from phoenix.actions import DISCRETE_ACTIONS, NAME_BY_ACTION_NUMBER
from phoenix.ranker.features import NUM_COUNTS, NUM_KIND_FLAGS, CandidateColumns
from protos import recsys_pb2 as pb

INT64 = np.dtype("<i8")
INT32 = np.dtype("<i4")
FLOAT32 = np.dtype("<f4")

_NON_COLUMNS = {"count", "semantic_ids", "semantic_id_levels"}
INT64_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in pb.PackedCandidates.DESCRIPTOR.fields if f.name not in _NON_COLUMNS
)
"""The int64 columns of ``PackedCandidates`` (TweetInfo field names), in field order."""

MAX_SEMANTIC_ID_LEVELS = 64
_WIRE_SLOTS = np.array([h.action for h in DISCRETE_ACTIONS], dtype=np.intp)


class PackingError(ValueError):
    """A packed message that cannot be read (wrong sizes, bad ids); the message says which field."""


def pack_candidates(
    columns: Mapping[str, Sequence[int] | np.ndarray], count: int, semantic_ids: np.ndarray | None = None
) -> pb.PackedCandidates:
    """``PackedCandidates`` of ``count`` candidates from int columns named as :data:`INT64_COLUMNS`.

    A column that is left out or all zero is sent empty (0 for everyone, as an unset field).
    ``semantic_ids`` is an int array ``[count, levels]`` (level 0 first, 0 = unknown).
    """
    unknown = sorted(set(columns) - set(INT64_COLUMNS))
    if unknown:
        raise PackingError(f"unknown PackedCandidates columns {unknown}; known: {', '.join(INT64_COLUMNS)}")
    fields: dict[str, bytes] = {}
    for name, values in columns.items():
        array = np.asarray(values, dtype=INT64)
        if array.shape != (count,):
            raise PackingError(f"column {name} has shape {array.shape}, expected ({count},)")
        if array.any():
            fields[name] = array.tobytes()
    packed = pb.PackedCandidates(count=count, **fields)
    if semantic_ids is not None:
        sids = np.asarray(semantic_ids, dtype=INT32)
        if sids.ndim != 2 or sids.shape[0] != count or sids.shape[1] > MAX_SEMANTIC_ID_LEVELS:
            raise PackingError(f"semantic_ids has shape {sids.shape}, expected ({count}, levels <= 64)")
        if sids.any():
            packed.semantic_ids = np.ascontiguousarray(sids).tobytes()
            packed.semantic_id_levels = sids.shape[1]
    return packed


def _array(data: bytes, dtype: np.dtype, count: int, what: str) -> np.ndarray | None:
    """``count`` values of ``dtype`` from ``data`` (None when empty: all zero)."""
    if not data:
        return None
    if len(data) != count * dtype.itemsize:
        raise PackingError(f"{what} has {len(data)} bytes, expected {count} x {dtype.itemsize}")
    return np.frombuffer(data, dtype=dtype)


def unpack_candidates(packed: pb.PackedCandidates) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(int64 column by name, semantic ids ``[count, levels]`` int32) of a packed candidate set.

    Every column is present (zeros for an empty one). Checks the sizes and, as the TweetInfo
    path does, that every ``tweet_id`` is > 0 and every ``author_id`` >= 0.
    """
    n = packed.count
    if n < 0:
        raise PackingError(f"count must be >= 0, got {n}")
    zeros = np.zeros(n, dtype=INT64)
    columns = {}
    for name in INT64_COLUMNS:
        values = _array(getattr(packed, name), INT64, n, name)
        columns[name] = zeros if values is None else values
    if n and int(columns["tweet_id"].min()) <= 0:
        raise PackingError(f"row {int(np.argmin(columns['tweet_id'] > 0))}: tweet_id must be > 0")
    if n and int(columns["author_id"].min()) < 0:
        raise PackingError(f"row {int(np.argmax(columns['author_id'] < 0))}: author_id must be >= 0")
    levels = packed.semantic_id_levels
    if not 0 <= levels <= MAX_SEMANTIC_ID_LEVELS:
        raise PackingError(f"semantic_id_levels must be in 0..{MAX_SEMANTIC_ID_LEVELS}, got {levels}")
    if packed.semantic_ids and not levels:
        raise PackingError("semantic_ids given with semantic_id_levels 0")
    sids = _array(packed.semantic_ids, INT32, n * levels, "semantic_ids")
    return columns, (np.zeros((n, 0), INT32) if sids is None else sids.reshape(n, levels))


def candidate_columns(packed: pb.PackedCandidates, surface: int) -> CandidateColumns:
    """The ranker's view of a packed set, as arrays: the features ``candidate_from_tweet_info``
    reads from a TweetInfo (no Python object per candidate; ``build_batch`` reads the arrays)."""
    c, sids = unpack_candidates(packed)
    n = packed.count
    counts = np.maximum(np.stack([c[k] for k in ("fav_count", "reply_count", "retweet_count", "quote_count",
                                                    "view_count")], axis=1), 0)
    kind = np.stack([
        c["in_reply_to_tweet_id"] > 0,
        (c["retweeting_tweet_id"] > 0) | (c["retweeted_tweet_id"] > 0),
        c["quoted_tweet_id"] > 0,
        c["min_video_duration_ms"] > 0,
    ], axis=1).reshape(n, NUM_KIND_FLAGS)  # fmt: skip
    return CandidateColumns(
        post_id=c["tweet_id"], author_id=c["author_id"], created_at_ms=np.maximum(c["created_at_ms"], 0),
        in_network=c["is_author_followed_by_user"] != 0, surface=np.full(n, surface, np.int64),
        counts=counts.reshape(n, NUM_COUNTS), kind=kind, semantic_ids=sids.astype(np.int64),
    )  # fmt: skip


def pack_distributions(tweet_ids: np.ndarray, log_probs: np.ndarray, dwell_s: np.ndarray) -> pb.PackedDistributions:
    """The answer for a packed set from the engine's wire-layout log-probs ``[count, 64]``
    (only the modelled heads are sent) and dwell seconds ``[count]``."""
    n = len(tweet_ids)
    return pb.PackedDistributions(
        count=n,
        tweet_id=np.asarray(tweet_ids, dtype=INT64).tobytes(),
        actions=_WIRE_SLOTS.tolist(),
        log_probs=np.ascontiguousarray(log_probs[:, _WIRE_SLOTS], dtype=FLOAT32).tobytes(),
        continuous_actions=[pb.DWELL_TIME],
        continuous_values=np.asarray(dwell_s, dtype=FLOAT32).tobytes(),
    )


@dataclass(frozen=True)
class Predictions:
    """What the ranker predicted for a candidate set; row i is candidate i of the request.

    ``probabilities[i, j]`` is P(``actions[j]``) for candidate i (head names as in
    :mod:`phoenix.actions`, the keys of home-mixer's weights); ``dwell_s`` is the predicted
    dwell in seconds, or None when the model has no dwell head.
    """

    tweet_ids: np.ndarray
    actions: tuple[str, ...]
    probabilities: np.ndarray
    dwell_s: np.ndarray | None = None
    version: str = ""

    def __post_init__(self) -> None:
        n = len(self.tweet_ids)
        if self.probabilities.shape != (n, len(self.actions)):
            raise ValueError(f"probabilities have shape {self.probabilities.shape}, expected ({n}, {len(self.actions)})")
        if self.dwell_s is not None and self.dwell_s.shape != (n,):
            raise ValueError(f"dwell_s has shape {self.dwell_s.shape}, expected ({n},)")

    def __len__(self) -> int:
        return len(self.tweet_ids)


def unpack_distributions(packed: pb.PackedDistributions, version: str = "") -> Predictions:
    """:class:`Predictions` (probabilities = exp of the log-probs, in float64) of a packed answer.

    Heads this client does not know by name are left out."""
    n = packed.count
    if n < 0:
        raise PackingError(f"count must be >= 0, got {n}")
    ids = _array(packed.tweet_id, INT64, n, "tweet_id")
    width = len(packed.actions)
    log_probs = _array(packed.log_probs, FLOAT32, n * width, "log_probs")
    known = [j for j, a in enumerate(packed.actions) if a in NAME_BY_ACTION_NUMBER]
    probs = np.zeros((n, len(known))) if log_probs is None else np.exp(
        log_probs.reshape(n, width)[:, known].astype(np.float64))
    dwell = None
    continuous = list(packed.continuous_actions)
    if pb.DWELL_TIME in continuous:
        values = _array(packed.continuous_values, FLOAT32, n * len(continuous), "continuous_values")
        if values is not None:
            dwell = values.reshape(n, len(continuous))[:, continuous.index(pb.DWELL_TIME)].astype(np.float64)
    return Predictions(
        tweet_ids=np.zeros(n, INT64) if ids is None else ids,
        actions=tuple(NAME_BY_ACTION_NUMBER[packed.actions[j]] for j in known),
        probabilities=probs,
        dwell_s=dwell,
        version=version,
    )
