"""Thunder's in-memory post store with X's insert, delete, cap and retention rules (reference §3.2-3.3).

Layout: a columnar :class:`PostTable` of light posts, an :class:`IdIndex` post id -> row, a dense
author index, and the posting lists: three per author (originals; secondary = replies and
reposts; video-eligible) in one :class:`PostingLists`, list ``3 * author + kind``. Deletes
leave tombstones (post id -> deleted_at, plus an id index so inserts check a batch at once) so a
create that arrives after its delete is not served; tombstones age out with the retention window.

All mutations and reads hold one lock: the ingest thread writes batches, gRPC handlers read.
Time comes from an injectable ``clock`` so retention is testable without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from thunder import constants as c
from thunder.array_ops import first_occurrences, sorted_unique
from thunder.encoded_posts import EncodedPosts
from thunder.id_index import IdIndex
from thunder.parent_directory import ParentDirectory
from thunder.post_batch import PostBatch
from thunder.post_table import (
    ALIVE,
    HAS_VIDEO,
    HINT_GENERATIONS,
    IS_REPLY,
    IS_RETWEET,
    PostTable,
    absent_hint,
)
from thunder.posting_lists import PostingLists

LIST_NAMES = ("original", "secondary", "video")
KIND = {name: kind for kind, name in enumerate(LIST_NAMES)}


def list_ids(authors: np.ndarray, kinds: np.ndarray | int) -> np.ndarray:
    """Posting list index of each (dense author, kind)."""
    return authors * len(LIST_NAMES) + kinds


@dataclass(frozen=True)
class InsertResult:
    inserted: int
    duplicates: int
    out_of_window: int
    tombstoned: int


class PostStore:
    """Recent posts by author; safe to share between one writer thread and many readers."""

    def __init__(
        self,
        *,
        retention_s: int = c.POST_RETENTION_SECONDS,
        clock: Callable[[], float] = time.time,
        max_list_size: int = c.MAX_POSTING_LIST_SIZE,
        trim_fraction: int = c.TRIM_FRACTION,
    ) -> None:
        if retention_s <= 0 or max_list_size <= 0 or trim_fraction <= 0:
            raise ValueError("retention_s, max_list_size and trim_fraction must be positive")
        self.retention_s = retention_s
        self.clock = clock
        self.max_list_size = max_list_size
        self.trim_fraction = trim_fraction
        self.lock = threading.RLock()
        self.table = PostTable()
        self.encoded = EncodedPosts()  # each row's response bytes (thunder.encoded_posts)
        self.index = IdIndex()
        self.authors = IdIndex()  # author id -> dense author index
        self.author_ids = np.zeros(1024, dtype=np.int64)  # dense index -> author id
        self.n_authors = 0
        self.lists = PostingLists()
        self.tombstones: dict[int, int] = {}
        self._tombstoned = IdIndex()  # the same ids, for checking a whole batch in one lookup
        self.foreign = ParentDirectory()  # sharded mode: other shards' posts, for parent lookups
        self.trim_iteration = 0
        self.generation = 0  # insert batches that added posts: a parent absent at one is absent until the next

    # -- sizes ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.table.alive

    def list_sizes(self) -> dict[str, int]:
        """Entries per list kind (a pass over every list: for metrics and tests)."""
        n = self.n_authors * len(LIST_NAMES)
        per_kind = np.bincount(np.arange(n) % len(LIST_NAMES), weights=self.lists.length[:n], minlength=len(LIST_NAMES))
        return {name: int(per_kind[KIND[name]]) for name in LIST_NAMES}

    def nbytes(self) -> int:
        """Bytes held by the numpy structures (the tombstone dict is counted at ~100 B/entry)."""
        return (self.table.nbytes + self.encoded.nbytes + self.index.nbytes + self.authors.nbytes + self.author_ids.nbytes
                + self.lists.nbytes + 100 * len(self.tombstones) + self._tombstoned.nbytes + self.foreign.nbytes)

    def _now(self) -> int:
        return int(self.clock())

    # -- writes ---------------------------------------------------------------------------------
    def insert(self, batch: PostBatch) -> InsertResult:
        """X's ``insert_posts``: drop future / expired / deleted / already-present posts, then
        append by created_at to the author's lists, popping the oldest beyond the cap."""
        with self.lock:
            return self._insert(batch)

    def _admit(self, batch: PostBatch) -> tuple[PostBatch, InsertResult]:
        """Keep the posts inside the time window, not tombstoned and not stored yet."""
        n_in = len(batch)
        now = self._now()
        created = batch.columns["created_at"]
        in_window = (created < now) & (created >= now - self.retention_s) & (batch.columns["post_id"] > 0)
        batch = batch.select(in_window)
        out_of_window = n_in - len(batch)
        tombstoned = 0
        if self.tombstones and len(batch):
            dead = self._tombstoned.get(batch.columns["post_id"]) >= 0
            tombstoned = int(dead.sum())
            batch = batch.select(~dead)
        ids = batch.columns["post_id"]
        first = first_occurrences(ids)
        fresh = np.zeros(len(batch), dtype=bool)
        fresh[first] = True
        fresh &= self.index.get(ids) < 0
        if len(self.foreign):
            fresh &= ~self.foreign.lookup(ids)[0]
        duplicates = len(batch) - int(fresh.sum())
        batch = batch.select(fresh)
        return batch, InsertResult(len(batch), duplicates, out_of_window, tombstoned)

    def insert_foreign(self, batch: PostBatch) -> InsertResult:
        """Sharded mode: remember another shard's posts for parent lookups only (not served)."""
        with self.lock:
            batch, result = self._admit(batch)
            cols = batch.columns
            flags = batch.flags.copy()
            flags[(cols["in_reply_to_post_id"] != 0) | (cols["in_reply_to_user_id"] != 0)] |= IS_REPLY
            self.foreign.add(cols["post_id"], cols["created_at"], cols["in_reply_to_post_id"], flags)
            if len(batch):
                self._next_generation()
            return result

    def _insert(self, batch: PostBatch) -> InsertResult:
        batch, result = self._admit(batch)
        if len(batch) == 0:
            return result
        batch = batch.select(np.argsort(batch.columns["created_at"], kind="stable"))
        cols = batch.columns
        flags = batch.flags.copy()
        flags[(cols["in_reply_to_post_id"] != 0) | (cols["in_reply_to_user_id"] != 0)] |= IS_REPLY
        rows = self.table.append(cols, flags)
        self.encoded.append(cols, flags)
        self.index.insert(cols["post_id"], rows)
        self._next_generation()
        replies = np.flatnonzero(cols["in_reply_to_post_id"])
        if len(replies):  # after the index insert, so parents in this same batch are found
            parent_ids = cols["in_reply_to_post_id"][replies]
            self.table.parent_row[rows[replies]] = self._hints(parent_ids, self.index.get(parent_ids))
        authors = self._author_indexes(cols["author_id"])
        self._append_to_lists(rows, authors, flags, cols["created_at"])
        return result

    def _author_indexes(self, author_ids: np.ndarray) -> np.ndarray:
        """Dense index of each author, numbering the new ones (ids > 0) in id order."""
        dense = self.authors.get(author_ids)
        missing = np.flatnonzero(dense < 0)
        if len(missing):
            unknown = author_ids[missing]
            new = sorted_unique(unknown)
            new = new[new > 0]
            start = self.n_authors
            self.authors.insert(new, np.arange(start, start + len(new)))
            if start + len(new) > len(self.author_ids):
                grown = np.zeros(max(start + len(new), len(self.author_ids) * 3 // 2), dtype=np.int64)
                grown[:start] = self.author_ids[:start]
                self.author_ids = grown
            self.author_ids[start : start + len(new)] = new
            self.n_authors += len(new)
            self.lists.ensure_lists(self.n_authors * len(LIST_NAMES))
            if len(new):  # (ids <= 0 stay unknown)
                at = np.minimum(np.searchsorted(new, unknown), len(new) - 1)
                dense[missing] = np.where(new[at] == unknown, start + at, -1)
        return dense

    def _append_to_lists(self, rows: np.ndarray, authors: np.ndarray, flags: np.ndarray, created: np.ndarray) -> None:
        is_reply = (flags & IS_REPLY) != 0
        is_retweet = (flags & IS_RETWEET) != 0
        secondary = is_reply | is_retweet
        # X: video-eligible = has video, or a repost of a stored non-reply video post; never a reply.
        # Every non-reply repost is listed here and its source is checked at query time
        # (thunder.retrieval): at insert time the answer would depend on which partition the
        # consumer happened to read first, so replicas, shards and restarts could disagree.
        video = np.flatnonzero(~is_reply & (((flags & HAS_VIDEO) != 0) | is_retweet))
        ids = np.concatenate([list_ids(authors, secondary.astype(np.int64)), list_ids(authors[video], KIND["video"])])
        self.lists.append(ids, np.concatenate([rows, rows[video]]), np.concatenate([created, created[video]]))
        over = ids[self.lists.length[ids] > self.max_list_size]
        if len(over):
            over = sorted_unique(over)
            self._pop_oldest(over, self.lists.length[over].astype(np.int64) - self.max_list_size)

    def _pop_oldest(self, lists: np.ndarray, counts: np.ndarray) -> None:
        """Pop entries; a post leaves the store with its original or secondary entry (the video
        list only indexes posts that are also in one of those)."""
        video = lists % len(LIST_NAMES) == KIND["video"]
        self.lists.pop_oldest(lists[video], counts[video])
        self._remove_rows(self.lists.pop_oldest(lists[~video], counts[~video]))

    def _remove_rows(self, rows: np.ndarray) -> None:
        live = self.table.kill(rows)
        self.index.remove(self.table["post_id"][live])

    def delete(self, post_ids: Iterable[int], deleted_at: Iterable[int]) -> int:
        """X's ``mark_as_deleted``: forget the post and remember the id until the tombstone ages out.
        Returns how many stored posts were removed."""
        with self.lock:
            now = self._now()
            ids = np.fromiter((int(p) for p in post_ids), dtype=np.int64)
            at = np.fromiter((int(t) for t in deleted_at), dtype=np.int64, count=len(ids))
            rows = self.index.get(ids)
            present = rows[rows >= 0]
            removed = len(self.table.kill(present))
            self.index.remove(ids[rows >= 0])
            if len(self.foreign):
                self.foreign.remove(ids)
            for pid, when in zip(ids.tolist(), at.tolist(), strict=True):
                if pid > 0:
                    self.tombstones[pid] = when if 0 < when <= now else now
            new = sorted_unique(ids[ids > 0])
            new = new[self._tombstoned.get(new) < 0]
            self._tombstoned.insert(new, np.zeros(len(new), dtype=np.int64))
            return removed

    # -- retention ------------------------------------------------------------------------------
    def trim(self, shard: int | None = None) -> int:
        """One auto-trim pass over the authors with ``author_id % TRIM_FRACTION == shard``
        (default: the next shard in turn): pop posts older than retention or beyond the cap,
        age tombstones out, and compact the table when dead rows pile up. Returns posts removed."""
        with self.lock:
            if shard is None:
                shard = self.trim_iteration % self.trim_fraction
                self.trim_iteration += 1
            cutoff = self._now() - self.retention_s
            dense = np.flatnonzero(self.author_ids[: self.n_authors] % self.trim_fraction == shard)
            alive_before = self.table.alive
            created = self.table["created_at"]
            lists = list_ids(dense[:, None], np.arange(len(LIST_NAMES))).ravel()
            rows, group = self.lists.all_entries(lists)
            length = self.lists.length[lists].astype(np.int64)
            expired = created[rows] < cutoff
            within = np.arange(len(rows)) - np.repeat(np.cumsum(length) - length, length)
            first_kept = length.copy()
            np.minimum.at(first_kept, group[~expired], within[~expired])
            self._pop_oldest(lists, np.maximum(first_kept, length - self.max_list_size))
            if shard == 0:
                self.foreign.expire(cutoff)
            aged = [p for p, at in self.tombstones.items() if at < cutoff]
            for pid in aged:
                del self.tombstones[pid]
            self._tombstoned.remove(np.array(aged, dtype=np.int64))
            removed = alive_before - self.table.alive
            if self.table.n - self.table.alive > max(self.table.alive // 4, 50_000):
                self.compact()
            return removed

    def trim_all(self) -> int:
        """Every shard once (X's ``finalize_init`` after the startup catch-up)."""
        return sum(self.trim(shard) for shard in range(self.trim_fraction))

    def compact(self) -> None:
        """Rebuild table, index and lists from the live rows so dead rows stop costing memory."""
        with self.lock:
            live = np.flatnonzero(self.table.is_alive(np.arange(self.table.n)))
            remap = np.full(self.table.n, -1, dtype=np.int64)
            remap[live] = np.arange(len(live))
            self.table = self.table.take(live, remap)
            self.encoded = self.encoded.take(live)
            index = IdIndex(max(1024, 2 * len(live)))
            index.insert(self.table["post_id"][: len(live)], np.arange(len(live)))
            self.index = index
            every_list = np.arange(self.n_authors * len(LIST_NAMES))
            rows, group = self.lists.all_entries(every_list)
            bounds = self.lists.all_bounds(every_list)
            new_rows = remap[rows]
            keep = new_rows >= 0
            fresh = PostingLists(max(1024, int(keep.sum()) * 2))
            fresh.ensure_lists(len(every_list))
            fresh.append(group[keep], new_rows[keep], bounds[keep])
            self.lists = fresh

    # -- reads ----------------------------------------------------------------------------------
    def dense_authors(self, author_ids: np.ndarray) -> np.ndarray:
        """Dense indexes of the known authors among ``author_ids`` (unknown ones are dropped)."""
        dense = self.authors.get(author_ids)
        return dense[dense >= 0]

    def rows_of(self, post_ids: np.ndarray) -> np.ndarray:
        """Row of each post id, -1 where not stored (never created, trimmed or deleted)."""
        return self.index.get(post_ids)

    def parents(self, post_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found, flags, in_reply_to_post_id) of each id, from this shard's posts or the
        foreign directory (X's reply rule and repost video rule look at the parent post).
        flags and in_reply_to_post_id are meaningless where not found."""
        rows = self.index.get(post_ids)
        return self._parent_rows(post_ids, rows)

    def reply_parents(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`parents` of the replies at ``rows``, read through the table's parent-row hints
        (:mod:`thunder.post_table`): only replies whose hint is unknown or dead, or says "absent"
        as of an older insert, are looked up, and their hints refreshed. in_reply_to_post_id is
        only read where the parent is a reply or a repost: the reply rule looks at it nowhere
        else, and each read is a cache miss."""
        parent = self.table.parent_row[rows]
        flags = self.table.flags[parent]  # (a negative hint reads the last row: masked by found below)
        found = (parent >= 0) & ((flags & ALIVE) != 0)
        in_reply_to = np.zeros(len(rows), dtype=np.int64)
        stale = np.flatnonzero(~found & (parent != absent_hint(self.generation)))
        if len(stale):
            post_ids = self.table["in_reply_to_post_id"][rows[stale]]
            looked_up = self.index.get(post_ids)
            found[stale], flags[stale], in_reply_to[stale] = self._parent_rows(post_ids, looked_up)
            # (a parent found in the foreign directory has no row: its hint stays unknown)
            self.table.parent_row[rows[stale]] = self._hints(post_ids, looked_up)
            parent[stale] = looked_up
        not_original = np.flatnonzero(found & (parent >= 0) & ((flags & (IS_REPLY | IS_RETWEET)) != 0))
        in_reply_to[not_original] = self.table["in_reply_to_post_id"][parent[not_original]]
        return found, flags, in_reply_to

    def _hints(self, post_ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Parent-row hints for lookup results: the row; unknown (-1) for a parent in the foreign
        directory (it has no row); else "absent as of this generation"."""
        hints = np.where(rows >= 0, rows, absent_hint(self.generation))
        if len(self.foreign):
            missing = np.flatnonzero(rows < 0)
            hints[missing[self.foreign.lookup(post_ids[missing])[0]]] = -1
        return hints

    def _next_generation(self) -> None:
        self.generation += 1
        if self.generation % HINT_GENERATIONS == 0:  # hints only tell generations apart modulo this
            self.table.forget_absent_hints()

    def _parent_rows(self, post_ids: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        found = rows >= 0
        flags = self.table.flags[rows]
        in_reply_to = self.table["in_reply_to_post_id"][rows]
        if len(self.foreign) and not found.all():
            missing = np.flatnonzero(~found)
            f_found, f_flags, f_reply = self.foreign.lookup(np.asarray(post_ids)[missing])
            found[missing] = f_found
            flags[missing] = f_flags
            in_reply_to[missing] = f_reply
        return found, flags, in_reply_to

    def contains(self, post_id: int) -> bool:
        with self.lock:
            return bool(self.index.get(np.array([post_id]))[0] >= 0)
