"""``RedisFeedStateStore``: home-mixer's per-viewer state in Redis (keys from ``user_state.keys``).

* served history: a LIST of ``"post_id:served_at_ms"`` newest first, capped, so the served
  filter can take "served in the last 10 minutes, at most 100 ids" (X's
  ExcludeServedTweetIds) without a scan;
* impression Bloom filter: a Redis bitmap set with SETBIT (atomic, no read-modify-write race
  between concurrent requests) and read with one GET, expiring 48 h after the last write
  because the age filter drops anything older anyway;
* scored-candidate cache: zstd-compressed column-wise form of the posts (a JSON header over binary columns)
  (:mod:`home_mixer.scored_posts_codec`) with a 180 s TTL, one key per request shape
  (``scored-posts_{viewer}`` + ``:variant``), like X's key variants. The weighted-score terms
  of the explanations are left out: they are derived from the cached ranker predictions and
  the weights, and the weighted scorer recomputes them when the cache is replayed; with them
  each write was ~2.3 MB of JSON (750 posts x ~25 terms), ~100 ms of encoding per request.
  Compression (zstd level 1) runs in a worker thread (zstd releases the GIL).

The three per-request reads (served history, impression filter, cached posts) go through a
``ReadBatch`` (shared with the user-state reader when both live in one Redis), so they join the
other query hydrators' reads in one round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import redis.asyncio as aioredis
import zstandard

from home_mixer import scored_posts_codec
from home_mixer.bloom import BloomFilter
from home_mixer.models import PostCandidate
from home_mixer.params import MAX_POST_AGE_S
from user_state import keys
from user_state.batched_reads import ReadBatch

SERVED_HISTORY_CAP = 50 * 35
"""X keeps the last 50 responses; at 35 posts each this bounds the list."""
ZSTD_LEVEL = 1
"""zstd's fastest: a 750-post payload (~285 KB) compresses in ~0.4 ms to ~167 KB at level 1, ~1.0 ms
to ~164 KB at the default 3 (mostly packed floats, which no level shrinks much); level 6 took
~50 ms."""


def cache_form(post: PostCandidate) -> dict:
    """What the scored-candidate cache stores of a post: ``to_dict`` without the derived terms."""
    return post.to_dict(with_terms=False)


class RedisFeedStateStore:
    """Implements :class:`home_mixer.deps.FeedStateStore` over ``redis.asyncio``."""

    def __init__(
        self,
        client: aioredis.Redis,
        bloom_size_cap: int = 10_000,
        bloom_false_positive_rate: float = 0.001,
        batch: ReadBatch | None = None,
    ) -> None:
        if batch is not None and batch.client is not client:
            raise ValueError("the read batch must send on this store's Redis client")
        self._r = client
        self.batch = batch or ReadBatch(client)
        self._bloom_size_cap = bloom_size_cap
        self._bloom_fpr = bloom_false_positive_rate
        self._proto_bloom = BloomFilter(bloom_size_cap, bloom_false_positive_rate)

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> RedisFeedStateStore:
        return cls(aioredis.Redis.from_url(url), **kwargs)  # type: ignore[arg-type]

    async def close(self) -> None:
        await self._r.aclose()

    # served history ---------------------------------------------------------------------
    async def served_ids(self, viewer_id: int, now_ms: int, window_ms: int, max_ids: int) -> set[int]:
        raw = await self.batch.read("LRANGE", keys.served_history(viewer_id), 0, SERVED_HISTORY_CAP - 1)
        out: set[int] = set()
        for entry in raw:
            try:
                pid, ts = (int(x) for x in entry.split(b":", 1))
            except ValueError:
                continue  # a malformed entry never breaks a request
            if now_ms - ts > window_ms:
                break  # newest first: everything after is older still
            out.add(pid)
            if len(out) >= max_ids:
                break
        return out

    async def record_served(self, viewer_id: int, post_ids: Sequence[int], now_ms: int) -> None:
        if not post_ids:
            return
        key = keys.served_history(viewer_id)
        entries = [f"{int(p)}:{int(now_ms)}" for p in reversed(post_ids)]
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.lpush(key, *entries)
            pipe.ltrim(key, 0, SERVED_HISTORY_CAP - 1)
            pipe.expire(key, MAX_POST_AGE_S)
            await pipe.execute()

    # impression bloom filter ------------------------------------------------------------
    async def impression_bloom(self, viewer_id: int) -> BloomFilter | None:
        raw = await self.batch.read("GET", keys.impression_bloom(viewer_id))
        if raw is None:
            return None
        return BloomFilter(self._bloom_size_cap, self._bloom_fpr, bits=raw)

    async def add_impressions(self, viewer_id: int, post_ids: Sequence[int]) -> None:
        if not post_ids:
            return
        key = keys.impression_bloom(viewer_id)
        async with self._r.pipeline(transaction=True) as pipe:
            for pid in post_ids:
                for pos in self._proto_bloom.positions(int(pid)):
                    pipe.setbit(key, pos, 1)
            pipe.expire(key, MAX_POST_AGE_S)
            await pipe.execute()

    # scored-candidate cache -------------------------------------------------------------
    @staticmethod
    def _cache_key(viewer_id: int, variant: str) -> str:
        return f"{keys.scored_posts_cache(viewer_id)}:{variant}"

    async def cached_posts(self, viewer_id: int, variant: str) -> list[PostCandidate]:
        raw = await self.batch.read("GET", self._cache_key(viewer_id, variant))
        if raw is None:
            return []
        return scored_posts_codec.decode(zstandard.ZstdDecompressor().decompress(raw))

    async def cache_posts(
        self, viewer_id: int, variant: str, posts: Sequence[PostCandidate], ttl_s: int
    ) -> None:
        # Encoding 750 posts is ~4 ms of pure Python: in a worker thread it mostly runs while the
        # event loop waits on I/O instead of holding up the next request's stages.
        blob = await asyncio.to_thread(_compressed_payload, posts)
        await self._r.set(self._cache_key(viewer_id, variant), blob, ex=ttl_s)


def _compressed_payload(posts: Sequence[PostCandidate]) -> bytes:
    """The zstd-compressed cache payload of ``posts`` (reads the posts only; thread-safe)."""
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(scored_posts_codec.encode(posts))
