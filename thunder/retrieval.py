"""X's in-network retrieval rules (``thunder_service.rs``, reference §3.4), vectorised.

For every followed author, newest first: skip excluded ids, look at no more than 500 entries,
drop posts that are gone (deleted / trimmed), drop reposts of the viewer's own posts, apply the
reply rule to the secondary list, keep at most 50 originals + 30 secondary (or 100 videos);
then sort everything by recency and truncate to ``max_results``.

Doing exactly that for 1,000 followees touches ~100k list entries, yet only the ~1,500 newest
can reach the answer. So the query works backwards from the answer:

1. *Guess a time* ``since`` that the newest ``max_results`` kept posts will not reach past
   (:func:`estimate_since`, from each list's posting rate over its newest capped entries).
2. *First pass*: per list, only the newest entries whose time bound can be at least ``since``
   (read off the probe bounds in the list's meta record, see :mod:`thunder.posting_lists`), at
   most twice the cap; every rule is applied to exactly these entries, so the kept posts and
   their per-author ranks are X's.
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
from thunder.post_store import KIND, PostStore, list_ids
from thunder.post_table import ALIVE, HAS_VIDEO, INT_COLUMNS, IS_REPLY, IS_RETWEET
from thunder.posting_lists import NO_TIME, PostingLists, Segments, ranges

_BLOCKED = np.array(sorted(c.BLOCKED_AUTHOR_IDS), dtype=np.int64)
# candidates aimed for by the first pass, relative to max_results: rules drop some posts, and a
# short first pass costs a second one for many authors while a long one only costs a bigger gather
_FIRST_PASS_MARGIN = 1.3
# first-pass window per list, relative to its cap: rules drop some of a busy author's entries, and
# at 1.5x a quarter of 200-followee queries needed a second pass for one such list
_FIRST_WINDOW = 2.0
_NEWTON_STEPS, _NEWTON_CLOSE = 6, 0.98  # estimate_since: at most this many steps, stop this close


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
        following = sorted_unique(np.asarray(following_ids, dtype=np.int64)[: c.MAX_INPUT_LIST_SIZE])
        if _is_in(_BLOCKED, following).any():  # (three searches; filtering a thousand ids costs more)
            following = following[~_is_in(following, _BLOCKED)]
        exclude = np.asarray(exclude_ids, dtype=np.int64)[: c.MAX_INPUT_LIST_SIZE]
        if max_results <= 0:
            max_results = c.MAX_VIDEOS_TO_RETURN if is_video_request else c.MAX_POSTS_TO_RETURN
        return InNetworkQuery(int(user_id), following, sorted_unique(exclude), int(max_results), is_video_request)


@dataclass(frozen=True)
class ListRule:
    """Which posting lists a request reads and how many posts per author it keeps from each."""

    kinds: np.ndarray  # list kinds (thunder.post_store.KIND), in the order groups use them
    caps: np.ndarray
    first_windows: np.ndarray  # entries per list the first pass may look at

    @staticmethod
    def of(*rules: tuple[str, int]) -> ListRule:
        caps = np.array([cap for _, cap in rules])
        return ListRule(np.array([KIND[name] for name, _ in rules]), caps, (caps * _FIRST_WINDOW).astype(np.int64))


_VIDEO_RULE = ListRule.of(("video", c.MAX_VIDEO_POSTS_PER_AUTHOR))
_POST_RULE = ListRule.of(("original", c.MAX_ORIGINAL_POSTS_PER_AUTHOR), ("secondary", c.MAX_REPLY_POSTS_PER_AUTHOR))


@dataclass
class Kept:
    """One pass over some lists' newest entries (the candidates): the rows it kept, newest first
    per list, with their post ids and created_at; and, to count or drop them per list later,
    which candidates it kept (``served``, ``keep``) and where each list's candidates start.
    List ``j * len(authors) + i`` is followee ``i``'s list of the rule's ``j``-th kind."""

    rows: np.ndarray
    post_ids: np.ndarray
    created: np.ndarray
    served: np.ndarray  # per candidate
    keep: np.ndarray  # the candidate of each kept row
    start: np.ndarray  # per list: its first candidate
    window: np.ndarray  # per list: its number of candidates

    def kept_in(self, lists: np.ndarray) -> np.ndarray:
        """How many rows each of ``lists`` kept."""
        counted = np.concatenate([[0], np.cumsum(self.served)])
        return counted[self.start[lists] + self.window[lists]] - counted[self.start[lists]]

    @staticmethod
    def rows_only(rows: np.ndarray, post_ids: np.ndarray, created: np.ndarray) -> Kept:
        """A result that is not counted per list any more."""
        none = np.zeros(0, dtype=np.int64)
        return Kept(rows, post_ids, created, none, none, none, none)

    def outside(self, lists: np.ndarray) -> np.ndarray:
        """Indexes of the kept rows that are not from ``lists``."""
        out = np.zeros(len(self.window), dtype=bool)
        out[lists] = True
        return np.flatnonzero(~out[np.repeat(np.arange(len(self.window)), self.window)[self.keep]])


def rank_in_group(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Position of each element within its run of equal ``group`` values (groups are contiguous
    and ascending)."""
    counts = np.bincount(group, minlength=n_groups)
    return np.arange(len(group)) - (np.cumsum(counts) - counts)[group]


