"""The replayed world as of "now": every in-process store, fed events in time order.

``ReplayState.apply`` routes each event to the stores serving would have updated from Kafka
(Thunder's post store, the user state, the retrieval index) plus two things replay needs:
logged impressions go into every configuration's impression Bloom filter (the client reports
what the user saw), and a recent-post pool with positive-engagement counts backs the popularity
and random baselines. Nothing is applied from the future: the driver applies only events
strictly older than the request being evaluated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from google.protobuf.message import Message

from events.world.actions import action_name
from home_mixer.params import MAX_POST_AGE_S
from home_mixer.replay.inprocess import InMemoryFeedState, InProcessRetrieval, InProcessThunder, ReplayClock
from home_mixer.replay.sessions import is_positive
from protos import events_pb2
from user_state.memory import InMemoryUserState

HOUSEKEEPING_MS = 3_600_000  # trim Thunder / expire the index once per replayed hour


@dataclass
class PostPool:
    """Recent non-repost posts with their positive-engagement counts (baseline candidates)."""

    post_ids: list[int] = field(default_factory=list)
    authors: list[int] = field(default_factory=list)
    created_ms: list[int] = field(default_factory=list)
    positives: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    deleted: set[int] = field(default_factory=set)

    def add(self, post: events_pb2.PostCreated) -> None:
        if post.is_retweet:
            return
        self.post_ids.append(int(post.post_id))
        self.authors.append(int(post.author_id))
        self.created_ms.append(int(post.created_at) * 1000)

    def recent(self, now_ms: int, max_age_ms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(post ids, authors, created ms, positive counts) of live posts younger than max_age."""
        created = np.asarray(self.created_ms, np.int64)
        lo = int(np.searchsorted(created, now_ms - max_age_ms, side="left")) if len(created) else 0
        ids = np.asarray(self.post_ids[lo:], np.int64)
        keep = np.array([p not in self.deleted for p in ids.tolist()], bool) if self.deleted else np.ones(len(ids), bool)
        ids = ids[keep]
        counts = np.fromiter((self.positives.get(p, 0) for p in ids.tolist()), np.int64, len(ids))
        return ids, np.asarray(self.authors[lo:], np.int64)[keep], created[lo:][keep], counts

    def forget_older_than(self, cutoff_ms: int) -> None:
        created = np.asarray(self.created_ms, np.int64)
        lo = int(np.searchsorted(created, cutoff_ms, side="left"))
        if lo:
            for pid in self.post_ids[:lo]:
                self.positives.pop(pid, None)
            del self.post_ids[:lo], self.authors[:lo], self.created_ms[:lo]


class ReplayState:
    def __init__(self, clock: ReplayClock, retrieval: InProcessRetrieval | None,
                 user_state: InMemoryUserState, thunder: InProcessThunder) -> None:
        self.clock = clock
        self.user_state = user_state
        self.thunder = thunder
        self.retrieval = retrieval
        self.pool = PostPool()
        self.feed_states: list[InMemoryFeedState] = []
        self.applied = 0
        self._next_housekeeping = 0

    def apply(self, topic: str, msg: Message, time_ms: int) -> None:
        if time_ms > self.clock.now_ms:
            self.clock.now_ms = time_ms
        self.applied += 1
        if topic == "posts":
            self._apply_post(msg)
        elif topic == "engagements":
            self.user_state.apply_sync([msg])
            name = action_name(msg.action)
            if name == "impression":
                for fs in self.feed_states:
                    fs.add_impressions_sync(int(msg.user_id), [int(msg.post_id)])
            elif is_positive(name):
                self.pool.positives[int(msg.post_id)] += 1
        elif topic == "social_graph":
            self.user_state.apply_sync([msg])
        if self.clock.now_ms >= self._next_housekeeping:
            self.housekeeping()

    def _apply_post(self, ev: events_pb2.PostEvent) -> None:
        self.user_state.apply_sync([ev])
        kind = ev.WhichOneof("event")
        if kind == "created":
            if ev.created.post_id <= 0 or ev.created.author_id <= 0:
                return  # malformed: the user state counted it; Thunder/retrieval would reject it
            self.thunder.add(ev.created)
            self.pool.add(ev.created)
        elif kind == "deleted":
            self.thunder.delete(ev.deleted.post_id, ev.deleted.deleted_at)
            self.pool.deleted.add(int(ev.deleted.post_id))
        else:
            return
        if self.retrieval is not None:
            self.retrieval.add(ev)

    def housekeeping(self) -> None:
        """What serving does on timers: Thunder's auto-trim and the index's expiry."""
        self.thunder.trim()
        if self.retrieval is not None:
            self.retrieval.flush()
            self.retrieval.live.expire()
        self.pool.forget_older_than(self.clock.now_ms - 2 * MAX_POST_AGE_S * 1000)
        self._next_housekeeping = self.clock.now_ms + HOUSEKEEPING_MS

    def flush(self) -> None:
        self.thunder.flush()
        if self.retrieval is not None:
            self.retrieval.flush()
