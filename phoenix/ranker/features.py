"""From plain user context and candidates to the padded tensors the ranker eats.

The same code builds training batches (from events) and serving batches (from gRPC requests), so
the features a model is trained on are exactly the ones it is served. Ids are hashed here
(vectorised, each distinct id once per batch); post age comes from ``created_at_ms`` or, when
that is 0, from the snowflake id.

History layout: LEFT-padded, newest engagement in the last slot (``S-1``), matching
``right_anchored_positions(left_padded=True)``.

A user's candidates come either as ``CandidateItem`` objects (training, X's TweetInfo layout) or
as one :class:`CandidateColumns` (the packed serving layout, ``packed.py``): the batch is filled
from columns either way, so a serving request of ~2,200 candidates never builds a Python object
per candidate, and both forms give bit-identical tensors (tested). The history is filled the
same way, a few list comprehensions and array assignments per user instead of a Python loop of
numpy scalar writes per item.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import torch

from infra.snowflake import TWITTER_EPOCH_MS, snowflake_timestamp_ms
from phoenix.actions import DWELL_CLIP_S, OUTPUT_SLOTS
from phoenix.hashing import hash_ids
from phoenix.ranker.config import AGE_BUCKET_MINUTES, AGE_BUCKETS, PRODUCT_SURFACES, SID_LEVELS, RankerConfig
from phoenix.ranker.history_match import history_item_values, history_match_features

SNOWFLAKE_SHIFT = 22  # infra.snowflake: (ms since epoch) << 22 | sequence
NUM_COUNTS = 5
# Post-kind flags of a candidate (reference §4.3.3 context features; TweetInfo carries them):
# is_reply, is_retweet, is_quote, has_video.
POST_KIND_FLAGS = ("is_reply", "is_retweet", "is_quote", "has_video")
NUM_KIND_FLAGS = len(POST_KIND_FLAGS)


@dataclass(frozen=True)
class HistoryItem:
    """One post the user engaged with: which actions (ActionName numbers), dwell, surface."""

    post_id: int
    author_id: int
    actions: tuple[int, ...] = ()
    dwell_ms: int = 0
    surface: int = 0
    semantic_ids: tuple[int, ...] = ()  # level 0 first; 0 = unknown


@dataclass(frozen=True)
class CandidateItem:
    post_id: int
    author_id: int
    created_at_ms: int = 0  # 0 = derive from the snowflake id
    in_network: bool = False
    surface: int = 0
    # Engagement counts so far (fav, reply, repost, quote, view), as home-mixer hydrates them.
    counts: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    # What kind of post it is (from PostCreated in training, TweetInfo when serving).
    is_reply: bool = False
    is_retweet: bool = False
    is_quote: bool = False
    has_video: bool = False
    semantic_ids: tuple[int, ...] = ()  # level 0 (topic) first; 0 = unknown


@dataclass(frozen=True, eq=False)
class CandidateColumns(Sequence[CandidateItem]):
    """One user's candidates as arrays, row i = candidate i: the serving form of ``CandidateItem``s.

    ``build_batch`` reads the arrays directly. It is also a ``Sequence[CandidateItem]``
    (indexing builds the item, a slice is again columns), so code written for item lists (the
    engine's request sizes, replay) reads it unchanged. ``created_at_ms`` 0 means "derive from
    the snowflake id"; ``semantic_ids`` has any number of levels (level 0 first, 0 = unknown).
    """

    post_id: np.ndarray  # [n] int64
    author_id: np.ndarray  # [n] int64
    created_at_ms: np.ndarray  # [n] int64
    in_network: np.ndarray  # [n] bool
    surface: np.ndarray  # [n] int64
    counts: np.ndarray  # [n, NUM_COUNTS] int64 (fav, reply, repost, quote, view; negatives read as 0)
    kind: np.ndarray  # [n, NUM_KIND_FLAGS] bool, POST_KIND_FLAGS order
    semantic_ids: np.ndarray  # [n, levels] int64

    def __post_init__(self) -> None:
        n = len(self.post_id)
        shapes = {
            "post_id": (n,), "author_id": (n,), "created_at_ms": (n,), "in_network": (n,), "surface": (n,),
            "counts": (n, NUM_COUNTS), "kind": (n, NUM_KIND_FLAGS),
        }  # fmt: skip
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"CandidateColumns.{name} has shape {getattr(self, name).shape}, expected {shape}")
        if self.semantic_ids.ndim != 2 or len(self.semantic_ids) != n:
            raise ValueError(f"CandidateColumns.semantic_ids has shape {self.semantic_ids.shape}, expected ({n}, levels)")

    @classmethod
    def from_items(cls, items: Sequence[CandidateItem]) -> CandidateColumns:
        """The columns of an item list (one pass over the objects into one int table)."""
        table = np.array(
            [
                (x.post_id, x.author_id, x.created_at_ms, x.surface, x.in_network, *x.counts,
                 x.is_reply, x.is_retweet, x.is_quote, x.has_video)
                for x in items
            ],
            dtype=np.int64,
        ).reshape(len(items), 5 + NUM_COUNTS + NUM_KIND_FLAGS)  # fmt: skip
        sids = _sid_matrix([x.semantic_ids for x in items])
        return cls(
            post_id=table[:, 0], author_id=table[:, 1], created_at_ms=table[:, 2], in_network=table[:, 4] != 0,
            surface=table[:, 3], counts=table[:, 5 : 5 + NUM_COUNTS], kind=table[:, 5 + NUM_COUNTS :] != 0,
            semantic_ids=sids,
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self.post_id)

    @overload
    def __getitem__(self, index: int) -> CandidateItem: ...
    @overload
    def __getitem__(self, index: slice) -> CandidateColumns: ...
    def __getitem__(self, index: int | slice) -> CandidateItem | CandidateColumns:
        if isinstance(index, slice):
            return CandidateColumns(**{name: getattr(self, name)[index] for name in _COLUMN_FIELDS})
        i = range(len(self))[index]  # IndexError / TypeError as a list gives them
        sids = self.semantic_ids[i].tolist()
        while sids and not sids[-1]:  # trailing unknown levels are padding
            sids.pop()
        return CandidateItem(
            int(self.post_id[i]), int(self.author_id[i]), int(self.created_at_ms[i]), bool(self.in_network[i]),
            int(self.surface[i]), tuple(self.counts[i].tolist()), *map(bool, self.kind[i]), semantic_ids=tuple(sids),
        )  # fmt: skip

    def __iter__(self) -> Iterator[CandidateItem]:
        return (self[i] for i in range(len(self)))


_COLUMN_FIELDS = ("post_id", "author_id", "created_at_ms", "in_network", "surface", "counts", "kind", "semantic_ids")


@dataclass
class UserContext:
    user_id: int
    history: Sequence[HistoryItem] = field(default_factory=tuple)  # oldest first, newest last


def age_bucket(created_at_ms: int, post_id: int, now_ms: int) -> int:
    """60-minute bucket of the post's age, 1..81 (81 = older than 80 h); 0 when unknown/negative."""
    created = created_at_ms or snowflake_timestamp_ms(post_id) or 0
    if created <= 0 or now_ms < created:
        return 0
    return min((now_ms - created) // 60_000 // AGE_BUCKET_MINUTES + 1, AGE_BUCKETS - 1)


@dataclass
class RankerBatch:
    """Padded tensors for B users (``H`` = hashes per id, ``S`` history, ``C`` candidates)."""

    user_rows: torch.Tensor  # [B, H]
    hist_post_rows: torch.Tensor  # [B, S, H]
    hist_author_rows: torch.Tensor  # [B, S, H]
    hist_actions: torch.Tensor  # [B, S, 64] float multi-hot by ActionName number
    hist_surface: torch.Tensor  # [B, S] long
    hist_dwell: torch.Tensor  # [B, S] float, clip(dwell_s, 0, 30) / 30
    hist_len: torch.Tensor  # [B] long
    hist_sid: torch.Tensor  # [B, S, SID_LEVELS] long, 0 = unknown
    cand_post_rows: torch.Tensor  # [B, C, H]
    cand_author_rows: torch.Tensor  # [B, C, H]
    cand_surface: torch.Tensor  # [B, C] long
    cand_age: torch.Tensor  # [B, C] long
    cand_in_network: torch.Tensor  # [B, C] long (0/1)
    cand_counts: torch.Tensor  # [B, C, 5] float log2(count + 1) / 32
    cand_kind: torch.Tensor  # [B, C, NUM_KIND_FLAGS] float 0/1
    cand_sid: torch.Tensor  # [B, C, SID_LEVELS] long, 0 = unknown
    cand_valid: torch.Tensor  # [B, C] bool
    # [B, C, NUM_MATCH_FEATURES] float: the history's engagement with the candidate's topic and
    # author (``history_match``); width 0 when the config has the feature off.
    cand_match: torch.Tensor

    def to(self, device: torch.device | str) -> RankerBatch:
        return RankerBatch(**{k: v.to(device) for k, v in vars(self).items()})

    @property
    def prefix_valid(self) -> torch.Tensor:
        """[B, 1+S]: the user token is always valid, history slots only when filled."""
        b, s = self.hist_surface.shape
        slots = torch.arange(s, device=self.hist_len.device)
        hist = slots[None, :] >= (s - self.hist_len)[:, None]
        return torch.cat([torch.ones(b, 1, dtype=torch.bool, device=hist.device), hist], 1)

    def select_rows(self, rows: torch.Tensor) -> RankerBatch:
        """Only the users ``rows`` (with all their tensors)."""
        return RankerBatch(**{k: v.index_select(0, rows) for k, v in vars(self).items()})

    def recent_history(self, width: int) -> RankerBatch:
        """The same batch with only the last ``width`` history slots (left padding cut; the caller
        keeps every real item by using ``width >= hist_len.max()``)."""
        s = self.hist_surface.shape[1]
        if not 0 <= width <= s:
            raise ValueError(f"history width must be in [0, {s}], got {width}")
        if bool((self.hist_len > width).any()):
            raise ValueError(
                f"width {width} would cut real history items (longest {int(self.hist_len.max())})"
            )
        cut = {
            k: v[:, s - width :] for k, v in vars(self).items() if k.startswith("hist_") and k != "hist_len"
        }
        return RankerBatch(**{**vars(self), **cut})

    def candidates(self, start: int, stop: int) -> RankerBatch:
        """The same users with only candidate columns ``[start, stop)`` (for chunked scoring)."""
        fields = {k: (v[:, start:stop] if k.startswith("cand_") else v) for k, v in vars(self).items()}
        return RankerBatch(**fields)


def sid_rows(ids: np.ndarray, vocab: int) -> np.ndarray:
    """Semantic ids -> table rows: 0 (unknown, or negative) stays 0; anything else folds into
    1..vocab-1, so a code book larger than the table shares rows instead of failing."""
    ids = np.asarray(ids, np.int64)
    return np.where(ids > 0, (ids - 1) % (vocab - 1) + 1, 0)


def _sid_tuple(ids: Sequence[int]) -> tuple[int, ...]:
    return tuple(ids[:SID_LEVELS]) + (0,) * (SID_LEVELS - min(len(ids), SID_LEVELS))


def _sid_matrix(ids: Sequence[Sequence[int]]) -> np.ndarray:
    """``[len(ids), SID_LEVELS]``: each id list cut or zero-padded to the ranker's levels (one
    array conversion when every list has the same length, the usual case)."""
    out = np.zeros((len(ids), SID_LEVELS), np.int64)
    widths = set(map(len, ids))
    if len(widths) == 1:
        width = min(widths.pop(), SID_LEVELS)
        if width:
            out[:, :width] = np.array(ids, np.int64)[:, :width]
    elif ids:
        out[:] = [_sid_tuple(x) for x in ids]
    return out


def build_batch(
    users: Sequence[UserContext],
    candidates: Sequence[Sequence[CandidateItem]],
    now_ms: Sequence[int] | int,
    cfg: RankerConfig,
    num_candidates: int | None = None,
) -> RankerBatch:
    """Tensors for ``users[i]`` scoring ``candidates[i]`` at time ``now_ms`` (per user or shared).

    Histories longer than ``cfg.history_len`` keep their newest items. ``num_candidates`` pads the
    candidate axis to a fixed width (default: the longest list).
    """
    if len(users) != len(candidates):
        raise ValueError(f"{len(users)} users but {len(candidates)} candidate lists")
    b, s, hc = len(users), cfg.history_len, cfg.hashing
    c = num_candidates if num_candidates is not None else max((len(x) for x in candidates), default=0)
    c = max(c, 1)
    nows = [now_ms] * b if isinstance(now_ms, int) else list(now_ms)

    hist_post = np.zeros((b, s), np.int64)
    hist_author = np.zeros((b, s), np.int64)
    hist_actions = np.zeros((b, s, OUTPUT_SLOTS), np.float32)
    hist_surface = np.zeros((b, s), np.int64)
    hist_dwell = np.zeros((b, s), np.float32)
    hist_len = np.zeros(b, np.int64)
    hist_sid = np.zeros((b, s, SID_LEVELS), np.int64)
    cand_sid = np.zeros((b, c, SID_LEVELS), np.int64)
    cand_post = np.zeros((b, c), np.int64)
    cand_author = np.zeros((b, c), np.int64)
    cand_surface = np.zeros((b, c), np.int64)
    cand_age = np.zeros((b, c), np.int64)
    cand_in_net = np.zeros((b, c), np.int64)
    cand_counts = np.zeros((b, c, NUM_COUNTS), np.float32)
    cand_kind = np.zeros((b, c, NUM_KIND_FLAGS), np.float32)
    cand_valid = np.zeros((b, c), bool)

    for i, user in enumerate(users):
        hist = list(user.history)[-s:]
        hist_len[i] = len(hist)
        if hist:
            _fill_history(hist, i, hist_post, hist_author, hist_actions, hist_surface, hist_dwell, hist_sid)
        cands = candidates[i]
        if len(cands) > c:
            raise ValueError(f"user {user.user_id} has {len(cands)} candidates, batch width is {c}")
        if len(cands):
            columns = cands if isinstance(cands, CandidateColumns) else CandidateColumns.from_items(cands)
            _fill_candidates(columns, nows[i], i, cand_post, cand_author, cand_surface, cand_age,
                             cand_in_net, cand_counts, cand_kind, cand_sid, cand_valid)  # fmt: skip

    if cfg.history_match_features:
        hist_values = history_item_values(hist_actions, hist_dwell * DWELL_CLIP_S)
        hist_values *= (np.arange(s)[None, :] >= (s - hist_len)[:, None])[..., None]
        match = history_match_features(
            hist_sid[..., 0], hist_author, hist_values, cand_sid[..., 0], cand_author
        )
    else:
        match = np.zeros((b, c, 0), np.float32)
    user_ids = np.array([u.user_id for u in users], np.int64)
    t = torch.from_numpy
    return RankerBatch(
        user_rows=t(hash_ids("user", user_ids, hc)),
        hist_post_rows=t(hash_ids("post", hist_post, hc)),
        hist_author_rows=t(hash_ids("author", hist_author, hc)),
        hist_actions=t(hist_actions),
        hist_surface=t(hist_surface),
        hist_dwell=t(hist_dwell),
        hist_len=t(hist_len),
        hist_sid=t(sid_rows(hist_sid, cfg.sid_vocab)),
        cand_post_rows=t(hash_ids("post", cand_post, hc)),
        cand_author_rows=t(hash_ids("author", cand_author, hc)),
        cand_surface=t(cand_surface),
        cand_age=t(cand_age),
        cand_in_network=t(cand_in_net),
        cand_counts=t(np.log2(np.maximum(cand_counts, 0) + 1) / 32),
        cand_kind=t(cand_kind),
        cand_sid=t(sid_rows(cand_sid, cfg.sid_vocab)),
        cand_valid=t(cand_valid),
        cand_match=t(match),
    )


def age_buckets(created_at_ms: np.ndarray, post_ids: np.ndarray, now_ms: int) -> np.ndarray:
    """Vectorised ``age_bucket`` over arrays of creation times and post ids."""
    from_id = np.where(post_ids > 0, (post_ids >> SNOWFLAKE_SHIFT) + TWITTER_EPOCH_MS, 0)
    created = np.where(created_at_ms != 0, created_at_ms, from_id)
    minutes = (now_ms - created) // 60_000
    buckets = np.minimum(minutes // AGE_BUCKET_MINUTES + 1, AGE_BUCKETS - 1)
    return np.where((created <= 0) | (now_ms < created), 0, buckets)


def _clip_surfaces(surface: np.ndarray) -> np.ndarray:
    return np.where((surface >= 0) & (surface < PRODUCT_SURFACES), surface, 0)


def _fill_history(
    hist: Sequence[HistoryItem],
    i: int,
    post: np.ndarray,
    author: np.ndarray,
    actions: np.ndarray,
    surface: np.ndarray,
    dwell: np.ndarray,
    sid: np.ndarray,
) -> None:
    """Row ``i``'s last ``len(hist)`` history slots (left padding) from the items, column-wise."""
    n = len(hist)
    start = post.shape[1] - n
    post[i, start:] = [x.post_id for x in hist]
    author[i, start:] = [x.author_id for x in hist]
    surface[i, start:] = _clip_surfaces(np.array([x.surface for x in hist], np.int64))
    seconds = np.array([x.dwell_ms for x in hist], np.float64) / 1000.0
    dwell[i, start:] = np.minimum(np.maximum(seconds, 0.0), DWELL_CLIP_S) / DWELL_CLIP_S
    hot = [(j, a) for j, x in enumerate(hist, start=start) for a in x.actions if 0 < a < OUTPUT_SLOTS]
    if hot:
        slots, names = zip(*hot, strict=True)
        actions[i, list(slots), list(names)] = 1.0
    sid[i, start:] = _sid_matrix([x.semantic_ids for x in hist])


def _fill_candidates(
    cands: CandidateColumns,
    now_ms: int,
    i: int,
    post: np.ndarray,
    author: np.ndarray,
    surface: np.ndarray,
    age: np.ndarray,
    in_net: np.ndarray,
    counts: np.ndarray,
    kind: np.ndarray,
    sid: np.ndarray,
    valid: np.ndarray,
) -> None:
    """Row ``i`` of the candidate arrays from one user's columns (a request has up to 2,800)."""
    n = len(cands)
    post[i, :n] = cands.post_id
    author[i, :n] = cands.author_id
    surface[i, :n] = _clip_surfaces(cands.surface)
    age[i, :n] = age_buckets(cands.created_at_ms, cands.post_id, now_ms)
    in_net[i, :n] = cands.in_network
    counts[i, :n] = cands.counts
    kind[i, :n] = cands.kind
    levels = min(cands.semantic_ids.shape[1], SID_LEVELS)
    sid[i, :n, :levels] = cands.semantic_ids[:, :levels]
    valid[i, :n] = True
