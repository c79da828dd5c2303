"""home-mixer's Redis user-state reader: ``RedisUserState`` with the per-candidate reads of a
feed request collapsed into one Redis command each.

A request hydrates ~2,200 candidates from ~1,200 authors. ``RedisUserState`` pipelines one
command per post or author (HGETALL, HMGET, SISMEMBER), and redis-py's per-command cost
(packing, reply parsing, bookkeeping: ~50 us each in pure Python) made each hydrator take
100+ ms of CPU. Here each lookup is ONE server-side Lua script over all the keys, returning
compact replies (only the hits where possible), with the same results as the parent's
methods (tests compare them on a real Redis).

Post core data is immutable once written (a post is only ever deleted, which removes its key),
so parsed ``PostCreated`` messages are kept in a bounded in-process LRU; every read still
asks Redis which of the cached posts still exist (one script returning only the missing ones),
so a deletion is seen by the next request exactly as without the cache. Concurrent identical
``posts`` calls (the core-data and blocked-by hydrators of one request) share one fetch.

The viewer's own keys (engagement list, follow/block/mute sets, muted keywords, own stats) are
read by several query hydrators at once: those reads go through a ``ReadBatch`` (shared with
the feed-state store when both live in one Redis), which sends the commands of one event-loop
turn as one pipeline, i.e. one round trip for the whole first wave of query hydrators; each
hydrator still fails alone (``user_state.batched_reads``).

Ids travel as ONE comma-separated argument and the scripts build the key names from the key
schema's prefix and suffix (``ARGV[1]``/``ARGV[2]``, taken from ``user_state.keys``): redis-py
encodes every command argument in Python (~1-2 us each), and passing ~8,000 key names per
request cost ~15 ms of CPU where one joined string costs ~0.2 ms. The scripts therefore touch
keys they do not declare, of many hash slots: under Redis Cluster they would have to declare
their keys and be split per slot (the key schema says the same of the ingest scripts); that
deployment is designed only.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import redis.asyncio as aioredis

from protos import events_pb2
from user_state import keys
from user_state.batched_reads import ReadBatch
from user_state.reader import AuthorStats
from user_state.redis_state import RedisUserState
from user_state.settings import UserStateSettings

# Every script walks the ids of ARGV[3] (comma-separated) with the key ``ARGV[1] .. id ..
# ARGV[2]``. Replies name hits by id position (1-based) and leave out empty rows, so ids never
# cross the wire twice and a post nobody engaged with costs no reply parsing.
_EACH_KEY = """
local i = 0
for id in string.gmatch(ARGV[3], '[^,]+') do
  i = i + 1
  local k = ARGV[1] .. id .. ARGV[2]
"""
# Usually every cached post still exists: one multi-key EXISTS per 1,000 keys counts them (a
# C loop in Redis) and only a short count looks at each key.
_MISSING_LUA = "local all = {}" + _EACH_KEY + """
  all[i] = k
