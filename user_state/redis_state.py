"""User state in Redis (key schema: ``user_state.keys``), read by home-mixer and retrieval and
written by the user-state ingest.

Writes are exactly-once per event id: each event is applied by one Lua script that sets the
event's dedup marker with ``SET NX EX`` and applies the change only when the marker was new, so a
check and its apply can never interleave with a concurrent duplicate. Scripts for a whole batch
go in one non-transactional pipeline (one round trip per batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis.asyncio as aioredis
from google.protobuf.message import Message
from redis.exceptions import NoScriptError

from events.world.actions import action_name
from protos import events_pb2, recsys_pb2
from user_state import keys
from user_state.events import IMPRESSION, aggregate_sequence, normalize_keyword, validate
from user_state.reader import AuthorStats
from user_state.settings import UserStateSettings

_ENGAGEMENT_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[7])
redis.call('HINCRBY', KEYS[3], ARGV[4], 1)
redis.call('EXPIRE', KEYS[3], ARGV[6])
if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[4], 'impressions', 1) end
return 1
"""

# KEYS: dedup, following(u), followers(t), author_stats(t), blocked(u), muted(u), muted_kw(u)
# ARGV: dedup_ttl, action, user, target, keyword
_SOCIAL_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local a = ARGV[2]
if a == 'FOLLOW' then
  if redis.call('SADD', KEYS[2], ARGV[4]) == 1 then
    redis.call('SADD', KEYS[3], ARGV[3])
    redis.call('HINCRBY', KEYS[4], 'followers', 1)
  end
elseif a == 'UNFOLLOW' then
  if redis.call('SREM', KEYS[2], ARGV[4]) == 1 then
    redis.call('SREM', KEYS[3], ARGV[3])
    redis.call('HINCRBY', KEYS[4], 'followers', -1)
  end
elseif a == 'BLOCK' then redis.call('SADD', KEYS[5], ARGV[4])
elseif a == 'UNBLOCK' then redis.call('SREM', KEYS[5], ARGV[4])
elseif a == 'MUTE' then redis.call('SADD', KEYS[6], ARGV[4])
elseif a == 'UNMUTE' then redis.call('SREM', KEYS[6], ARGV[4])
elseif a == 'MUTE_KEYWORD' then redis.call('SADD', KEYS[7], ARGV[5])
elseif a == 'UNMUTE_KEYWORD' then redis.call('SREM', KEYS[7], ARGV[5])
end
return 1
"""

# KEYS: dedup, post_core, post_deleted. ARGV: dedup_ttl, 'c'|'d', payload, ttl
_POST_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
if ARGV[2] == 'c' then
  if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4]) end
else
  redis.call('SET', KEYS[3], '1', 'EX', ARGV[4])
  redis.call('DEL', KEYS[2])
end
return 1
"""

DEDUP_NAMESPACE = "user_state"


