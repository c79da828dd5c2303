"""User state in process memory: the same reader and apply semantics as ``RedisUserState``.

Used by offline replay (no Redis needed) and unit tests. Differences by design: nothing expires
(TTLs are a storage concern; replay windows are bounded by the log), and dedup markers are kept
for the object's lifetime.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable

from google.protobuf.message import Message

from events.world.actions import action_name
from protos import events_pb2, recsys_pb2
from user_state.events import IMPRESSION, aggregate_sequence, normalize_keyword, validate
from user_state.reader import AuthorStats
from user_state.settings import UserStateSettings


class InMemoryUserState:
    def __init__(self, settings: UserStateSettings | None = None) -> None:
        self.settings = settings or UserStateSettings()
        self._seen: set[tuple[str, str]] = set()
        self._events: dict[int, deque[events_pb2.EngagementEvent]] = {}
        self._following: defaultdict[int, set[int]] = defaultdict(set)
        self._followers: defaultdict[int, set[int]] = defaultdict(set)
        self._blocked: defaultdict[int, set[int]] = defaultdict(set)
        self._muted: defaultdict[int, set[int]] = defaultdict(set)
        self._keywords: defaultdict[int, set[str]] = defaultdict(set)
        self._posts: dict[int, events_pb2.PostCreated] = {}
        self._deleted: set[int] = set()
        self._counts: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._authors: defaultdict[int, dict[str, int]] = defaultdict(lambda: {"followers": 0, "impressions": 0})
        self.malformed = 0
        self.ignored = 0

    # -- writing -----------------------------------------------------------------------------
    async def apply(self, events: Iterable[Message]) -> int:
        return self.apply_sync(events)

    def apply_sync(self, events: Iterable[Message]) -> int:
        """Apply events once each (by event id); returns how many were new. Malformed events are
        counted and skipped; ``ServedFeed`` is not user state and is ignored."""
        applied = 0
        for e in events:
            if isinstance(e, events_pb2.ServedFeed):
                self.ignored += 1
                continue
            if validate(e) is not None:
                self.malformed += 1
                continue
            marker = (type(e).__name__, e.event_id)
            if marker in self._seen:
                continue
            self._seen.add(marker)
            applied += 1
            if isinstance(e, events_pb2.EngagementEvent):
                self._apply_engagement(e)
            elif isinstance(e, events_pb2.SocialGraphEvent):
                self._apply_social(e)
            else:
                self._apply_post(e)
        return applied

    def _apply_engagement(self, e: events_pb2.EngagementEvent) -> None:
        events = self._events.get(e.user_id)
        if events is None:
            events = self._events[e.user_id] = deque(maxlen=self.settings.events_cap)
        events.append(e)
        self._counts[e.post_id][action_name(e.action)] += 1
        if e.action == IMPRESSION and e.author_id > 0:
            self._authors[e.author_id]["impressions"] += 1

    def _apply_social(self, e: events_pb2.SocialGraphEvent) -> None:
        u, t, a = e.user_id, e.target_user_id, e.action
        if a == events_pb2.FOLLOW and t not in self._following[u]:
            self._following[u].add(t)
            self._followers[t].add(u)
            self._authors[t]["followers"] += 1
        elif a == events_pb2.UNFOLLOW and t in self._following[u]:
            self._following[u].discard(t)
            self._followers[t].discard(u)
            self._authors[t]["followers"] -= 1
        elif a == events_pb2.BLOCK:
            self._blocked[u].add(t)
        elif a == events_pb2.UNBLOCK:
            self._blocked[u].discard(t)
        elif a == events_pb2.MUTE:
            self._muted[u].add(t)
        elif a == events_pb2.UNMUTE:
            self._muted[u].discard(t)
        elif a == events_pb2.MUTE_KEYWORD:
            self._keywords[u].add(normalize_keyword(e.keyword))
        elif a == events_pb2.UNMUTE_KEYWORD:
            self._keywords[u].discard(normalize_keyword(e.keyword))

    def _apply_post(self, e: events_pb2.PostEvent) -> None:
        if e.WhichOneof("event") == "created":
            if e.created.post_id not in self._deleted:
                self._posts[e.created.post_id] = e.created
        else:
            self._deleted.add(e.deleted.post_id)
            self._posts.pop(e.deleted.post_id, None)

    # -- reading -----------------------------------------------------------------------------
    async def action_sequence(self, user_id: int, max_len: int = 1024) -> recsys_pb2.UserActionSequence:
        events = list(self._events.get(user_id, ()))
        return aggregate_sequence(user_id, events, max_len, self._posts)

    async def following(self, user_id: int) -> set[int]:
        return set(self._following.get(user_id, ()))

    async def followers_of_viewer_among(self, viewer_id: int, author_ids: Iterable[int]) -> set[int]:
        followers = self._followers.get(viewer_id, set())
        return {a for a in author_ids if a in followers}

    async def blocked(self, user_id: int) -> set[int]:
        return set(self._blocked.get(user_id, ()))

    async def blockers_of_viewer_among(self, viewer_id: int, user_ids: Iterable[int]) -> set[int]:
        """The users among ``user_ids`` whose block list contains ``viewer_id`` (one call, as
        home-mixer's Redis reader answers it; without it a request reads every author's list)."""
        blocked = self._blocked
        return {u for u in user_ids if u in blocked and viewer_id in blocked[u]}

    async def muted(self, user_id: int) -> set[int]:
        return set(self._muted.get(user_id, ()))

    async def muted_keywords(self, user_id: int) -> set[str]:
        return set(self._keywords.get(user_id, ()))

    async def posts(self, post_ids: Iterable[int]) -> dict[int, events_pb2.PostCreated]:
        return {p: self._posts[p] for p in post_ids if p in self._posts}

    async def engagement_counts(self, post_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        return {p: dict(self._counts[p]) if p in self._counts else {} for p in post_ids}

    async def author_stats(self, author_ids: Iterable[int]) -> dict[int, AuthorStats]:
        out: dict[int, AuthorStats] = {}
        for a in author_ids:
            s = self._authors.get(a)
            out[a] = AuthorStats(s["followers"], s["impressions"]) if s else AuthorStats()
        return out
