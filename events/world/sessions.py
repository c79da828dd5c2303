"""Simulating a world over time: posts appear, users come back in sessions, see a mixed feed and
act on it with the oracle's probabilities, and the social graph changes.

A session shows the user a mix of followed authors' recent posts (in-network) and popular or
random other posts (out-of-network), on the ranked home surface or, sometimes, the chronological
"Following" surface. Each shown post yields an impression (with surface and position), a dwell or
not-dwelled event (with a dwell time), and each action whose coin flip under the oracle
probability comes up. Following, muting or blocking an author from a post also emits the matching
social-graph event and changes what later sessions show. Users' replies/reposts in sessions are
engagement events only; the post stream is generated separately (``posts.py``).

Ordering: every event a scheduled item (post, session, churn) creates happens at or after the
item's time, and items are processed in time order, so a heap that releases events older than the
next item's time yields one globally time-ordered stream.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

import numpy as np
from google.protobuf.message import Message

from events.world.actions import ACTION_NUMBERS, ORACLE_ACTIONS
from events.world.config import HOUR_MS
from events.world.population import pick_author_to_follow
from events.world.world import World
from protos import events_pb2, recsys_pb2

_TOPIC_RANK = {"posts": 0, "engagements": 1, "social_graph": 2, "served": 3}
_DWELL = ORACLE_ACTIONS.index("dwell")
_ACTING = [i for i, a in enumerate(ORACLE_ACTIONS) if a != "dwell"]
_POST, _SESSION, _CHURN = 0, 1, 2


class Simulation:
    def __init__(self, world: World) -> None:
        self.world = world
        self.config = c = world.config
        self.rng = np.random.default_rng(np.random.SeedSequence([c.seed, 7]))
        pop = world.population
        self.following: list[set[int]] = [set(f.tolist()) for f in pop.follows]
        self.blocked: list[set[int]] = [set() for _ in range(pop.n_users)]
        self.muted: list[set[int]] = [set() for _ in range(pop.n_users)]
        self.muted_words: list[set[int]] = [set() for _ in range(pop.n_users)]
        self._heap: list[tuple[int, int, int, str, Message]] = []
        self._seq = 0
        self._events = 0
        duration = c.end_ms - c.start_ms
        counts = self.rng.poisson(pop.activity * c.days)
        self.session_user = np.repeat(np.arange(pop.n_users), counts)
        warmup = min(HOUR_MS, duration // 4)
        self.session_time = c.start_ms + warmup + (self.rng.random(len(self.session_user)) * (duration - warmup)).astype(np.int64)
        counts = self.rng.poisson(np.full(pop.n_users, c.churn_per_user_per_day * c.days))
        self.churn_user = np.repeat(np.arange(pop.n_users), counts)
        self.churn_time = c.start_ms + (self.rng.random(len(self.churn_user)) * duration).astype(np.int64)

    def agenda_size(self) -> int:
        return len(self.world.posts) + len(self.session_user) + len(self.churn_user)

    # -- emission ----------------------------------------------------------------------------
    def _push(self, ts: int, topic: str, message: Message) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (ts, _TOPIC_RANK[topic], self._seq, topic, message))

    def _release_before(self, ts: int) -> Iterator[tuple[str, Message]]:
        heap = self._heap
        while heap and heap[0][0] < ts:
            item = heapq.heappop(heap)
            yield item[3], item[4]

    def _event_id(self, kind: str) -> str:
        self._events += 1
        return f"w{self.config.seed}{kind}{self._events}"

    def _social(self, ts: int, user: int, action: int, target: int = -1, keyword: str = "") -> None:
        self._push(ts, "social_graph", events_pb2.SocialGraphEvent(
            event_id=self._event_id("g"), user_id=user + 1, action=action,
            target_user_id=target + 1 if target >= 0 else 0, keyword=keyword, timestamp_ms=ts))

    # -- the run -----------------------------------------------------------------------------
    def run(self, on_progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, Message]]:
        c = self.config
        t0 = c.start_ms - 1000
        for user, follows in enumerate(self.following):
            for author in sorted(follows):
                self._social(t0, user, events_pb2.FOLLOW, author)
        for user in np.flatnonzero(self.rng.random(len(self.following)) < c.initial_keyword_mute_fraction):
            self._mute_keyword(t0, int(user))
        yield from self._release_before(c.start_ms)

        posts = self.world.posts
        times = np.concatenate([posts.created_ms, self.session_time, self.churn_time])
        kinds = np.concatenate([np.full(len(posts), _POST), np.full(len(self.session_time), _SESSION),
                                np.full(len(self.churn_time), _CHURN)])
        index = np.concatenate([np.arange(len(posts)), np.arange(len(self.session_time)), np.arange(len(self.churn_time))])
        order = np.lexsort((index, kinds, times))
        done = 0
        for ts, kind, i in zip(times[order].tolist(), kinds[order].tolist(), index[order].tolist(), strict=True):
            yield from self._release_before(ts)
            if kind == _POST:
                post = self.world.post_created(i)
                self._push(ts, "posts", events_pb2.PostEvent(event_id=f"w{c.seed}p{post.post_id}", created=post))
            elif kind == _SESSION:
                self._session(i, int(self.session_user[i]), ts)
            else:
                self._churn(int(self.churn_user[i]), ts)
            done += 1
            if on_progress is not None and done % 1000 == 0:
                on_progress(1000)
        yield from self._release_before(1 << 62)
        if on_progress is not None:
            on_progress(done % 1000)

    # -- social churn ------------------------------------------------------------------------
    def _mute_keyword(self, ts: int, user: int) -> None:
        vocab = self.world.vocabulary
        topic = int(np.argmin(self.world.population.interests[user]))
        word = topic * vocab.words_per_topic + int(self.rng.integers(vocab.words_per_topic))
        if word not in self.muted_words[user]:
            self.muted_words[user].add(word)
            self._social(ts, user, events_pb2.MUTE_KEYWORD, keyword=vocab.words[word])

    def _churn(self, user: int, ts: int) -> None:
        r = float(self.rng.random())
        following = self.following[user]
        if r < 0.5:
            author = pick_author_to_follow(self.rng, self.world.population, user, self.config.homophily,
                                           following | self.blocked[user])
            if author is not None:
                following.add(author)
                self._social(ts, user, events_pb2.FOLLOW, author)
        elif r < 0.8:
            if following:
                author = sorted(following)[int(self.rng.integers(len(following)))]
                following.discard(author)
                self._social(ts, user, events_pb2.UNFOLLOW, author)
        elif r < 0.92:
            self._mute_keyword(ts, user)
        elif r < 0.96:
            if self.muted_words[user]:
                word = sorted(self.muted_words[user])[0]
                self.muted_words[user].discard(word)
                self._social(ts, user, events_pb2.UNMUTE_KEYWORD, keyword=self.world.vocabulary.words[word])
        elif self.muted[user]:
            author = sorted(self.muted[user])[0]
            self.muted[user].discard(author)
            self._social(ts, user, events_pb2.UNMUTE, author)

    # -- sessions ----------------------------------------------------------------------------
    def _candidates(self, user: int, ts: int) -> tuple[np.ndarray, np.ndarray]:
        """(in-network rows, out-of-network rows) the user could be shown at ``ts``, oldest first."""
        posts, c = self.world.posts, self.config
        hi = int(np.searchsorted(posts.created_ms, ts, side="left"))
        lo = max(int(np.searchsorted(posts.created_ms, ts - int(c.candidate_window_hours * HOUR_MS))), hi - 4000)
        rows = np.arange(lo, hi)
        if len(rows) == 0:
            return rows, rows
        authors = posts.author[rows]
        hidden = self.blocked[user] | self.muted[user] | {user}
        keep = ~np.isin(authors, np.fromiter(hidden, dtype=np.int64, count=len(hidden)))
        if self.muted_words[user]:
            words = np.fromiter(self.muted_words[user], dtype=np.uint16, count=len(self.muted_words[user]))
            keep &= ~np.isin(posts.words[rows], words).any(axis=1)
        rows, authors = rows[keep], authors[keep]
        following = self.following[user]
        in_network = np.isin(authors, np.fromiter(following, dtype=np.int64, count=len(following)))
        return rows[in_network], rows[~in_network]

    def _pick_shown(self, user: int, ts: int, latest: bool) -> np.ndarray:
        k = self.config.posts_per_session
        in_rows, out_rows = self._candidates(user, ts)
        if latest:
            return in_rows[::-1][:k]
        recent_in = in_rows[-4 * k:]
        n_in = min(len(recent_in), round(k * self.config.in_network_fraction))
        picked_in = self.rng.choice(recent_in, n_in, replace=False) if n_in else recent_in[:0]
        n_out = min(len(out_rows), k - n_in)
        if n_out:
            # Half popular (quality-weighted), half uniformly random.
            log_w = np.where(self.rng.random(len(out_rows)) < 0.5, 1.5 * self.world.posts.quality[out_rows], 0.0)
            keys = log_w + self.rng.gumbel(size=len(out_rows))
            picked_out = out_rows[np.argpartition(-keys, n_out - 1)[:n_out]]
        else:
            picked_out = out_rows[:0]
        shown = np.concatenate([picked_in, picked_out])
        self.rng.shuffle(shown)
        return shown

    def _session(self, session: int, user: int, ts: int) -> None:
        c, posts = self.config, self.world.posts
        latest = bool(self.rng.random() < c.latest_surface_fraction)
        surface = recsys_pb2.HOME_TIMELINE_LATEST if latest else recsys_pb2.HOME_TIMELINE_RANKING
        shown = self._pick_shown(user, ts, latest)
        n = len(shown)
        if n == 0:
            return
        positions = np.arange(n)
        times = ts + positions * 3000 + self.rng.integers(0, 2000, n)
        following = self.following[user]
        authors = posts.author[shown]
        follows = np.array([int(a) in following for a in authors], dtype=bool)
        probs = self.world.oracle_rows(np.full(n, user), shown, positions, follows, times)
        fired = self.rng.random(probs.shape) < probs
        dwell_ms = self.rng.lognormal(np.log(2000 + 10000 * self.world.population.affinity[user, posts.topic[shown]]), 0.6)
        request_id = f"w{c.seed}r{session}"
        uid = user + 1
        for j in range(n):
            row, t, author = int(shown[j]), int(times[j]), int(authors[j])
            pid, aid = int(posts.post_id[row]), author + 1

            def emit(name: str, at: int, dwell: int = 0, pid: int = pid, aid: int = aid, position: int = j) -> None:
                self._push(at, "engagements", events_pb2.EngagementEvent(
                    event_id=self._event_id("e"), user_id=uid, post_id=pid, author_id=aid,
                    action=ACTION_NUMBERS[name], timestamp_ms=at, dwell_time_ms=dwell,
                    product_surface=surface, request_id=request_id, position=position))

            emit("impression", t)
            if fired[j, _DWELL]:
                emit("dwell", t + 200, int(dwell_ms[j]))
            else:
                emit("not_dwelled", t + 200, int(dwell_ms[j] * 0.1))
            for a in np.flatnonzero(fired[j, _ACTING]).tolist():
                name = ORACLE_ACTIONS[_ACTING[a]]
                at = t + 300 + 50 * a
                if name == "follow_author":
                    if author in following:
                        continue
                    following.add(author)
                    self._social(at, user, events_pb2.FOLLOW, author)
                elif name == "mute":
                    if author in self.muted[user]:
                        continue
                    self.muted[user].add(author)
                    self._social(at, user, events_pb2.MUTE, author)
                elif name == "block":
                    if author in self.blocked[user]:
                        continue
                    self.blocked[user].add(author)
                    self._social(at, user, events_pb2.BLOCK, author)
                    if author in following:
                        following.discard(author)
                        self._social(at, user, events_pb2.UNFOLLOW, author)
                emit(name, at)
