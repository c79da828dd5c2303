"""X's in-network retrieval rules (``thunder_service.rs``, reference §3.4), vectorised.

For every followed author, newest first: skip excluded ids, look at no more than 500 entries,
drop posts that are gone (deleted / trimmed), drop reposts of the viewer's own posts, apply the
reply rule to the secondary list, keep at most 50 originals + 30 secondary (or 100 videos);
then sort everything by recency and truncate to ``max_results``.

Doing exactly that for 1,000 followees touches ~100k list entries, yet only the ~1,500 newest
can reach the answer. So the query works backwards from the answer:

1. *Guess a time* ``since`` that the newest ``max_results`` kept posts will not reach past
   (:func:`estimate_since`, from each author's posting rate over its newest capped entries).
2. *First pass*: per author, only the entries whose time bound is at least ``since`` (one
   ``searchsorted`` on the lists' time keys, see :mod:`thunder.posting_lists`), at most 1.5x the
   cap; every rule is applied to exactly these entries, so the kept posts and their per-author
   ranks are X's.
3. *Completion*: with ``floor`` = created_at of the ``max_results``-th newest candidate, an
   author can still contribute only if it kept fewer than its cap and its next older entry can
   be at least ``floor`` new. Those few authors are rescanned from their newest entry down to
   ``floor`` (or the 500-entry scan limit). Adding candidates only raises the floor, so the
   result is then exact: the same posts as X's per-author loop, whatever the guess was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thunder import constants as c
from thunder.array_ops import sorted_unique
from thunder.light_posts import LightPosts
from thunder.post_store import PostStore
from thunder.post_table import ALIVE, EXCLUDED, HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET
from thunder.posting_lists import NO_TIME, PostingLists, Segments

_BLOCKED = np.array(sorted(c.BLOCKED_AUTHOR_IDS), dtype=np.int64)
# candidates aimed for by the first pass, relative to max_results: rules drop some posts, and a
# short first pass costs a second one for many authors while a long one only costs a bigger gather
_FIRST_PASS_MARGIN = 1.3
_FIRST_WINDOW = 1.5  # first-pass window per author, relative to the author's cap


@dataclass(frozen=True)
class InNetworkQuery:
    """A validated request (ids already truncated to X's input limits by :meth:`build`)."""

    user_id: int
    following_ids: np.ndarray  # sorted, unique
    exclude_ids: np.ndarray
    max_results: int
    is_video_request: bool = False

    @staticmethod
    def build(user_id: int, following_ids: Sequence[int] | np.ndarray, exclude_ids: Sequence[int] | np.ndarray = (),
              max_results: int = 0, is_video_request: bool = False) -> InNetworkQuery:
        following = np.asarray(following_ids, dtype=np.int64)[: c.MAX_INPUT_LIST_SIZE]
        following = following[~np.isin(following, _BLOCKED)]
        exclude = np.asarray(exclude_ids, dtype=np.int64)[: c.MAX_INPUT_LIST_SIZE]
        if max_results <= 0:
            max_results = c.MAX_VIDEOS_TO_RETURN if is_video_request else c.MAX_POSTS_TO_RETURN
        return InNetworkQuery(int(user_id), sorted_unique(following), sorted_unique(exclude), int(max_results),
                              is_video_request)



@dataclass(frozen=True)
class ListRule:
    """Which posting list a request reads and how many posts per author it keeps."""

    name: str
    cap: int


_VIDEO_RULES = (ListRule("video", c.MAX_VIDEO_POSTS_PER_AUTHOR),)
_POST_RULES = (ListRule("original", c.MAX_ORIGINAL_POSTS_PER_AUTHOR), ListRule("secondary", c.MAX_REPLY_POSTS_PER_AUTHOR))


@dataclass
class Kept:
    """One pass: kept rows (newest first per group), their group, and per group how many
    entries were looked at and how many kept. Group ``i * n + j`` is list ``i``, author ``j``."""

    rows: np.ndarray
    group: np.ndarray
    window: np.ndarray
    kept: np.ndarray


def rank_in_group(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of each element within its run of equal ``group`` values (groups are contiguous
    and ascending)."""
    counts = np.bincount(group, minlength=n_groups)
    return np.arange(len(group)) - (np.cumsum(counts) - counts)[group]


def estimate_since(now: int, depth: np.ndarray, bound: np.ndarray, target: float) -> int:
    """A time after which about ``target`` posts are expected, NO_TIME when that is everything.

    Each (author, list) is modelled as posting its newest ``depth`` entries (at most its cap)
    evenly since ``bound``: it contributes ``depth * min(s / span, 1)`` posts in the last ``s``
    seconds. The sum is piecewise linear in ``s``; solve it at the span breakpoints."""
    if depth.sum() <= target:
        return NO_TIME
    span = np.maximum(now - bound, 1).astype(np.float64)
    order = np.argsort(span)
    depth, span = depth[order].astype(np.float64), span[order]
    rate = depth / span
    below = np.cumsum(depth)  # posts of the authors whose whole span fits in s
    still = rate.sum() - np.cumsum(rate)  # rate of the others
    j = int(np.searchsorted(below + span * still, target))
    s = target / rate.sum() if j == 0 else (target - below[j - 1]) / still[j - 1]
    return int(now - np.ceil(s))


class InNetworkRetriever:
    """Runs queries against one store."""

    def __init__(self, store: PostStore) -> None:
        self.store = store

    def query(self, q: InNetworkQuery) -> LightPosts:
        store = self.store
        with store.lock:
            table = store.table
            flags = table.flags
            excluded_rows = store.rows_of(q.exclude_ids)
            excluded_rows = excluded_rows[excluded_rows >= 0]
            # marked in the row flags for the duration of the query (under the store lock): the
            # pass then reads "served and not excluded" from one gather
            flags[excluded_rows] |= EXCLUDED
            try:
                authors = store.dense_authors(q.following_ids)
                rows = self._candidates(q, authors, len(excluded_rows))
            finally:
                flags[excluded_rows] &= ~EXCLUDED
            rows = self._newest(rows, q.max_results)
            return LightPosts({name: table[name][rows] for name in INT_COLUMNS}, flags[rows],
                              store.encoded.gather(rows))

    def _newest(self, rows: np.ndarray, max_results: int) -> np.ndarray:
        """The ``max_results`` newest rows by (created_at, post_id), newest first."""
        table = self.store.table
        created = table["created_at"][rows]
        if len(rows) > max_results:
            threshold = np.partition(created, len(rows) - max_results)[len(rows) - max_results]
            newest = created >= threshold
            rows, created = rows[newest], created[newest]
        return rows[np.lexsort((table["post_id"][rows], created))[::-1][:max_results]]

    def _candidates(self, q: InNetworkQuery, authors: np.ndarray, n_excluded: int) -> np.ndarray:
        """Every kept row that can be among the newest ``max_results`` (a superset of them)."""
        rules = _VIDEO_RULES if q.is_video_request else _POST_RULES
        lists = [self.store.lists[rule.name] for rule in rules]
        segs = [lst.segments(authors) for lst in lists]
        firsts = [int(rule.cap * _FIRST_WINDOW) for rule in rules]
        depth = [np.minimum(seg.length, rule.cap) for seg, rule in zip(segs, rules, strict=True)]
        bound = [lst.bound_at(seg, d) for lst, seg, d in zip(lists, segs, depth, strict=True)]
        since = estimate_since(self.store._now(), np.concatenate(depth), np.concatenate(bound),
                               _FIRST_PASS_MARGIN * q.max_results)
        if since == NO_TIME:
            windows = [np.minimum(seg.length, most) for seg, most in zip(segs, firsts, strict=True)]
        else:
            windows = [lst.window_from_probe(seg, lst.probe_keys(seg, most), since, most)
                       for lst, seg, most in zip(lists, segs, firsts, strict=True)]
        first = self._pass(q, rules, lists, segs, windows, scan_limited=False)
        floor = self._floor(first.rows, q.max_results)
        n = len(authors)
        redo = np.zeros(len(rules) * n, dtype=bool)
        todo_segs, todo_windows, todo_rules, todo_lists = [], [], [], []
        for i, (lst, rule, seg) in enumerate(zip(lists, rules, segs, strict=True)):
            window = windows[i]
            beyond = lst.bound_beyond(seg, window)
            short = np.flatnonzero((first.kept[i * n:(i + 1) * n] < rule.cap) & (beyond != NO_TIME) & (beyond >= floor))
            if len(short) == 0:
                continue
            redo[i * n + short] = True
            sub = lst.segments(authors[short])
            span = sub.length if floor == NO_TIME else lst.count_since_in(sub, floor)
            todo_segs.append(sub)
            todo_windows.append(np.minimum(span, c.MAX_TINY_POSTS_PER_USER_SCAN + n_excluded))
            todo_rules.append(rule)
            todo_lists.append(lst)
        if not todo_segs:
            return first.rows
        again = self._pass(q, todo_rules, todo_lists, todo_segs, todo_windows, scan_limited=True)
        return np.concatenate([first.rows[~redo[first.group]], again.rows])

    def _floor(self, rows: np.ndarray, max_results: int) -> int:
        """created_at of the ``max_results``-th newest candidate, NO_TIME when there are fewer."""
        if len(rows) < max_results:
            return NO_TIME
        created = self.store.table["created_at"][rows]
        return int(np.partition(created, len(created) - max_results)[len(created) - max_results])

    def _pass(self, q: InNetworkQuery, rules: Sequence[ListRule], lists: Sequence[PostingLists],
              segs: Sequence[Segments], windows: Sequence[np.ndarray], scan_limited: bool) -> Kept:
        """X's per-author loop over each author's newest ``window`` entries of each list, all
        lists at once (the rules need no list name: only secondary entries are replies, only
        secondary and video entries are reposts)."""
        table = self.store.table
        window = np.concatenate(windows)
        rows = np.concatenate([lst.newest_in(seg, w) for lst, seg, w in zip(lists, segs, windows, strict=True)])
        n_groups = len(window)
        group = np.repeat(np.arange(n_groups), window)
        caps = np.repeat([rule.cap for rule in rules], [len(w) for w in windows])
        flags = table.flags[rows]
        if scan_limited:
            looked = (flags & EXCLUDED) == 0
            rows, group, flags = rows[looked], group[looked], flags[looked]
            keep = rank_in_group(group, n_groups) < c.MAX_TINY_POSTS_PER_USER_SCAN
            keep &= (flags & ALIVE) != 0
        else:  # windows are far below the scan limit
            keep = (flags & (ALIVE | EXCLUDED)) == ALIVE
        reposts = (flags & IS_RETWEET) != 0
        if reposts.any():
            keep &= ~(reposts & (table["source_user_id"][rows] == q.user_id))
        keep &= self._reply_rule(q, rows, flags)
        if q.is_video_request:
            keep &= self._repost_has_video(rows, flags)
        rows, group = rows[keep], group[keep]
        top = rank_in_group(group, n_groups) < caps[group]
        rows, group = rows[top], group[top]
        return Kept(rows, group, window, np.bincount(group, minlength=n_groups))

    def _repost_has_video(self, rows: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """A repost is video-eligible when its source is stored, is not a reply and has video."""
        ok = np.ones(len(rows), dtype=bool)
        reposts = np.flatnonzero(((flags & IS_RETWEET) != 0) & ((flags & HAS_VIDEO) == 0))
        if len(reposts):
            found, src_flags, _ = self.store.parents(self.store.table["source_post_id"][rows[reposts]])
            ok[reposts] = found & ((src_flags & HAS_VIDEO) != 0) & ((src_flags & IS_REPLY) == 0)
        return ok

    def _reply_rule(self, q: InNetworkQuery, rows: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """Keep non-replies; keep a reply to a stored original; keep a reply to a direct reply of
        the conversation root only when the replied-to user is followed; drop the rest."""
        table = self.store.table
        ok = np.ones(len(rows), dtype=bool)
        replies = np.flatnonzero((flags & IS_REPLY) != 0)
        if len(replies) == 0:
            return ok
        r = rows[replies]
        found, parent_flags, parent_reply_to = self.store.parents(table["in_reply_to_post_id"][r])
        parent_original = found & ((parent_flags & (IS_REPLY | IS_RETWEET)) == 0)
        reply_to_root_reply = (
            found
            & (parent_reply_to != 0)
            & (parent_reply_to == table["conversation_id"][r])
            & _is_followed(table["in_reply_to_user_id"][r], q.following_ids)
        )
        ok[replies] = parent_original | reply_to_root_reply
        return ok


def _is_followed(user_ids: np.ndarray, following_sorted: np.ndarray) -> np.ndarray:
    if len(following_sorted) == 0:
        return np.zeros(len(user_ids), dtype=bool)
    at = np.minimum(np.searchsorted(following_sorted, user_ids), len(following_sorted) - 1)
    return following_sorted[at] == user_ids


__all__ = ["InNetworkQuery", "InNetworkRetriever", "PostingLists", "estimate_since", "rank_in_group"]