def estimate_since(now: int, depth: np.ndarray, bound: np.ndarray, target: float) -> int:
    """A time after which about ``target`` posts are expected, NO_TIME when that is everything.

    Each list is modelled as posting its newest ``depth`` entries evenly since ``bound``: it
    contributes ``depth * min(s / span, 1)`` posts in the last ``s`` seconds. The sum f(s) is
    concave and piecewise linear, so Newton's method started at ``target / total rate`` (where
    f <= target) climbs monotonically to the root; two or three steps get within 2 %, a fifth
    of the cost of sorting the lists by span to solve it exactly."""
    if depth.sum() <= target:
        return NO_TIME
    span = np.maximum(now - bound, 1).astype(np.float64)
    rate = depth / span
    s = target / rate.sum()
    for _ in range(_NEWTON_STEPS):
        longer = span > s
        slope = rate @ longer  # df/ds: the lists whose span is longer than s
        posts = s * slope + depth @ ~longer
        if posts >= _NEWTON_CLOSE * target or slope <= 0:
            break
        s += (target - posts) / slope
    return int(now - np.ceil(s))


class InNetworkRetriever:
    """Runs queries against one store."""

    def __init__(self, store: PostStore) -> None:
        self.store = store

    def query(self, q: InNetworkQuery, columns: bool = False) -> LightPosts:
        """The answer as its pre-encoded response bytes, or with ``columns`` as the store's
        columns of the answered rows, flags without the store's ALIVE bit (for a packed response:
        nine gathers instead of a join)."""
        store = self.store
        with store.lock:
            kept, floor = self._candidates(q, store.dense_authors(q.following_ids))
            newest = _newest(kept.created, kept.post_ids, q.max_results, floor)
            rows = kept.rows[newest]
            if columns:
                table = store.table
                return LightPosts({name: table[name][rows] for name in INT_COLUMNS}, table.flags[rows] & ~ALIVE)
            return LightPosts.encoded(store.encoded.gather(rows), kept.post_ids[newest])

    def _candidates(self, q: InNetworkQuery, authors: np.ndarray) -> tuple[Kept, int | None]:
        """Every kept row that can be among the newest ``max_results`` (a superset of them),
        and the created_at of the ``max_results``-th newest of them when already known."""
        lists = self.store.lists
        rule = _VIDEO_RULE if q.is_video_request else _POST_RULE
        ids = list_ids(authors, rule.kinds[:, None]).ravel()  # kind-major: group j * n + i
        cap = np.repeat(rule.caps, len(authors))
        seg = lists.segments(ids)
        most = np.repeat(rule.first_windows, len(authors))
        since = estimate_since(self.store._now(), *lists.probed_depth(seg, cap), _FIRST_PASS_MARGIN * q.max_results)
        if since == NO_TIME:
            window, proven = np.minimum(seg.length, most), seg.length <= most
        else:
            window, proven = lists.window_since(seg, since, most)
        first = self._first_pass(q, seg, window, cap)
        floor = NO_TIME if len(first.created) < q.max_results else _nth_newest(first.created, q.max_results)
        # lists that kept fewer than their cap and may hold older entries at least ``floor`` new
        # (not those whose older entries the probes proved older than ``since <= floor``)
        maybe = window < seg.length
        if floor >= since:
            maybe &= ~proven
        short = np.flatnonzero(maybe)
        if len(short):
            short = short[first.kept_in(short) < cap[short]]
        if len(short):
            short = short[lists.bound_beyond(seg.subset(short), window[short]) >= floor]
        if len(short) == 0:
            return first, floor
        sub = seg.subset(short)
        span = sub.length if floor == NO_TIME else lists.count_since_in(sub, floor)
        # X's scan limit counts the entries it looked at, and excluded ones are skipped unlooked
        scan = c.MAX_TINY_POSTS_PER_USER_SCAN + len(q.exclude_ids)
        again = self._rescan(q, sub, np.minimum(span, scan), cap[short])
        stay = first.outside(short)
        return Kept.rows_only(np.concatenate([first.rows[stay], again.rows]),
                              np.concatenate([first.post_ids[stay], again.post_ids]),
                              np.concatenate([first.created[stay], again.created])), None

    def _candidates_of(self, seg: Segments, window: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each list's newest ``window`` entries: (rows, start of each list, flags, post ids, alive)."""
        table = self.store.table
        rows, start = self.store.lists.newest_in(seg, window)
        flags = table.flags[rows]
        return rows, start, flags, table["post_id"][rows], (flags & ALIVE) != 0

    def _first_pass(self, q: InNetworkQuery, seg: Segments, window: np.ndarray, cap: np.ndarray) -> Kept:
        """X's per-author loop over each list's newest ``window`` entries, all lists at once
        (the rules need no list kind: only secondary entries are replies, only secondary and
        video entries are reposts). Windows are far below the 500-entry scan limit."""
        rows, start, flags, post_ids, served = self._candidates_of(seg, window)
        if len(q.exclude_ids):
            served &= ~_is_in(post_ids, q.exclude_ids)
        special = np.flatnonzero(served & ((flags & (IS_RETWEET | IS_REPLY)) != 0))
        if len(special):
            served[special] = self._post_rules(q, rows[special], flags[special])
        _keep_newest(served, start, window, cap)
        keep = np.flatnonzero(served)
        rows = rows[keep]
        return Kept(rows, post_ids[keep], self.store.table["created_at"][rows], served, keep, start, window)

    def _rescan(self, q: InNetworkQuery, seg: Segments, window: np.ndarray, cap: np.ndarray) -> Kept:
        """The same loop over a few lists down to the floor, where X's 500-entry scan limit
        matters: it counts the entries looked at, and excluded ones are skipped unlooked."""
        rows, _, flags, post_ids, served = self._candidates_of(seg, window)
        n_lists = len(window)
        group = np.repeat(np.arange(n_lists), window)
        if len(q.exclude_ids):
            looked = np.flatnonzero(~_is_in(post_ids, q.exclude_ids))
            rows, group, flags, post_ids, served = rows[looked], group[looked], flags[looked], post_ids[looked], served[looked]
        served &= rank_in_group(group, n_lists) < c.MAX_TINY_POSTS_PER_USER_SCAN
        special = np.flatnonzero(served & ((flags & (IS_RETWEET | IS_REPLY)) != 0))
        if len(special):
            served[special] = self._post_rules(q, rows[special], flags[special])
        keep = np.flatnonzero(served)
        group_kept = group[keep]
        counts = np.bincount(group_kept, minlength=n_lists)
        keep = keep[np.arange(len(keep)) - (np.cumsum(counts) - counts)[group_kept] < cap[group_kept]]
        rows = rows[keep]
        return Kept.rows_only(rows, post_ids[keep], self.store.table["created_at"][rows])

    def _post_rules(self, q: InNetworkQuery, rows: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """The rules for reposts and replies (a few hundred of a query's candidates): drop
        reposts of the viewer's own posts, X's reply rule, and for video requests the repost
        source rule. Each column is read for the posts that need it only (each read is a cache miss)."""
        ok = np.ones(len(rows), dtype=bool)
        reposts = np.flatnonzero(flags & IS_RETWEET)
        if len(reposts):
            ok[reposts] = self.store.table["source_user_id"][rows[reposts]] != q.user_id
        replies = np.flatnonzero(flags & IS_REPLY)
        if len(replies):
            ok[replies] &= self._reply_rule(q, rows[replies])
        if q.is_video_request:
            sourced = np.flatnonzero((flags & (IS_RETWEET | HAS_VIDEO)) == IS_RETWEET)
            if len(sourced):
                ok[sourced] &= self._source_has_video(rows[sourced])
        return ok

    def _source_has_video(self, rows: np.ndarray) -> np.ndarray:
        """A repost without its own video is video-eligible when its source is stored, is not a
        reply and has video."""
        found, src_flags, _ = self.store.parents(self.store.table["source_post_id"][rows])
        return found & ((src_flags & HAS_VIDEO) != 0) & ((src_flags & IS_REPLY) == 0)

    def _reply_rule(self, q: InNetworkQuery, rows: np.ndarray) -> np.ndarray:
        """Keep a reply to a stored original; keep a reply to a direct reply of the conversation
        root only when the replied-to user is followed; drop the rest."""
        table = self.store.table
        found, parent_flags, parent_reply_to = self.store.reply_parents(rows)
        ok = found & ((parent_flags & (IS_REPLY | IS_RETWEET)) == 0)
        maybe = np.flatnonzero(found & ~ok & (parent_reply_to != 0))
        if len(maybe):
            r = rows[maybe]
            to_root_reply = (parent_reply_to[maybe] == table["conversation_id"][r]) & _is_in(
                table["in_reply_to_user_id"][r], q.following_ids)
            ok[maybe] = to_root_reply
        return ok


def _keep_newest(served: np.ndarray, start: np.ndarray, window: np.ndarray, cap: np.ndarray) -> None:
    """Unserve every candidate beyond its list's ``cap``-th served one. Only a list with more
    candidates than its cap can have any (a few busy authors), so only those are ranked."""
    over = np.flatnonzero(window > cap)
    if len(over) == 0:
        return
    group, within = ranges(start[over], window[over])
    at = start[over][group] + within
    s = served[at]
    before = np.cumsum(s) - s  # served candidates ahead of each, over all these lists
    first = np.cumsum(window[over]) - window[over]
    rank = before - before[first][group]
    served[at[s & (rank >= cap[over][group])]] = False


def _nth_newest(created: np.ndarray, n: int) -> int:
    """The ``n``-th largest value (1 <= n <= len)."""
    return int(np.partition(created, len(created) - n)[len(created) - n])


def _newest(created: np.ndarray, post_ids: np.ndarray, max_results: int, nth: int | None = None) -> np.ndarray:
    """Indexes of the ``max_results`` newest posts by (created_at, post_id), newest first
    (``nth``: the ``max_results``-th largest created_at, when known)."""
    if len(created) <= max_results:
        return np.lexsort((post_ids, created))[::-1]
    at_least = np.flatnonzero(created >= (_nth_newest(created, max_results) if nth is None else nth))
    return at_least[np.lexsort((post_ids[at_least], created[at_least]))[::-1][:max_results]]


def _is_in(values: np.ndarray, sorted_unique_ids: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted, distinct right-hand side, in four numpy calls."""
    if len(sorted_unique_ids) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_unique_ids, values), len(sorted_unique_ids) - 1)
    return sorted_unique_ids[at] == values


__all__ = ["InNetworkQuery", "InNetworkRetriever", "PostingLists", "estimate_since", "rank_in_group"]
