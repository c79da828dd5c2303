"""Per-author posting lists (X's ``VecDeque<TinyPost>`` per user) as segments of one numpy arena.

Every author owns a segment ``arena[off : off + cap]`` whose live part is
``[off + head, off + head + length)``, oldest first, so appending is a scatter and popping the
oldest is ``head += n``. A segment that overflows moves to the end of the arena with a
power-of-two capacity; the holes it leaves are reclaimed by compacting the whole arena once they
outweigh the live entries. Entries are post-table row numbers (int32, 4 bytes).

Why one arena instead of a list object per author: a thousand followees' newest entries can
then be gathered with one fancy-indexing expression instead of a thousand Python calls.

Time keys: a parallel int64 array ``keys`` holds, at every arena slot, ``off << 32 | upper``
where ``upper`` is the largest ``created_at`` of the entries up to that slot (a running max,
so it bounds every older entry even when a late event arrived out of order) and slots not in
use hold ``upper = 2^32 - 1``. Segments are laid out in increasing ``off`` and never share one,
so ``keys[:used]`` is sorted as a whole: one ``np.searchsorted`` answers "how many of this
author's newest entries can be at least as new as t?" for a thousand authors at once. That is
what lets a query look only at the few entries that can make the newest ``max_results``
instead of every followee's whole window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thunder.array_ops import runs

_MIN_CAPACITY = 4
_LOW = np.int64(0xFFFFFFFF)  # low 32 bits of a key: the time bound; this value marks a free slot
NO_TIME = -1  # "no entry": older than any created_at
_DEPTHS = 1 << np.arange(40, dtype=np.int64)  # 1, 2, 4, ...: probe depths of window_since


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
    """Where some authors' lists live right now (computed once per query and list)."""

    off: np.ndarray
    start: np.ndarray  # first live slot (oldest entry)
    end: np.ndarray  # one past the newest entry
    length: np.ndarray


def _grouped_running_max(values: np.ndarray, group_rank: np.ndarray) -> np.ndarray:
    """Running max of ``values`` (< 2^32) restarting at each group; groups are contiguous and
    ``group_rank`` is non-decreasing, so putting it in the high bits keeps groups apart."""
    return np.maximum.accumulate((group_rank << 32) | values) & _LOW


