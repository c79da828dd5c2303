"""What each replayed configuration would serve at a request point.

A *pipeline* strategy is the real For You pipeline (``build_for_you_pipeline``) built from a
config file over the in-process deps, with its own feed-state store and publisher. The
baselines answer the same request points with one simple rule each, after the same basic
eligibility (not the viewer's own post, not a blocked or muted author, not already seen, at
most 48 h old) so they differ from the pipeline only in how they choose:

* ``chronological`` - followed authors' newest posts, from the real Thunder retrieval;
* ``popularity``    - recent posts with the most positive engagements so far (then newest);
* ``random``        - uniform over recent posts (seeded per request);
* ``retrieval``     - the two-tower model's top posts in retrieval-score order, no ranker.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from home_mixer.deps import Deps
from home_mixer.models import FeedQuery, PostCandidate
from home_mixer.params import MAX_POST_AGE_S, RESULT_SIZE
from home_mixer.pipeline_factory import build_for_you_pipeline
from home_mixer.replay.inprocess import (
    InMemoryFeedState,
    InProcessRetrieval,
    InProcessThunder,
    RecordingServedPublisher,
    ReplayClock,
)
from home_mixer.replay.sessions import Session
from home_mixer.replay.state import PostPool
from infra.snowflake import snowflake_timestamp_ms
from user_state.memory import InMemoryUserState

MAX_AGE_MS = MAX_POST_AGE_S * 1000


@dataclass(frozen=True)
class ServedItem:
    post_id: int
    original_id: int  # the reposted post for a repost, else post_id
    author_id: int
    created_ms: int
    score: float | None = None


class Strategy(Protocol):
    name: str
    kind: str  # "pipeline" or "baseline"

    async def serve(self, session: Session, now_ms: int, request_index: int) -> list[ServedItem]: ...


def _created_ms(c: PostCandidate) -> int:
    return int(c.created_at_ms or snowflake_timestamp_ms(c.tweet_id) or 0)


class PipelineStrategy:
    """The For You pipeline of one config file, on the shared in-process deps."""

    kind = "pipeline"

    def __init__(self, name: str, config_path: str | Path | None, deps: Deps, clock: ReplayClock,
                 result_size: int = RESULT_SIZE) -> None:
        self.name = name
        self.config_path = config_path
        self.clock = clock
        self.feed_state = InMemoryFeedState(clock)
        self.publisher = RecordingServedPublisher()
        self.pipeline = build_for_you_pipeline(
            dataclasses.replace(deps, feed_state=self.feed_state, served_publisher=self.publisher), config_path)
        self.result_size = result_size
        self.stage_failures: Counter[str] = Counter()

    async def serve(self, session: Session, now_ms: int, request_index: int) -> list[ServedItem]:
        query = FeedQuery(viewer_id=session.viewer_id, request_id=f"replay-{self.name}-{session.key}",
                          now_ms=now_ms, max_results=self.result_size)
        result = await self.pipeline.execute(query)
        await self.pipeline.drain_side_effects()
        for stage in result.stats.stages:
            if stage.status in ("error", "timeout", "length_mismatch"):
                self.stage_failures[f"{stage.name}:{stage.status}"] += 1
        return [ServedItem(c.tweet_id, c.original_tweet_id, c.author_id, _created_ms(c), c.score)
                for c in result.selected]


class Eligibility:
    """The baselines' shared visibility rules (a small subset of the pipeline's filters)."""

    def __init__(self, user_state: InMemoryUserState, impressions: InMemoryFeedState) -> None:
        self.user_state = user_state
        self.impressions = impressions

    async def keep(self, viewer_id: int, post_ids: np.ndarray, authors: np.ndarray, created_ms: np.ndarray,
                   now_ms: int) -> np.ndarray:
        hidden = (await self.user_state.blocked(viewer_id)) | (await self.user_state.muted(viewer_id)) | {viewer_id}
        keep = ~np.isin(authors, np.fromiter(hidden, np.int64, len(hidden)))
        keep &= (created_ms <= now_ms) & (now_ms - created_ms <= MAX_AGE_MS)
        bloom = await self.impressions.impression_bloom(viewer_id)
        if bloom is not None:
            keep &= np.fromiter((p not in bloom for p in post_ids.tolist()), bool, len(post_ids))
        return keep


def _items(ids: np.ndarray, authors: np.ndarray, created: np.ndarray, scores: np.ndarray) -> list[ServedItem]:
    return [ServedItem(int(p), int(p), int(a), int(c), float(s))
            for p, a, c, s in zip(ids.tolist(), authors.tolist(), created.tolist(), scores.tolist(), strict=True)]


class ChronologicalStrategy:
    name, kind = "chronological", "baseline"

    def __init__(self, thunder: InProcessThunder, user_state: InMemoryUserState, eligibility: Eligibility,
                 k: int = RESULT_SIZE) -> None:
        self.thunder, self.user_state, self.eligibility, self.k = thunder, user_state, eligibility, k

    async def serve(self, session: Session, now_ms: int, request_index: int) -> list[ServedItem]:
        following = sorted(await self.user_state.following(session.viewer_id))
        if not following:
            return []
        posts = await self.thunder.get_in_network_posts(session.viewer_id, following, [], 1200, False)
        ids = np.array([p.post_id for p in posts], np.int64)
        authors = np.array([p.author_id for p in posts], np.int64)
        created = np.array([p.created_at * 1000 for p in posts], np.int64)
        keep = await self.eligibility.keep(session.viewer_id, ids, authors, created, now_ms)
        ids, authors, created = ids[keep][: self.k], authors[keep][: self.k], created[keep][: self.k]
        originals = {p.post_id: p.source_post_id or p.post_id for p in posts}
        return [dataclasses.replace(item, original_id=originals[item.post_id])
                for item in _items(ids, authors, created, created.astype(np.float64))]


class PopularityStrategy:
    name, kind = "popularity", "baseline"

    def __init__(self, pool: PostPool, eligibility: Eligibility, k: int = RESULT_SIZE) -> None:
        self.pool, self.eligibility, self.k = pool, eligibility, k

    async def serve(self, session: Session, now_ms: int, request_index: int) -> list[ServedItem]:
        ids, authors, created, counts = self.pool.recent(now_ms, MAX_AGE_MS)
        keep = await self.eligibility.keep(session.viewer_id, ids, authors, created, now_ms)
        ids, authors, created, counts = ids[keep], authors[keep], created[keep], counts[keep]
        order = np.lexsort((-ids, -created, -counts))[: self.k]
        return _items(ids[order], authors[order], created[order], counts[order].astype(np.float64))


class RandomStrategy:
    name, kind = "random", "baseline"

    def __init__(self, pool: PostPool, eligibility: Eligibility, seed: int, k: int = RESULT_SIZE) -> None:
        self.pool, self.eligibility, self.seed, self.k = pool, eligibility, seed, k

    async def serve(self, session: Session, now_ms: int, request_index: int) -> list[ServedItem]:
        ids, authors, created, _ = self.pool.recent(now_ms, MAX_AGE_MS)
        keep = await self.eligibility.keep(session.viewer_id, ids, authors, created, now_ms)
        ids, authors, created = ids[keep], authors[keep], created[keep]
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 23, request_index]))
        pick = rng.permutation(len(ids))[: self.k]
        return _items(ids[pick], authors[pick], created[pick], np.zeros(len(pick)))


class RetrievalOnlyStrategy:
    name, kind = "retrieval", "baseline"

    def __init__(self, retrieval: InProcessRetrieval, user_state: InMemoryUserState, eligibility: Eligibility,
                 k: int = RESULT_SIZE) -> None:
        self.retrieval, self.user_state, self.eligibility, self.k = retrieval, user_state, eligibility, k

    async def serve(self, session: Session, now_ms: int, request_index: int) -> list[ServedItem]:
        hits, _ = await self.retrieval.retrieve(session.viewer_id, None, 4 * self.k + 100, [])
        if not hits:
            return []
        ids = np.array([h[0] for h in hits], np.int64)
        authors = np.array([h[1] for h in hits], np.int64)
        scores = np.array([h[2] for h in hits], np.float64)
        created = np.array([snowflake_timestamp_ms(int(p)) or 0 for p in ids.tolist()], np.int64)
        keep = await self.eligibility.keep(session.viewer_id, ids, authors, created, now_ms)
        return _items(ids[keep][: self.k], authors[keep][: self.k], created[keep][: self.k], scores[keep][: self.k])
