"""Training histories from the event stream (an event log, MovieLens replay, the synthetic world).

Engagement events are grouped per user and per post, as X's aggregated user-action sequence
does: one history item per (user, post), placed at the user's FIRST engagement with it and
carrying every action taken on it. A post's author comes from its ``PostCreated`` event (or the
engagement's own author id). Events with a non-positive id are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from google.protobuf.message import Message

from phoenix.retrieval.training import UserHistory, action_multi_hot
from protos import events_pb2


def histories_from_events(events: Iterable[tuple[str, Message]], *, min_items: int = 2) -> list[UserHistory]:
    """``(topic, message)`` pairs in time order -> one ``UserHistory`` per user (ordered by user id)."""
    authors: dict[int, int] = {}
    per_user: dict[int, dict[int, tuple[int, int, set[int]]]] = {}
    for _, msg in events:
        if isinstance(msg, events_pb2.PostEvent) and msg.WhichOneof("event") == "created":
            authors[msg.created.post_id] = msg.created.author_id
        elif isinstance(msg, events_pb2.EngagementEvent):
            if msg.user_id <= 0 or msg.post_id <= 0:
                continue
            items = per_user.setdefault(msg.user_id, {})
            first_ts, author, acts = items.get(msg.post_id, (msg.timestamp_ms, msg.author_id, set()))
            acts.add(int(msg.action))
            items[msg.post_id] = (min(first_ts, msg.timestamp_ms), author or msg.author_id, acts)
    out = []
    for user_id in sorted(per_user):
        items = sorted(per_user[user_id].items(), key=lambda kv: (kv[1][0], kv[0]))
        if len(items) < min_items:
            continue
        posts = np.array([p for p, _ in items], np.int64)
        item_authors = np.array([authors.get(p, a) or 1 for p, (_, a, _) in items], np.int64)
        out.append(UserHistory(user_id, posts, item_authors, action_multi_hot([sorted(a) for _, (_, _, a) in items])))
    return out