class RedisUserState:
    def __init__(self, client: aioredis.Redis, settings: UserStateSettings | None = None) -> None:
        self.client = client
        self.settings = settings or UserStateSettings()
        self._shas: dict[str, str] = {}
        self.malformed = 0
        self.ignored = 0

    @classmethod
    def from_url(cls, url: str, settings: UserStateSettings | None = None) -> RedisUserState:
        return cls(aioredis.Redis.from_url(url), settings)

    async def close(self) -> None:
        await self.client.aclose()

    # -- writing -----------------------------------------------------------------------------
    async def _load_scripts(self) -> dict[str, str]:
        # Published only once complete: concurrent apply() calls (one per ingest topic) must never
        # see a half-filled table (that was a KeyError, i.e. lost events, on a fresh start).
        shas = {name: await self.client.script_load(lua)
                for name, lua in (("engagement", _ENGAGEMENT_LUA), ("social", _SOCIAL_LUA), ("post", _POST_LUA))}
        self._shas = shas
        return shas

    async def apply(self, events: Iterable[Message]) -> int:
        """Apply events once each (by event id) in one pipelined round trip; returns how many
        were new. Malformed events are counted and skipped; ``ServedFeed`` is ignored."""
        events = list(events)
        shas = self._shas or await self._load_scripts()
        try:
            return await self._apply(events, shas)
        except NoScriptError:  # Redis restarted and lost its script cache: reload, re-run (idempotent)
            return await self._apply(events, await self._load_scripts())

    async def _apply(self, events: list[Message], shas: dict[str, str]) -> int:
        s = self.settings
        pipe = self.client.pipeline(transaction=False)
        queued = 0
        for e in events:
            if isinstance(e, events_pb2.ServedFeed):
                self.ignored += 1
                continue
            if validate(e) is not None:
                self.malformed += 1
                continue
            marker = keys.dedup(f"{DEDUP_NAMESPACE}.{type(e).__name__}", e.event_id)
            if isinstance(e, events_pb2.EngagementEvent):
                pipe.evalsha(shas["engagement"], 4,
                             marker, keys.user_events(e.user_id), keys.post_counts(e.post_id), keys.author_stats(e.author_id),
                             s.dedup_ttl_s, e.SerializeToString(), s.events_cap, action_name(e.action),
                             "1" if e.action == IMPRESSION and e.author_id > 0 else "0", s.post_ttl_s, s.events_ttl_s)
            elif isinstance(e, events_pb2.SocialGraphEvent):
                u, t = e.user_id, max(e.target_user_id, 0)
                pipe.evalsha(shas["social"], 7,
                             marker, keys.following(u), keys.followers(t), keys.author_stats(t), keys.blocked(u),
                             keys.muted(u), keys.muted_keywords(u),
                             s.dedup_ttl_s, events_pb2.SocialGraphAction.Name(e.action), u, t, normalize_keyword(e.keyword))
            else:
                created = e.WhichOneof("event") == "created"
                post_id = e.created.post_id if created else e.deleted.post_id
                pipe.evalsha(shas["post"], 3, marker, keys.post_core(post_id), keys.post_deleted(post_id),
                             s.dedup_ttl_s, "c" if created else "d",
                             e.created.SerializeToString() if created else b"", s.post_ttl_s)
            queued += 1
        if not queued:
            return 0
        results = await pipe.execute()
        return int(sum(int(r) for r in results))

    # -- reading -----------------------------------------------------------------------------
    async def _read(self, *command: object) -> Any:
        """One read command's parsed reply; the per-user reads go through here, so a subclass can
        send them differently (home-mixer batches a request's viewer reads into one round trip)."""
        return await self.client.execute_command(*command)

    async def action_sequence(self, user_id: int, max_len: int = 1024) -> recsys_pb2.UserActionSequence:
        raw = await self._read("LRANGE", keys.user_events(user_id), 0, -1)
        events = [events_pb2.EngagementEvent.FromString(b) for b in raw]
        post_ids = list(dict.fromkeys(e.post_id for e in events))
        cores = await self.posts(post_ids) if post_ids else {}
        return aggregate_sequence(user_id, events, max_len, cores)

    async def _int_set(self, key: str) -> set[int]:
        return {int(m) for m in await self._read("SMEMBERS", key)}

    async def following(self, user_id: int) -> set[int]:
        return await self._int_set(keys.following(user_id))

    async def followers_of_viewer_among(self, viewer_id: int, author_ids: Iterable[int]) -> set[int]:
        authors = list(dict.fromkeys(author_ids))
        if not authors:
            return set()
        flags = await self.client.smismember(keys.followers(viewer_id), authors)
        return {a for a, f in zip(authors, flags, strict=True) if f}

    async def blocked(self, user_id: int) -> set[int]:
        return await self._int_set(keys.blocked(user_id))

    async def muted(self, user_id: int) -> set[int]:
        return await self._int_set(keys.muted(user_id))

    async def muted_keywords(self, user_id: int) -> set[str]:
        return {m.decode() for m in await self._read("SMEMBERS", keys.muted_keywords(user_id))}

    async def posts(self, post_ids: Iterable[int]) -> dict[int, events_pb2.PostCreated]:
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return {}
        values = await self.client.mget([keys.post_core(p) for p in ids])
        return {p: events_pb2.PostCreated.FromString(v) for p, v in zip(ids, values, strict=True) if v is not None}

    async def engagement_counts(self, post_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        ids = list(dict.fromkeys(post_ids))
        pipe = self.client.pipeline(transaction=False)
        for p in ids:
            pipe.hgetall(keys.post_counts(p))
        rows = await pipe.execute() if ids else []
        return {p: {k.decode(): int(v) for k, v in row.items()} for p, row in zip(ids, rows, strict=True)}

    async def author_stats(self, author_ids: Iterable[int]) -> dict[int, AuthorStats]:
        ids = list(dict.fromkeys(author_ids))
        pipe = self.client.pipeline(transaction=False)
        for a in ids:
            pipe.hmget(keys.author_stats(a), ["followers", "impressions"])
        rows = await pipe.execute() if ids else []
        return {a: AuthorStats(int(f or 0), int(i or 0)) for a, (f, i) in zip(ids, rows, strict=True)}
