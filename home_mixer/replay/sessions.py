"""Request points and what the user actually did afterwards (the replay's ground truth).

A request point is where a feed was requested in the log: a logged ``served`` event, or the
start of a session (the first impression of a ``request_id``). Logs without request ids
(MovieLens) are cut into sessions by a 30-minute inactivity gap per user. The outcome of a
request is everything the viewer did in that session: which posts were shown to them and which
actions they took on each. "Engaged" means a POSITIVE action (not an impression, dwell or
not-dwelled, and not negative feedback).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from google.protobuf.message import Message

from events.log import event_time_ms
from events.world.actions import NEGATIVE_ACTIONS, action_name
from protos import recsys_pb2

SESSION_GAP_MS = 30 * 60 * 1000
PASSIVE_ACTIONS = frozenset({"impression", "dwell", "not_dwelled"})
_NEGATIVE = NEGATIVE_ACTIONS | {"block_author", "mute_author"}


def is_positive(action: str) -> bool:
    return action not in PASSIVE_ACTIONS and action not in _NEGATIVE


def is_negative(action: str) -> bool:
    return action in _NEGATIVE


@dataclass
class Session:
    """One request point and its outcome."""

    key: str
    viewer_id: int
    start_ms: int
    surface: int = recsys_pb2.HOME_TIMELINE_RANKING
    logged_served: list[int] = field(default_factory=list)  # from a `served` event, if any
    shown: list[int] = field(default_factory=list)  # impressions in position order
    actions: dict[int, set[str]] = field(default_factory=dict)  # post -> action names

    @property
    def engaged(self) -> set[int]:
        return {p for p, acts in self.actions.items() if any(is_positive(a) for a in acts)}

    @property
    def negative(self) -> set[int]:
        return {p for p, acts in self.actions.items() if any(is_negative(a) for a in acts)}


@dataclass
class SessionScan:
    """The first pass over a log: every session, and the log's time span."""

    sessions: list[Session]
    first_ms: int
    last_ms: int
    events: int


def scan_sessions(stream: Iterable[tuple[str, Message]]) -> SessionScan:
    by_key: dict[str, Session] = {}
    open_by_user: dict[int, tuple[str, int]] = {}  # gap sessions: user -> (key, last event ms)
    first_ms, last_ms, n = 2**62, 0, 0
    for topic, msg in stream:
        t = event_time_ms(topic, msg)
        n += 1
        if t > 0:
            first_ms, last_ms = min(first_ms, t), max(last_ms, t)
        if topic == "served":
            key = msg.request_id or f"served:{msg.viewer_id}:{msg.served_at_ms}"
            s = by_key.get(key)
            if s is None:
                s = by_key[key] = Session(key, int(msg.viewer_id), int(msg.served_at_ms))
            s.start_ms = min(s.start_ms, int(msg.served_at_ms))
            s.logged_served = [int(c.post_id) for c in msg.candidates]
            continue
        if topic != "engagements" or msg.user_id <= 0 or msg.post_id <= 0:
            continue
        if msg.request_id:
            key = msg.request_id
        else:
            prev = open_by_user.get(msg.user_id)
            if prev is None or t - prev[1] > SESSION_GAP_MS:
                key = f"u{msg.user_id}t{t}"
            else:
                key = prev[0]
            open_by_user[msg.user_id] = (key, t)
        s = by_key.get(key)
        if s is None:
            s = by_key[key] = Session(key, int(msg.user_id), t, int(msg.product_surface))
        name = action_name(msg.action)
        if name == "impression" and msg.post_id not in s.actions:
            s.shown.append(int(msg.post_id))
        s.actions.setdefault(int(msg.post_id), set()).add(name)
    sessions = sorted(by_key.values(), key=lambda s: (s.start_ms, s.key))
    return SessionScan(sessions, first_ms if n else 0, last_ms, n)


def pick_request_points(
    sessions: list[Session], split_ms: int, max_requests: int | None, seed: int,
    surfaces: frozenset[int] = frozenset({0, recsys_pb2.HOME_TIMELINE_RANKING}),
) -> list[Session]:
    """Sessions in the replay window (start >= split) on the For You surface (or with no surface
    logged, 0); the chronological "Following" surface is left out. With
    ``max_requests`` a seeded uniform sample of them, in time order."""
    eligible = [s for s in sessions if s.start_ms >= split_ms and s.surface in surfaces]
    if max_requests is not None and len(eligible) > max_requests:
        rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
        keep = np.sort(rng.choice(len(eligible), max_requests, replace=False))
        eligible = [eligible[i] for i in keep.tolist()]
    return eligible