class PostingLists:
    """One list per dense author index; batch append, pop-oldest and newest-first windows."""

    def __init__(self, arena_capacity: int = 1024) -> None:
        self.arena = np.zeros(arena_capacity, dtype=np.int32)
        self.keys = np.zeros(arena_capacity, dtype=np.int64)  # off << 32 | running max created_at
        self.used = 0  # arena slots handed out
        self.live = 0  # entries currently in lists
        n = 0
        self.off = np.zeros(n, dtype=np.int64)
        self.head = np.zeros(n, dtype=np.int32)
        self.length = np.zeros(n, dtype=np.int32)
        self.cap = np.zeros(n, dtype=np.int32)

    @property
    def nbytes(self) -> int:
        return (self.arena.nbytes + self.keys.nbytes + self.off.nbytes + self.head.nbytes + self.length.nbytes
                + self.cap.nbytes)

    def ensure_authors(self, n: int) -> None:
        """Make room for dense author indexes ``< n`` (new authors start empty)."""
        old = len(self.off)
        if n <= old:
            return
        size = max(n, old * 3 // 2, 64)
        for name in ("off", "head", "length", "cap"):
            arr = getattr(self, name)
            grown = np.zeros(size, dtype=arr.dtype)
            grown[:old] = arr
            setattr(self, name, grown)

    # -- writes ---------------------------------------------------------------------------------
    def append(self, authors: np.ndarray, rows: np.ndarray, created: np.ndarray) -> None:
        """Append ``rows[i]`` (created at ``created[i]``, seconds < 2^32) to the list of
        ``authors[i]``, keeping the batch order per author."""
        if len(authors) == 0:
            return
        order = np.argsort(authors, kind="stable")
        a = authors[order]
        r = rows[order]
        when = np.clip(np.asarray(created, dtype=np.int64)[order], 0, _LOW - 1)
        uniq, first, counts = runs(a)
        rank = np.arange(len(a)) - np.repeat(first, counts)
        want = self.length[uniq].astype(np.int64) + counts
        fits = self.head[uniq] + want <= self.cap[uniq]
        if not fits.all():
            self._make_room(uniq[~fits], want[~fits], uniq, want)
        end = self.off[uniq] + self.head[uniq] + self.length[uniq]
        prior = np.where(self.length[uniq] > 0, self.keys[np.maximum(end - 1, 0)] & _LOW, 0)
        group_rank = np.repeat(np.arange(len(uniq), dtype=np.int64), counts)
        upper = _grouped_running_max(np.maximum(when, np.repeat(prior, counts)), group_rank)
        pos = np.repeat(end, counts) + rank
        self.arena[pos] = r
        self.keys[pos] = (self.off[a] << 32) | upper
        self.length[uniq] += counts.astype(np.int32)
        self.live += len(a)

    def pop_oldest(self, authors: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Drop the ``counts[i]`` oldest entries of each author's list; returns their rows."""
        counts = np.minimum(np.asarray(counts, dtype=np.int64), self.length[authors])
        keep = counts > 0
        authors, counts = authors[keep], counts[keep]
        if len(authors) == 0:
            return np.zeros(0, dtype=np.int64)
        group, within = ranges(self.off[authors] + self.head[authors], counts)
        popped = self.arena[(self.off[authors] + self.head[authors])[group] + within].astype(np.int64)
        self.head[authors] += counts.astype(np.int32)
        self.length[authors] -= counts.astype(np.int32)
        empty = authors[self.length[authors] == 0]
        self.head[empty] = 0  # an emptied segment is reused from its start ...
        self._mark_free(self.off[empty], self.cap[empty].astype(np.int64))  # ... so its old keys go
        self.live -= len(popped)
        return popped

    def _mark_free(self, offs: np.ndarray, caps: np.ndarray) -> None:
        group, within = ranges(offs, caps)
        self.keys[offs[group] + within] = (offs[group] << 32) | _LOW

    def _move_live(self, authors: np.ndarray, new_off: np.ndarray, arena: np.ndarray, keys: np.ndarray) -> None:
        """Copy each author's live entries to the start of its new segment (rewriting key offsets)."""
        group, within = ranges(new_off, self.length[authors].astype(np.int64))
        src = (self.off[authors] + self.head[authors])[group] + within
        dst = new_off[group] + within
        arena[dst] = self.arena[src]
        keys[dst] = (new_off[group] << 32) | (self.keys[src] & _LOW)

    def _make_room(self, authors: np.ndarray, needed: np.ndarray, batch: np.ndarray, batch_want: np.ndarray) -> None:
        """Give ``authors`` segments of at least ``needed`` entries. When the arena is full and
        mostly holes, compact it instead (sizing every author of the batch for its appends)."""
        new_cap = _pow2_at_least(needed)
        total = int(new_cap.sum())
        if self.used + total > len(self.arena):
            if self.used - self.live > self.live:
                self._compact(batch, batch_want)
                return
            size = max(len(self.arena) * 2, self.used + total)
            for name in ("arena", "keys"):
                old = getattr(self, name)
                grown = np.zeros(size, dtype=old.dtype)
                grown[: self.used] = old[: self.used]
                setattr(self, name, grown)
        new_off = self.used + np.cumsum(new_cap) - new_cap
        self._mark_free(new_off, new_cap)
        self._move_live(authors, new_off, self.arena, self.keys)
        self.off[authors] = new_off
        self.head[authors] = 0
        self.cap[authors] = new_cap.astype(np.int32)
        self.used += total

    def _compact(self, batch: np.ndarray, batch_want: np.ndarray) -> None:
        """Pack every segment (power-of-two capacities) into a fresh arena with room to grow."""
        sizes = self.length.astype(np.int64)
        sizes[batch] = batch_want
        authors = np.flatnonzero((self.cap > 0) | (sizes > 0))
        new_cap = _pow2_at_least(sizes[authors])
        new_off = np.cumsum(new_cap) - new_cap
        used = int(new_cap.sum())
        arena = np.zeros(max(used * 2, 1024), dtype=np.int32)
        keys = np.zeros(len(arena), dtype=np.int64)
        group, within = ranges(new_off, new_cap)
        keys[new_off[group] + within] = (new_off[group] << 32) | _LOW
        self._move_live(authors, new_off, arena, keys)
        self.arena, self.keys = arena, keys
        self.off[authors] = new_off
        self.head[authors] = 0
        self.cap[authors] = new_cap.astype(np.int32)
        self.used = used

    # -- reads ----------------------------------------------------------------------------------
    def segments(self, authors: np.ndarray) -> Segments:
        off = self.off[authors]
        start = off + self.head[authors]
        length = self.length[authors].astype(np.int64)
        return Segments(off, start, start + length, length)

    def newest_in(self, seg: Segments, window: np.ndarray) -> np.ndarray:
        """Each author's newest ``window`` entries (<= length), newest first, authors in order."""
        first = np.cumsum(window) - window
        return self.arena[np.repeat(seg.end - 1 + first, window) - np.arange(int(first[-1] + window[-1]) if len(window) else 0)]

    def probe_keys(self, seg: Segments, most: int) -> np.ndarray:
        """Time keys at depths 1, 2, 4, ... (up to the one below ``most``) of each list: the
        input of :meth:`window_from_probe` (these sit in the last cache lines of each segment,
        where a binary search over the whole arena would miss the cache at every step)."""
        depths = _DEPTHS[: max(1, int(np.searchsorted(_DEPTHS, most, side="right")))]
        return self.keys[np.maximum(seg.end[:, None] - depths[None, :], 0)]

    @staticmethod
    def window_from_probe(seg: Segments, probe: np.ndarray, since: int, most: int) -> np.ndarray:
        """A number of newest entries (<= ``most``) holding every entry created at or after
        ``since`` unless ``most`` cut it short; at most twice the exact count. Keys of other
        segments or of popped slots can only over-count, and the length clips that."""
        hits = np.count_nonzero(probe >= ((seg.off << 32) | max(int(since), 0))[:, None], axis=1)
        return np.minimum(np.minimum((1 << hits) - 1, most), seg.length)

    def bound_at(self, seg: Segments, depth: np.ndarray) -> np.ndarray:
        """Latest possible created_at of each author's ``depth``-th newest entry (1 <= depth <= length)."""
        return self.keys[np.maximum(seg.end - depth, 0)] & _LOW

    def bound_beyond(self, seg: Segments, window: np.ndarray) -> np.ndarray:
        """Latest possible created_at of an entry older than the newest ``window`` (NO_TIME if none)."""
        more = window < seg.length
        return np.where(more, self.keys[np.where(more, seg.end - window - 1, 0)] & _LOW, NO_TIME)

    def count_since_in(self, seg: Segments, since: int) -> np.ndarray:
        """Exact :meth:`count_since` for a few authors (a binary search over the arena)."""
        found = np.searchsorted(self.keys[: self.used], (seg.off << 32) | max(int(since), 0))
        return np.clip(seg.end - np.maximum(found, seg.start), 0, None)

    def newest(self, authors: np.ndarray, limit: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``limit`` newest entries per author, newest first: (rows, index into ``authors``)."""
        length = self.length[authors]
        n = np.minimum(length, limit)
        # position of the j-th newest of group g = last[g] - j = (last[g] + first[g]) - i
        first = np.cumsum(n) - n
        last = self.off[authors] + self.head[authors] + length - 1
        pos = np.repeat(last + first, n) - np.arange(int(first[-1] + n[-1]) if len(n) else 0)
        group = np.repeat(np.arange(len(authors)), n)
        return self.arena[pos].astype(np.int64), group

    def all_entries(self, authors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every entry of each author's list, oldest first: (rows, index into ``authors``)."""
        length = self.length[authors].astype(np.int64)
        group, within = ranges(np.zeros(len(authors), dtype=np.int64), length)
        rows = self.arena[(self.off[authors] + self.head[authors])[group] + within].astype(np.int64)
        return rows, group

    def all_bounds(self, authors: np.ndarray) -> np.ndarray:
        """The time bound of every entry, aligned with :meth:`all_entries` (for rebuilding)."""
        length = self.length[authors].astype(np.int64)
        group, within = ranges(np.zeros(len(authors), dtype=np.int64), length)
        return self.keys[(self.off[authors] + self.head[authors])[group] + within] & _LOW
