"""Posting lists (X's per-user ``VecDeque<TinyPost>``) as segments of one numpy arena.

Every list owns a segment ``arena[off : off + cap]`` whose live part is
``[off + head, off + head + length)``, oldest first, so appending is a scatter and popping the
oldest is ``head += n``. A segment that overflows moves to the end of the arena with a
power-of-two capacity; the holes it leaves are reclaimed by compacting the whole arena once they
outweigh the live entries. Entries are post-table row numbers (int32, 4 bytes). The store keeps
all three lists of an author (originals, secondary, video) here, as list ``3 * author + kind``.

Why one arena instead of a list object per author: a thousand followees' newest entries can
then be gathered with one fancy-indexing expression instead of a thousand Python calls.

Time bounds: a parallel uint32 array ``bound`` holds, at every live slot, the largest
``created_at`` of the list's entries up to that slot (a running max, so it bounds every older
entry even when a late event arrived out of order). Within a list the bounds never increase
from the newest entry to the oldest, so "how many of this list's newest entries can be at least
as new as t?" is a search in each list's segment.

Meta records: each list's ``off``, ``head``, ``length``, ``cap`` and ``probe`` (the time bound at
depths :data:`PROBE_DEPTHS` from the newest end, refreshed on append) share one 64-byte,
cache-line aligned record, so a query reads everything it needs about a thousand lists with one
gather of a thousand cache lines, instead of four arrays plus scattered probes of the arena per
list. The probes answer "how many newest entries can be at least as new as t?" to within twice
the exact count without touching the arena, which is what lets a query look only at the few
entries that can make the newest ``max_results`` instead of every followee's whole window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thunder.array_ops import aligned_zeros, runs

_MIN_CAPACITY = 4
_LOW = np.int64(0xFFFFFFFF)  # created_at is clipped below this (seconds < 2^32)
NO_TIME = -1  # "no entry": older than any created_at
# Eight probes, so a list's "probe >= t" row is 8 bytes and counts as one uint64 popcount.
PROBE_DEPTHS = np.array([1, 2, 4, 8, 16, 24, 32, 48], dtype=np.int64)
# the depth just past each probe: with k probes at least as new as t, at most _NEXT[k] - 1 entries are
_NEXT = np.append(PROBE_DEPTHS, np.iinfo(np.int64).max // 4)
_DEPTH_OR_ZERO = np.append(0, PROBE_DEPTHS)
_MAX_MOST = 1024  # probed_depth: the largest ``most`` it is asked about (caps are 30-100)
_PROBES_WITHIN = np.searchsorted(PROBE_DEPTHS, np.arange(_MAX_MOST + 1), side="right")  # probes <= depth
# the probes fill the record's last 32 bytes: seen as 16 uint32 words, words 8-15
META = np.dtype([("off", "<i8"), ("head", "<i4"), ("length", "<i4"), ("cap", "<i4"), ("spare", "<u4", (3,)),
                 ("probe", "<u4", (len(PROBE_DEPTHS),))])
_WORDS, _FIRST_PROBE_WORD = 16, 8
assert META.itemsize == 4 * _WORDS and META.fields["probe"][1] == 4 * _FIRST_PROBE_WORD, "one cache line per list"


def ranges(starts: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ``[starts[i], starts[i] + lengths[i])``: returns (group of each element, offset in group)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    group = np.repeat(np.arange(len(lengths)), lengths)
    first = np.cumsum(lengths) - lengths
    within = np.arange(total, dtype=np.int64) - np.repeat(first, lengths)
    return group, within


def _pow2_at_least(n: np.ndarray) -> np.ndarray:
    n = np.maximum(np.asarray(n, dtype=np.int64), _MIN_CAPACITY)
    return (1 << np.ceil(np.log2(n)).astype(np.int64)).astype(np.int64)


@dataclass(frozen=True)
class Segments:
    """Where some lists live right now (one gather of their meta records per query)."""

    off: np.ndarray
    end: np.ndarray  # one past the newest entry
    length: np.ndarray
    words: np.ndarray  # the records as (lists, 16) uint32; words 8-15 are the probes

    def subset(self, which: np.ndarray) -> Segments:
        return Segments(self.off[which], self.end[which], self.length[which], self.words[which])

    @property
    def start(self) -> np.ndarray:
        """First live slot (oldest entry)."""
        return self.end - self.length


def _grouped_running_max(values: np.ndarray, group_rank: np.ndarray) -> np.ndarray:
    """Running max of ``values`` (< 2^32) restarting at each group; groups are contiguous and
    ``group_rank`` is non-decreasing, so putting it in the high bits keeps groups apart."""
    return np.maximum.accumulate((group_rank << 32) | values) & _LOW


class PostingLists:
    """One list per index; batch append, pop-oldest and newest-first windows."""

    def __init__(self, arena_capacity: int = 1024) -> None:
        self.arena = np.zeros(arena_capacity, dtype=np.int32)
        self.bound = np.zeros(arena_capacity, dtype=np.uint32)  # running max created_at, per slot
        self.used = 0  # arena slots handed out
        self.live = 0  # entries currently in lists
        self.meta = aligned_zeros(0, META)

    # the record fields as arrays (views: writing them writes the records)
    @property
    def off(self) -> np.ndarray:
        return self.meta["off"]

    @property
    def head(self) -> np.ndarray:
        return self.meta["head"]

    @property
    def length(self) -> np.ndarray:
        return self.meta["length"]

    @property
    def cap(self) -> np.ndarray:
        return self.meta["cap"]

    @property
    def nbytes(self) -> int:
        return self.arena.nbytes + self.bound.nbytes + self.meta.nbytes

    def ensure_lists(self, n: int) -> None:
        """Make room for list indexes ``< n`` (new lists start empty)."""
        old = len(self.meta)
        if n <= old:
            return
        grown = aligned_zeros(max(n, old * 3 // 2, 64), META)  # one cache line per record
        grown[:old] = self.meta
        self.meta = grown

    # -- writes ---------------------------------------------------------------------------------
    def append(self, lists: np.ndarray, rows: np.ndarray, created: np.ndarray) -> None:
        """Append ``rows[i]`` (created at ``created[i]``, seconds < 2^32) to list ``lists[i]``,
        keeping the batch order per list."""
        if len(lists) == 0:
            return
        order = np.argsort(lists, kind="stable")
        a = lists[order]
        r = rows[order]
        when = np.clip(np.asarray(created, dtype=np.int64)[order], 0, _LOW - 1)
        uniq, first, counts = runs(a)
        rank = np.arange(len(a)) - np.repeat(first, counts)
        length = self.length[uniq].astype(np.int64)
        want = length + counts
        fits = self.head[uniq] + want <= self.cap[uniq]
        if not fits.all():
            self._make_room(uniq[~fits], want[~fits], uniq, want)
        off = self.off[uniq]
        end = off + self.head[uniq] + length
        prior = np.where(length > 0, self.bound[np.maximum(end - 1, 0)], 0)
        group_rank = np.repeat(np.arange(len(uniq), dtype=np.int64), counts)
        upper = _grouped_running_max(np.maximum(when, np.repeat(prior, counts)), group_rank)
        pos = np.repeat(end, counts) + rank
        self.arena[pos] = r
        self.bound[pos] = upper
        self.length[uniq] = want
        self._refresh_probes(uniq, end + counts, want)
        self.live += len(a)

    def _refresh_probes(self, lists: np.ndarray, end: np.ndarray, length: np.ndarray) -> None:
        """Re-read the probe bounds of lists that grew (0 past a list's length). Popping the
        oldest entries leaves the newest ones, hence the probes, as they are."""
        bounds = self.bound[np.maximum(end[:, None] - PROBE_DEPTHS, 0)]
        self.meta["probe"][lists] = np.where(PROBE_DEPTHS <= length[:, None], bounds, 0)

    def pop_oldest(self, lists: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Drop the ``counts[i]`` oldest entries of each list; returns their rows."""
        counts = np.minimum(np.asarray(counts, dtype=np.int64), self.length[lists])
        keep = counts > 0
        lists, counts = lists[keep], counts[keep]
        if len(lists) == 0:
            return np.zeros(0, dtype=np.int64)
        group, within = ranges(self.off[lists] + self.head[lists], counts)
        popped = self.arena[(self.off[lists] + self.head[lists])[group] + within].astype(np.int64)
        self.head[lists] += counts.astype(np.int32)
        self.length[lists] -= counts.astype(np.int32)
        self.head[lists[self.length[lists] == 0]] = 0  # an emptied segment is reused from its start
        self.live -= len(popped)
        return popped

    def _move_live(self, lists: np.ndarray, new_off: np.ndarray, arena: np.ndarray, bound: np.ndarray) -> None:
        """Copy each list's live entries to the start of its new segment."""
        group, within = ranges(new_off, self.length[lists].astype(np.int64))
        src = (self.off[lists] + self.head[lists])[group] + within
        dst = new_off[group] + within
        arena[dst] = self.arena[src]
        bound[dst] = self.bound[src]

    def _make_room(self, lists: np.ndarray, needed: np.ndarray, batch: np.ndarray, batch_want: np.ndarray) -> None:
        """Give ``lists`` segments of at least ``needed`` entries. When the arena is full and
        mostly holes, compact it instead (sizing every author of the batch for its appends)."""
        new_cap = _pow2_at_least(needed)
        total = int(new_cap.sum())
        if self.used + total > len(self.arena):
            if self.used - self.live > self.live:
                self._compact(batch, batch_want)
                return
            size = max(len(self.arena) * 2, self.used + total)
            for name in ("arena", "bound"):
                old = getattr(self, name)
                grown = np.zeros(size, dtype=old.dtype)
                grown[: self.used] = old[: self.used]
                setattr(self, name, grown)
        new_off = self.used + np.cumsum(new_cap) - new_cap
        self._move_live(lists, new_off, self.arena, self.bound)
        self.off[lists] = new_off
        self.head[lists] = 0
        self.cap[lists] = new_cap.astype(np.int32)
        self.used += total

    def _compact(self, batch: np.ndarray, batch_want: np.ndarray) -> None:
        """Pack every segment (power-of-two capacities) into a fresh arena with room to grow."""
        sizes = self.length.astype(np.int64)
        sizes[batch] = batch_want
        lists = np.flatnonzero((self.cap > 0) | (sizes > 0))
        new_cap = _pow2_at_least(sizes[lists])
        new_off = np.cumsum(new_cap) - new_cap
        used = int(new_cap.sum())
        arena = np.zeros(max(used * 2, 1024), dtype=np.int32)
        bound = np.zeros(len(arena), dtype=np.uint32)
        self._move_live(lists, new_off, arena, bound)
        self.arena, self.bound = arena, bound
        self.off[lists] = new_off
        self.head[lists] = 0
        self.cap[lists] = new_cap.astype(np.int32)
        self.used = used

    # -- reads ----------------------------------------------------------------------------------
    def segments(self, lists: np.ndarray) -> Segments:
        """Where ``lists`` live: one gather of their records (``take`` copies whole records;
        ``[]`` goes field by field, 10x slower)."""
        rec = self.meta.take(lists)
        off = rec["off"]
        length = rec["length"].astype(np.int64)
        return Segments(off, off + rec["head"] + length, length, rec.view(np.uint32).reshape(-1, _WORDS))

    def newest_in(self, seg: Segments, window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each list's newest ``window`` entries (<= length), newest first, lists in order; and
        where each list's entries start in that array."""
        start = np.cumsum(window) - window
        total = int(start[-1] + window[-1]) if len(window) else 0
        return self.arena[np.repeat(seg.end - 1 + start, window) - np.arange(total)], start

    @staticmethod
    def window_since(seg: Segments, since: int, most: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(window, proven): a number of newest entries (<= ``most``) holding every entry
        created at or after ``since`` unless ``most`` cut it short, at most twice the exact
        count, from the probes alone; and whether the probes prove every older entry older than
        ``since`` (false where ``most`` cut the window). Probes past a list's length can only
        over-count; the length clips that."""
        # compare all 16 words (contiguous, so cheap) and count the probe bytes as one uint64
        at_least = (seg.words >= max(int(since), 0)).view(np.uint64)[:, 1]
        probed = _NEXT[np.bitwise_count(at_least)] - 1
        return np.minimum(np.minimum(probed, most), seg.length), probed <= most

    @staticmethod
    def probed_depth(seg: Segments, most: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(depth, bound): the deepest probe at most ``min(most, length)`` deep and its time
        bound (depth 0 for an empty list): each list's recent posting rate, cheaply.
        ``most`` <= 1,024."""
        j = _PROBES_WITHIN[np.minimum(seg.length, most)]  # 0 = none
        # word 7 (the spare word before the probes) is always 0: the bound of "no probe"
        bound = seg.words.ravel()[np.arange(_FIRST_PROBE_WORD - 1, seg.words.size, _WORDS) + j]
        return _DEPTH_OR_ZERO[j], bound.astype(np.int64)

    def bound_beyond(self, seg: Segments, window: np.ndarray) -> np.ndarray:
        """Latest possible created_at of an entry older than the newest ``window`` (NO_TIME if none)."""
        more = window < seg.length
        return np.where(more, self.bound[np.where(more, seg.end - window - 1, 0)].astype(np.int64), NO_TIME)

    def count_since_in(self, seg: Segments, since: int) -> np.ndarray:
        """Exact number of newest entries whose bound is at least ``since``: a binary search in
        every list's segment at once (for the few lists a query rescans)."""
        since = max(int(since), 0)
        lo = np.zeros(len(seg.length), dtype=np.int64)  # that many newest entries qualify ...
        hi = seg.length + 1  # ... and that many do not
        while True:
            open_ = np.flatnonzero(hi - lo > 1)
            if len(open_) == 0:
                return lo
            mid = (lo[open_] + hi[open_]) // 2
            ok = self.bound[seg.end[open_] - mid] >= since
            lo[open_[ok]] = mid[ok]
            hi[open_[~ok]] = mid[~ok]

    def newest(self, lists: np.ndarray, limit: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``limit`` newest entries per list, newest first: (rows, index into ``lists``)."""
        length = self.length[lists]
        n = np.minimum(length, limit)
        # position of the j-th newest of group g = last[g] - j = (last[g] + first[g]) - i
        first = np.cumsum(n) - n
        last = self.off[lists] + self.head[lists] + length - 1
        pos = np.repeat(last + first, n) - np.arange(int(first[-1] + n[-1]) if len(n) else 0)
        group = np.repeat(np.arange(len(lists)), n)
        return self.arena[pos].astype(np.int64), group

    def all_entries(self, lists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every entry of each list, oldest first: (rows, index into ``lists``)."""
        length = self.length[lists].astype(np.int64)
        group, within = ranges(np.zeros(len(lists), dtype=np.int64), length)
        rows = self.arena[(self.off[lists] + self.head[lists])[group] + within].astype(np.int64)
        return rows, group

    def all_bounds(self, lists: np.ndarray) -> np.ndarray:
        """The time bound of every entry, aligned with :meth:`all_entries` (for rebuilding)."""
        length = self.length[lists].astype(np.int64)
        group, within = ranges(np.zeros(len(lists), dtype=np.int64), length)
        return self.bound[(self.off[lists] + self.head[lists])[group] + within].astype(np.int64)
