"""In-process implementations of every dependency in :mod:`home_mixer.deps`, over the real code.

Offline replay must run the SAME stage code as serving, so it is the clients that change, not
the stages: Thunder's real ``PostStore`` + ``InNetworkRetriever``, the real Phoenix ranker
``RankerEngine`` (KV-cached scoring), the real two-tower model behind a real FAISS ``LiveIndex``,
the real ``InMemoryUserState`` (same semantics as Redis), a feed-state store with the Redis
store's semantics, and a publisher that only records. Nothing here does network I/O, and no
method awaits anything real, so a replay is deterministic: the executor's per-stage timeouts can
never fire in the middle of an in-process call.

Every component reads time from a shared :class:`ReplayClock` (the replayed event time), never
from the wall clock, so retention, post ages and TTLs behave as they did at that moment.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from home_mixer.bloom import BloomFilter
from home_mixer.feed_state_store import SERVED_HISTORY_CAP
from home_mixer.models import PostCandidate
from phoenix.actions import ACTION_NAMES, DISCRETE_ACTIONS
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.features import CandidateColumns
from phoenix.ranker.packed import Predictions, unpack_candidates
from phoenix.ranker.request import to_score_requests
from phoenix.retrieval.features import histories_from_protos
from phoenix.retrieval.live_index import LiveIndex
from protos import events_pb2, recsys_pb2, thunder_pb2
from thunder.light_posts import LightPosts
from thunder.post_batch import PostBatch
from thunder.post_store import PostStore
from thunder.retrieval import InNetworkQuery, InNetworkRetriever
from thunder.wire import to_protos
from user_state.memory import InMemoryUserState

_HEAD_SLOTS = np.array([h.action for h in DISCRETE_ACTIONS], dtype=np.intp)


@dataclass
class ReplayClock:
    """The replayed "now" in epoch ms, advanced by the driver as events are applied."""

    now_ms: int = 0

    def seconds(self) -> float:
        return self.now_ms / 1000.0


class InProcessThunder:
    """:class:`home_mixer.deps.ThunderClient` over an in-process Thunder ``PostStore``.

    Thunder admits a post only when ``created_at < now`` in whole seconds; a replayed post is
    applied at its own creation time, so the store's clock runs one second ahead of the replay
    clock (it never admits anything created after the event being applied)."""

    def __init__(self, clock: ReplayClock) -> None:
        self.clock = clock
        self.store = PostStore(clock=lambda: clock.seconds() + 1.0)
        self.retriever = InNetworkRetriever(self.store)
        self._pending: list[events_pb2.PostCreated] = []

    def add(self, post: events_pb2.PostCreated) -> None:
        self._pending.append(post)

    def delete(self, post_id: int, deleted_at_s: int) -> None:
        self.flush()
        self.store.delete([post_id], [deleted_at_s])

    def flush(self) -> None:
        """Insert buffered creates as one columnar batch (the store is built for batches)."""
        if self._pending:
            self.store.insert(PostBatch.from_events(self._pending))
            self._pending = []

    def trim(self) -> int:
        self.flush()
        return self.store.trim_all()

    async def get_in_network_posts(
        self,
        user_id: int,
        following_ids: Sequence[int],
        exclude_ids: Sequence[int],
        max_results: int,
        is_video_request: bool,
    ) -> list[thunder_pb2.LightPost]:
        return to_protos(self._answer(user_id, following_ids, exclude_ids, max_results, is_video_request))

    async def get_in_network_columns(
        self,
        user_id: int,
        following_ids: Sequence[int],
        exclude_ids: Sequence[int],
        max_results: int,
        is_video_request: bool,
    ) -> LightPosts:
        """The same posts as columns (what ThunderSource reads first), as the gRPC client's."""
        return self._answer(user_id, following_ids, exclude_ids, max_results, is_video_request, columns=True)

    def _answer(self, *query_args: object, columns: bool = False) -> LightPosts:
        self.flush()
        return self.retriever.query(InNetworkQuery.build(*query_args), columns=columns)  # type: ignore[arg-type]