end
local present = 0
for from = 1, #all, 1000 do
  present = present + redis.call('EXISTS', unpack(all, from, math.min(from + 999, #all)))
end
local gone = {}
if present < #all then
  for j, k in ipairs(all) do
    if redis.call('EXISTS', k) == 0 then gone[#gone + 1] = j end
  end
end
return gone
"""
_HGETALL_LUA = "local out = {}" + _EACH_KEY + """
  local row = redis.call('HGETALL', k)
  if #row > 0 then out[#out + 1] = i; out[#out + 1] = row end
end
return out
"""
# ARGV[4]: the output columns, ';'-separated, each a ','-separated list of count names (first
# present wins). Per post, every column's value: that count, else 0 (an absent hash is all
# zeros), as integers: no field names cross the wire and nothing is decoded in Python. One
# HGETALL walked against a name -> column table costs Redis less than an HMGET of every name.
_COUNT_COLUMNS_LUA = """
local uses, width = {}, 0  -- name -> {column, rank within the column, column, rank, ...}
for group in string.gmatch(ARGV[4], '[^;]+') do
  width = width + 1
  local r = 0
  for name in string.gmatch(group, '[^,]+') do
    r = r + 1
    local u = uses[name] or {}
    u[#u + 1] = width; u[#u + 1] = r
    uses[name] = u
  end
end
local out = {}
""" + _EACH_KEY + """
  local base = #out
  for j = 1, width do out[base + j] = 0 end
  local row = redis.call('HGETALL', k)
  local best = {}
  for j = 1, #row, 2 do
    local u = uses[row[j]]
    if u then
      for m = 1, #u, 2 do
        local c, r = u[m], u[m + 1]
        if best[c] == nil or r < best[c] then best[c] = r; out[base + c] = tonumber(row[j + 1]) end
      end
    end
  end
end
return out
"""
_AUTHOR_STATS_LUA = "local out = {}" + _EACH_KEY + """
  local v = redis.call('HMGET', k, 'followers', 'impressions')
  if v[1] or v[2] then
    out[#out + 1] = i; out[#out + 1] = v[1] or '0'; out[#out + 1] = v[2] or '0'
  end
end
return out
"""
_MEMBER_OF_LUA = "local hits = {}" + _EACH_KEY + """
  if redis.call('SISMEMBER', k, ARGV[4]) == 1 then hits[#hits + 1] = i end
end
return hits
"""
_HAS_MEMBERS_LUA = """
local hits = {}
local i = 0
for id in string.gmatch(ARGV[1], '[^,]+') do
  i = i + 1
  if redis.call('SISMEMBER', KEYS[1], id) == 1 then hits[#hits + 1] = i end
end
return hits
"""


def _key_template(key_of: Callable[[int], str]) -> tuple[str, str]:
    """(prefix, suffix) of a per-id key of the schema, so Lua can build ``prefix .. id .. suffix``."""
    marker = "9182736450"
    prefix, found, suffix = key_of(int(marker)).partition(marker)
    if not found:
        raise ValueError(f"key schema {key_of.__name__} does not embed the id")
    return prefix, suffix


_POST_CORE = _key_template(keys.post_core)
_POST_COUNTS = _key_template(keys.post_counts)
_AUTHOR_STATS = _key_template(keys.author_stats)
_BLOCKED = _key_template(keys.blocked)


def _joined(ids: Iterable[int]) -> str:
    """One script argument for many ids (ints only: a stray string must not inject a separator).

    ``int.__repr__`` writes the digits of an int (a bool too) and refuses anything else: ~3x
    faster than ``str(int(i))`` over the ~2,000 ids of each of a request's five lookups; other
    int-likes (numpy integers, digit strings) are converted by ``int`` as before."""
    ids = ids if isinstance(ids, list | tuple) else list(ids)
    try:
        return ",".join(map(int.__repr__, ids))
    except TypeError:
        return ",".join(map(str, map(int, ids)))

POST_CACHE_SIZE = 200_000
"""Parsed posts kept in process: Thunder's 48 h window of a busy feed fits; ~100 MB at most."""


class PostCache:
    """A bounded LRU of parsed ``PostCreated`` by id (read-only messages: never mutate them)."""

    def __init__(self, max_size: int = POST_CACHE_SIZE) -> None:
        if max_size < 0:
            raise ValueError(f"post cache size must be >= 0, got {max_size}")
        self.max_size = max_size
        self._posts: OrderedDict[int, events_pb2.PostCreated] = OrderedDict()

    def __len__(self) -> int:
        return len(self._posts)

    def get(self, post_id: int) -> events_pb2.PostCreated | None:
        post = self._posts.get(post_id)
        if post is not None:
            self._posts.move_to_end(post_id)
        return post

    def get_many(self, post_ids: Sequence[int]) -> list[events_pb2.PostCreated | None]:
        """:meth:`get` of each id, in C-level passes (a request looks up ~2,000)."""
        found = list(map(self._posts.get, post_ids))
        deque(map(self._posts.move_to_end, [p for p, post in zip(post_ids, found, strict=True) if post is not None]),
              maxlen=0)
        return found

    def put(self, post_id: int, post: events_pb2.PostCreated) -> None:
        if not self.max_size:
            return
        self._posts[post_id] = post
        self._posts.move_to_end(post_id)
        while len(self._posts) > self.max_size:
            self._posts.popitem(last=False)

    def discard(self, post_id: int) -> None:
        self._posts.pop(post_id, None)


class FeedUserStateReader(RedisUserState):
    def __init__(self, client: aioredis.Redis, settings: UserStateSettings | None = None,
                 post_cache_size: int = POST_CACHE_SIZE, batch: ReadBatch | None = None) -> None:
        super().__init__(client, settings)
        if batch is not None and batch.client is not client:
            raise ValueError("the read batch must send on this reader's Redis client")
        self.batch = batch or ReadBatch(client)
        self.post_cache = PostCache(post_cache_size)
        self._inflight: dict[tuple[int, ...], asyncio.Future[dict[int, events_pb2.PostCreated]]] = {}
        self._missing = client.register_script(_MISSING_LUA)
        self._hgetall = client.register_script(_HGETALL_LUA)
        self._count_columns = client.register_script(_COUNT_COLUMNS_LUA)
        self._author_stats = client.register_script(_AUTHOR_STATS_LUA)
        self._member_of = client.register_script(_MEMBER_OF_LUA)
        self._has_members = client.register_script(_HAS_MEMBERS_LUA)

    @classmethod
    def from_url(cls, url: str, settings: UserStateSettings | None = None) -> FeedUserStateReader:
        return cls(aioredis.Redis.from_url(url), settings)

    async def _read(self, *command: object) -> Any:
        return await self.batch.read(*command)

    async def posts(self, post_ids: Iterable[int]) -> dict[int, events_pb2.PostCreated]:
        """Core data of the known, not deleted posts among ``post_ids`` (as the parent)."""
        ids = tuple(dict.fromkeys(post_ids))
        if not ids:
            return {}
        shared = self._inflight.get(ids)
        if shared is not None:
            return dict(await asyncio.shield(shared))
        future: asyncio.Future[dict[int, events_pb2.PostCreated]] = asyncio.get_running_loop().create_future()
        self._inflight[ids] = future
        try:
            result = await self._fetch_posts(ids)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody shared it
            raise
        else:
            future.set_result(result)
            return dict(result)
        finally:
            del self._inflight[ids]

    async def _fetch_posts(self, ids: tuple[int, ...]) -> dict[int, events_pb2.PostCreated]:
        found = self.post_cache.get_many(ids)
        cached = [(p, post) for p, post in zip(ids, found, strict=True) if post is not None]
        misses = [p for p, post in zip(ids, found, strict=True) if post is None]
        # Two plain commands, not a pipeline: a pipeline with a script first asks Redis whether
        # the script is loaded (one more round trip, which queued this read behind the other
        # hydrators' scripts); a plain script call sends EVALSHA at once and loads on NOSCRIPT.
        reads = []
        if cached:
            reads.append(self._missing(args=[*_POST_CORE, _joined(p for p, _ in cached)]))
        if misses:
            reads.append(self.client.mget([keys.post_core(p) for p in misses]))
        replies = await asyncio.gather(*reads) if len(reads) > 1 else [await reads[0]]
        out: dict[int, events_pb2.PostCreated] = dict(cached)
        if cached:
            for i in replies[0]:
                p = cached[int(i) - 1][0]
                self.post_cache.discard(p)
                del out[p]
        if misses:
            for p, raw in zip(misses, replies[-1], strict=True):
                if raw is not None:
                    post = events_pb2.PostCreated.FromString(raw)
                    self.post_cache.put(p, post)
                    out[p] = post
        return out

    async def engagement_counts(self, post_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return {}
        flat = await self._hgetall(args=[*_POST_COUNTS, _joined(ids)])
        out: dict[int, dict[str, int]] = {p: {} for p in ids}
        for j in range(0, len(flat), 2):
            out[ids[int(flat[j]) - 1]] = _counts(flat[j + 1])
        return out

    async def engagement_count_columns(self, post_ids: Sequence[int], columns: Sequence[Sequence[str]]) -> np.ndarray:
        """``[len(post_ids), len(columns)]`` int64: column k is, per post, the first of the count
        names ``columns[k]`` its counts have, else 0 (the values ``engagement_counts`` holds,
        read without a dict per post)."""
        names = [n for group in columns for n in group]
        if any(not n or "," in n or ";" in n for n in names) or any(not group for group in columns):
            raise ValueError(f"count columns need non-empty names without commas or semicolons, got {columns!r}")
        if not post_ids or not columns:
            return np.zeros((len(post_ids), len(columns)), np.int64)
        flat = await self._count_columns(
            args=[*_POST_COUNTS, _joined(post_ids), ";".join(",".join(group) for group in columns)]
        )
        return np.array(flat, dtype=np.int64).reshape(len(post_ids), len(columns))

    async def author_stats(self, author_ids: Iterable[int]) -> dict[int, AuthorStats]:
        ids = list(dict.fromkeys(author_ids))
        if not ids:
            return {}
        if len(ids) == 1:  # the viewer's own: a plain HMGET joins the request's batched round trip
            followers, impressions = await self._read("HMGET", keys.author_stats(ids[0]), "followers", "impressions")
            return {ids[0]: AuthorStats(int(followers or 0), int(impressions or 0))}
        flat = await self._author_stats(args=[*_AUTHOR_STATS, _joined(ids)])
        empty = AuthorStats(0, 0)
        out = dict.fromkeys(ids, empty)
        for j in range(0, len(flat), 3):
            out[ids[int(flat[j]) - 1]] = AuthorStats(int(flat[j + 1]), int(flat[j + 2]))
        return out

    async def blockers_of_viewer_among(self, viewer_id: int, user_ids: Iterable[int]) -> set[int]:
        """The users among ``user_ids`` whose block list contains ``viewer_id``."""
        users = list(dict.fromkeys(user_ids))
        if not users:
            return set()
        hits = await self._member_of(args=[*_BLOCKED, _joined(users), viewer_id])
        return {users[int(i) - 1] for i in hits}

    async def followers_of_viewer_among(self, viewer_id: int, author_ids: Iterable[int]) -> set[int]:
        """The authors among ``author_ids`` who follow the viewer (one script, ids joined)."""
        authors = list(dict.fromkeys(author_ids))
        if not authors:
            return set()
        hits = await self._has_members(keys=[keys.followers(viewer_id)], args=[_joined(authors)])
        return {authors[int(i) - 1] for i in hits}


def _counts(row: list[bytes] | dict[bytes, bytes]) -> dict[str, int]:
    """A HGETALL reply from Lua (a flat ``[field, value, ...]`` list) as ``{name: count}``."""
    if isinstance(row, dict):  # RESP3 may already map it
        return {k.decode(): int(v) for k, v in row.items()}
    return {row[i].decode(): int(row[i + 1]) for i in range(0, len(row), 2)}
