"""Training examples from the event log (protobuf events as any Python iterables).

For each user, every post they were shown (an ``CLIENT_TWEET_IMPRESSION``) or acted on becomes a
candidate at the time it was first seen; consecutive candidates (by that time) are grouped into
examples of up to ``max_candidates``. An example's history is what the user engaged with (any
non-impression action) strictly BEFORE the group's first candidate was seen - the newest
``history_len`` of them, newest last - so nothing from the future leaks into the input.
Labels are the multi-hot of the ranker heads the user took on each candidate; a shown post
without any positive action is a negative. Candidates first seen at or after ``split_time_ms``
form the validation set (a time-based split: the model is judged on a later period).

Each candidate also carries the post's engagement counts (fav, reply, repost, quote, views =
impressions) from events strictly before it was seen - what home-mixer would have hydrated.

Optional social-graph events give the in-network flag: whether the user followed the post's
author when the post was first seen (FOLLOW/UNFOLLOW replayed in time order).

Training matches serving in two more ways:

* Semantic ids: level 0 = ``PostCreated.topic_id`` (what home-mixer sends as
  ``TweetInfo.semantic_ids``), on history items and candidates.
* Reposts: home-mixer scores a repost as its ORIGINAL (id, author, counts, topic; follow flag of
  the original author; ``is_retweet`` set), and user-state describes a reposted history item by
  its original too, so examples do the same. The post as shown (repost id, reposter) is kept in
  ``Example.shown`` for the synthetic world's oracle, which knows impressions by what was shown.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from phoenix.actions import DWELL_CLIP_S, HEAD_INDEX_BY_ACTION, NUM_DISCRETE
from phoenix.ranker.features import CandidateItem, HistoryItem, UserContext
from protos import events_pb2
from protos import recsys_pb2 as pb

IMPRESSION = pb.CLIENT_TWEET_IMPRESSION


@dataclass
class Example:
    """One user scoring a group of shown posts, with what they then did."""

    user: UserContext
    candidates: list[CandidateItem]
    labels: np.ndarray  # [C, NUM_DISCRETE] float32 multi-hot
    dwell_s: np.ndarray  # [C] float32 seconds, clipped to DWELL_CLIP_S
    time_ms: int  # when the first candidate was seen (the "now" for post ages)
    seen_ms: np.ndarray | None = None  # [C] when each candidate was first seen
    positions: np.ndarray | None = None  # [C] feed position of the impression (-1 unknown)
    # The candidates as impressed (a repost by its own id and the reposter), for oracles; None
    # when identical to ``candidates``.
    shown: list[CandidateItem] | None = None


@dataclass
class _Seen:
    """Everything one user did to one post."""

    post_id: int
    author_id: int
    surface: int = 0
    first_seen_ms: int = 2**62
    engaged_ms: int = 2**62  # first non-impression action
    actions: set[int] = field(default_factory=set)
    dwell_ms: int = 0
    position: int = -1


class FollowTimeline:
    """Whether ``user`` followed ``author`` at a given time, from FOLLOW/UNFOLLOW events."""

    def __init__(self, social: Iterable[events_pb2.SocialGraphEvent] = ()) -> None:
        changes: dict[tuple[int, int], list[tuple[int, bool]]] = defaultdict(list)
        for ev in social:
            if ev.action in (events_pb2.FOLLOW, events_pb2.UNFOLLOW):
                changes[(ev.user_id, ev.target_user_id)].append(
                    (ev.timestamp_ms, ev.action == events_pb2.FOLLOW)
                )
        self._times = {k: [t for t, _ in sorted(v)] for k, v in changes.items()}
        self._states = {k: [f for _, f in sorted(v)] for k, v in changes.items()}

    def follows(self, user: int, author: int, at_ms: int) -> bool:
        times = self._times.get((user, author))
        if not times:
            return False
        i = bisect.bisect_right(times, at_ms) - 1
        return i >= 0 and self._states[(user, author)][i]


@dataclass(frozen=True)
class _PostInfo:
    """What the post stream says about a post (the ranker's TweetInfo-equivalent fields)."""

    author_id: int
    created_ms: int
    is_reply: bool = False
    is_retweet: bool = False
    is_quote: bool = False
    has_video: bool = False
    topic_id: int = 0
    source_post_id: int = 0  # a repost's original
    source_author_id: int = 0

    @property
    def semantic_ids(self) -> tuple[int, ...]:
        return (self.topic_id,) if self.topic_id > 0 else ()


def _post_index(posts: Iterable[events_pb2.PostCreated | events_pb2.PostEvent]) -> dict[int, _PostInfo]:
    index: dict[int, _PostInfo] = {}
    for item in posts:
        if isinstance(item, events_pb2.PostEvent):
            if not item.HasField("created"):
                continue
            item = item.created
        index[item.post_id] = _PostInfo(
            item.author_id,
            item.created_at * 1000,
            is_reply=item.is_reply or item.in_reply_to_post_id > 0,
            is_retweet=item.is_retweet or item.source_post_id > 0,
            is_quote=item.quoted_post_id > 0,
            has_video=item.has_video or item.video_duration_ms > 0,
            topic_id=max(int(item.topic_id), 0),
            source_post_id=item.source_post_id if item.source_post_id > 0 else 0,
            source_author_id=max(item.source_user_id, 0),
        )
    return index


@dataclass(frozen=True)
class _Scored:
    """The post the ranker scores for a shown post: the original of a repost, else itself."""

    post_id: int
    author_id: int
    info: _PostInfo
    is_repost: bool


def _scored(post_id: int, author_id: int, post_index: dict[int, _PostInfo]) -> _Scored:
    """A repost becomes its original's id and author (home-mixer's TweetInfo; the counts follow the
    id, as its engagement-count hydrator uses the original's). Everything else stays the repost's
    own core data - its creation time, kind flags and topic - as home-mixer hydrates core data for
    the post it retrieved, and user-state describes history items from that post's PostCreated."""
    info = post_index.get(post_id) or _PostInfo(author_id, 0)
    if not info.source_post_id:
        return _Scored(post_id, info.author_id or author_id, info, False)
    src = post_index.get(info.source_post_id)
    src_author = info.source_author_id or (src.author_id if src else 0)
    return _Scored(info.source_post_id, src_author, info, True)


_COUNTED = (
    pb.SERVER_TWEET_FAV,
    pb.SERVER_TWEET_REPLY,
    pb.SERVER_TWEET_RETWEET,
    pb.SERVER_TWEET_QUOTE,
    IMPRESSION,
)


class PostCounts:
    """Per-post engagement counts as of any time (sorted event times per counted action)."""

    def __init__(self) -> None:
        self._times: dict[int, list[list[int]]] = {}

    def add(self, post_id: int, action: int, t: int) -> None:
        if action in _COUNTED:
            self._times.setdefault(post_id, [[] for _ in _COUNTED])[_COUNTED.index(action)].append(t)

    def freeze(self) -> None:
        for lists in self._times.values():
            for times in lists:
                times.sort()

    def at(self, post_id: int, t: int) -> tuple[int, int, int, int, int]:
        lists = self._times.get(post_id)
        if lists is None:
            return (0, 0, 0, 0, 0)
        return tuple(bisect.bisect_left(times, t) for times in lists)  # type: ignore[return-value]


def _aggregate(
    engagements: Iterable[events_pb2.EngagementEvent], counts: PostCounts
) -> dict[int, dict[int, _Seen]]:
    per_user: dict[int, dict[int, _Seen]] = defaultdict(dict)
    seen_events: set[str] = set()
    for ev in engagements:
        if ev.event_id:
            if ev.event_id in seen_events:
                continue  # a replayed duplicate changes nothing
            seen_events.add(ev.event_id)
        if ev.user_id <= 0 or ev.post_id <= 0:
            continue
        counts.add(ev.post_id, int(ev.action), ev.timestamp_ms)
        s = per_user[ev.user_id].get(ev.post_id)
        if s is None:
            s = per_user[ev.user_id][ev.post_id] = _Seen(ev.post_id, ev.author_id)
        if ev.timestamp_ms < s.first_seen_ms:
            s.first_seen_ms = ev.timestamp_ms
            s.position = ev.position if ev.action == IMPRESSION else s.position
        s.surface = s.surface or int(ev.product_surface)
        s.author_id = s.author_id or ev.author_id
        s.dwell_ms = max(s.dwell_ms, ev.dwell_time_ms)
        if ev.action != IMPRESSION:
            s.actions.add(int(ev.action))
            s.engaged_ms = min(s.engaged_ms, ev.timestamp_ms)
    return per_user


def build_examples(
    posts: Iterable[events_pb2.PostCreated | events_pb2.PostEvent],
    engagements: Iterable[events_pb2.EngagementEvent],
    *,
    history_len: int,
    max_candidates: int,
    split_time_ms: int | None = None,
    social: Iterable[events_pb2.SocialGraphEvent] = (),
) -> tuple[list[Example], list[Example]]:
    """(train, validation) examples; validation = candidates first seen at/after ``split_time_ms``."""
    follow = FollowTimeline(social)
    if history_len < 1 or max_candidates < 1:
        raise ValueError("history_len and max_candidates must be >= 1")
    post_index = _post_index(posts)
    train: list[Example] = []
    valid: list[Example] = []
    counts = PostCounts()
    per_user = _aggregate(engagements, counts)
    counts.freeze()
    for user_id, seen in sorted(per_user.items()):
        engaged = sorted((s for s in seen.values() if s.actions), key=lambda s: (s.engaged_ms, s.post_id))
        engaged_times = np.array([s.engaged_ms for s in engaged], dtype=np.int64)
        shown = sorted(seen.values(), key=lambda s: (s.first_seen_ms, s.post_id))
        for is_valid in (False, True):
            part = [
                s for s in shown if split_time_ms is None or (s.first_seen_ms >= split_time_ms) == is_valid
            ]
            for start in range(0, len(part), max_candidates):
                group = part[start : start + max_candidates]
                t0 = group[0].first_seen_ms
                n_before = int(np.searchsorted(engaged_times, t0, side="left"))
                history = [_history_item(s, post_index) for s in engaged[max(0, n_before - history_len) : n_before]]
                (valid if is_valid else train).append(
                    _example(user_id, history, group, post_index, t0, follow, counts)
                )
    return train, valid


def _history_item(s: _Seen, post_index: dict[int, _PostInfo]) -> HistoryItem:
    scored = _scored(s.post_id, s.author_id, post_index)
    return HistoryItem(
        scored.post_id, scored.author_id, tuple(sorted(s.actions)), s.dwell_ms, s.surface, scored.info.semantic_ids
    )


def _example(
    user_id: int,
    history: list[HistoryItem],
    group: list[_Seen],
    post_index: dict[int, _PostInfo],
    t0: int,
    follow: FollowTimeline,
    counts: PostCounts,
) -> Example:
    labels = np.zeros((len(group), NUM_DISCRETE), np.float32)
    dwell = np.zeros(len(group), np.float32)
    candidates: list[CandidateItem] = []
    shown: list[CandidateItem] = []
    for j, s in enumerate(group):
        sc = _scored(s.post_id, s.author_id, post_index)
        info = sc.info
        in_network = follow.follows(user_id, sc.author_id, s.first_seen_ms)
        so_far = counts.at(sc.post_id, s.first_seen_ms)
        cand = CandidateItem(
            sc.post_id, sc.author_id, info.created_ms, in_network, s.surface, so_far,
            info.is_reply, info.is_retweet or sc.is_repost, info.is_quote, info.has_video, info.semantic_ids,
        )  # fmt: skip
        candidates.append(cand)
        if sc.is_repost:
            own = post_index.get(s.post_id) or _PostInfo(s.author_id, 0)
            reposter = own.author_id or s.author_id
            cand = replace(
                cand, post_id=s.post_id, author_id=reposter, created_at_ms=own.created_ms,
                in_network=follow.follows(user_id, reposter, s.first_seen_ms),
            )  # fmt: skip
        shown.append(cand)
        for a in s.actions:
            head = HEAD_INDEX_BY_ACTION.get(a)
            if head is not None:
                labels[j, head] = 1.0
        dwell[j] = min(s.dwell_ms / 1000.0, DWELL_CLIP_S)
    seen = np.array([s.first_seen_ms for s in group], np.int64)
    positions = np.array([s.position for s in group], np.int32)
    same = all(a is b for a, b in zip(candidates, shown, strict=True))
    return Example(
        UserContext(user_id, history), candidates, labels, dwell, t0, seen, positions, None if same else shown
    )