class InProcessRanker:
    """:class:`home_mixer.deps.RankerClient` over the in-process ``RankerEngine``.

    The request goes through the ranker server's own conversion (``phoenix.ranker.request``),
    so features (history items, in-network flag, surface) are exactly the ones served over
    gRPC; only the transport is skipped and "now" is the replay clock."""

    def __init__(self, engine: RankerEngine, clock: ReplayClock) -> None:
        self.engine = engine
        self.clock = clock
        self.calls = 0
        self.candidates_scored = 0

    async def predict_packed(
        self,
        sequence: recsys_pb2.UserActionSequence,
        candidates: recsys_pb2.PackedCandidates,
        product_surface: int,
    ) -> Predictions:
        cap = self.engine.cfg.max_candidates
        request = recsys_pb2.PredictNextActionsRequest(
            sequences=[sequence],
            candidate_sets=[recsys_pb2.CandidateSet(
                user_id=sequence.user_id, packed=candidates, product_surface=product_surface)],
        )
        [job] = to_score_requests(request, self.clock.now_ms, max(cap, candidates.count))
        probs, dwell = [], []
        for start in range(0, len(job.candidates), cap):  # the engine's batch cap, one chunk at a time
            [result] = self.engine.score([dataclasses.replace(job, candidates=job.candidates[start : start + cap])])
            probs.append(np.exp(result.log_probs)[:, _HEAD_SLOTS].astype(np.float64))
            dwell.append(result.dwell_s.astype(np.float64))
        self.calls += 1
        self.candidates_scored += candidates.count
        ids = np.array(job.candidates.post_id if isinstance(job.candidates, CandidateColumns) else
                       [c.post_id for c in job.candidates], dtype=np.int64)
        if not probs:
            return Predictions(ids, ACTION_NAMES, np.zeros((0, len(ACTION_NAMES))), np.zeros(0), self.engine.version)
        return Predictions(ids, ACTION_NAMES, np.concatenate(probs), np.concatenate(dwell), self.engine.version)


class InProcessRetrieval:
    """:class:`home_mixer.deps.RetrievalClient` over the two-tower model and its FAISS ``LiveIndex``."""

    def __init__(self, live: LiveIndex, user_state: InMemoryUserState) -> None:
        self.live = live
        self.user_state = user_state
        self._pending: list[events_pb2.PostEvent] = []

    def add(self, event: events_pb2.PostEvent) -> None:
        self._pending.append(event)

    def flush(self) -> None:
        """Embed buffered posts in one candidate-tower pass (as the live index's batch ingest)."""
        if self._pending:
            self.live.apply(self._pending)
            self._pending = []

    async def retrieve(
        self,
        user_id: int,
        sequence: recsys_pb2.UserActionSequence | None,
        top_k: int,
        exclude_ids: Sequence[int],
    ) -> tuple[list[tuple[int, int, float]], str]:
        self.flush()
        max_len = self.live.max_history
        if sequence is None:
            sequence = await self.user_state.action_sequence(user_id, max_len)
        batch = histories_from_protos([user_id], [sequence], max_len)
        result, version = self.live.retrieve(batch, top_k, list(exclude_ids))
        return [(int(p), int(a), float(s)) for p, a, s in result.hits(0)], version


@dataclass
class _CacheEntry:
    posts: list[PostCandidate]
    expires_ms: int


@dataclass
class InMemoryFeedState:
    """:class:`home_mixer.deps.FeedStateStore` with ``RedisFeedStateStore``'s semantics, in memory.

    Served history is newest first and capped like the Redis list; the scored-candidate cache
    expires after its TTL on the REPLAY clock. One instance per replayed configuration: what a
    configuration served shapes its own later requests, never another's."""

    clock: ReplayClock
    bloom_size_cap: int = 10_000
    bloom_false_positive_rate: float = 0.001
    _served: dict[int, deque[tuple[int, int]]] = field(default_factory=dict)
    _blooms: dict[int, BloomFilter] = field(default_factory=dict)
    _cache: dict[tuple[int, str], _CacheEntry] = field(default_factory=dict)

    async def served_ids(self, viewer_id: int, now_ms: int, window_ms: int, max_ids: int) -> set[int]:
        out: set[int] = set()
        for pid, ts in self._served.get(viewer_id, ()):
            if now_ms - ts > window_ms:
                break
            out.add(pid)
            if len(out) >= max_ids:
                break
        return out

    async def record_served(self, viewer_id: int, post_ids: Sequence[int], now_ms: int) -> None:
        history = self._served.setdefault(viewer_id, deque(maxlen=SERVED_HISTORY_CAP))
        for pid in reversed(list(post_ids)):
            history.appendleft((int(pid), int(now_ms)))

    async def impression_bloom(self, viewer_id: int) -> BloomFilter | None:
        return self._blooms.get(viewer_id)

    async def add_impressions(self, viewer_id: int, post_ids: Sequence[int]) -> None:
        self.add_impressions_sync(viewer_id, post_ids)

    def add_impressions_sync(self, viewer_id: int, post_ids: Sequence[int]) -> None:
        bloom = self._blooms.get(viewer_id)
        if bloom is None:
            bloom = self._blooms[viewer_id] = BloomFilter(self.bloom_size_cap, self.bloom_false_positive_rate)
        bloom.update(int(p) for p in post_ids)

    async def cached_posts(self, viewer_id: int, variant: str) -> list[PostCandidate]:
        entry = self._cache.get((viewer_id, variant))
        if entry is None or entry.expires_ms <= self.clock.now_ms:
            return []
        return [dataclasses.replace(p) for p in entry.posts]

    async def cache_posts(self, viewer_id: int, variant: str, posts: Sequence[PostCandidate], ttl_s: int) -> None:
        # Shallow copies suffice: stages never mutate a candidate's dicts in place (the executor
        # sets whole fields), and a deep JSON round trip per request dominated replay time.
        copies = [dataclasses.replace(p) for p in posts]
        self._cache[(viewer_id, variant)] = _CacheEntry(copies, self.clock.now_ms + int(math.ceil(ttl_s * 1000)))


@dataclass
class RecordingServedPublisher:
    """:class:`home_mixer.deps.ServedPublisher` that keeps what was published (bounded)."""

    keep: int = 1000
    published: int = 0
    feeds: deque[events_pb2.ServedFeed] = field(default_factory=lambda: deque(maxlen=1000))

    async def publish(self, feed: events_pb2.ServedFeed) -> None:
        self.published += 1
        self.feeds.append(feed)


class OracleRanker:
    """:class:`home_mixer.deps.RankerClient` that answers with the synthetic world's TRUE action
    probabilities (at position 0, with the viewer's follow flag from the candidate).

    A diagnostic, not a model: the default pipeline with this ranker is the best its stages can
    do with perfect predictions, which separates "the pipeline's rules" from "the model's
    quality" when a configuration misses its target."""

    def __init__(self, world, clock: ReplayClock) -> None:  # noqa: ANN001 - events.world.World
        from events.world.actions import ACTION_NUMBERS
        from phoenix.actions import NAME_BY_ACTION_NUMBER

        self.world = world
        self.clock = clock
        self._heads = {name: NAME_BY_ACTION_NUMBER[num] for name, num in ACTION_NUMBERS.items()
                       if num in NAME_BY_ACTION_NUMBER}

    async def predict_packed(
        self,
        sequence: recsys_pb2.UserActionSequence,
        candidates: recsys_pb2.PackedCandidates,
        product_surface: int,
    ) -> Predictions:
        from events.world.actions import ORACLE_ACTIONS

        columns, _ = unpack_candidates(candidates)
        rows, kept = [], []
        for j, tweet_id in enumerate(columns["tweet_id"].tolist()):
            try:
                rows.append(self.world.posts.row_of(tweet_id))
                kept.append(j)
            except KeyError:
                continue  # not a world post: left out of the answer, so it stays unscored
        heads = [k for k, a in enumerate(ORACLE_ACTIONS) if a in self._heads]
        names = tuple(self._heads[ORACLE_ACTIONS[k]] for k in heads)
        n = len(rows)
        if not rows:
            return Predictions(np.zeros(0, np.int64), names, np.zeros((0, len(names))), None, "oracle")
        probs = self.world.oracle_rows(
            np.full(n, self.world.user_index(int(sequence.user_id))), np.array(rows), np.zeros(n, np.int64),
            columns["is_author_followed_by_user"][kept] != 0, np.full(n, self.clock.now_ms, np.int64))
        return Predictions(columns["tweet_id"][kept], names, np.asarray(probs, dtype=np.float64)[:, heads], None, "oracle")
