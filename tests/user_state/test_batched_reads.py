"""``ReadBatch`` on a real redis-server: the reads of one event-loop turn go out as one pipeline
with the replies ``execute_command`` gives, and a failed or abandoned read fails only itself."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from infra.embedded import free_port
from user_state.batched_reads import ReadBatch

pytestmark = pytest.mark.integration

READS = [("SMEMBERS", "s"), ("LRANGE", "l", 0, -1), ("GET", "g"), ("GET", "absent"),
         ("HMGET", "h", "followers", "impressions"), ("SMEMBERS", "absent")]


async def _fill(client: aioredis.Redis) -> None:
    await client.sadd("s", 1, 2, 3)
    await client.rpush("l", b"a", b"b")
    await client.set("g", b"\x00bits")
    await client.hset("h", mapping={"followers": 7})


def test_one_turns_reads_are_one_round_trip_with_the_plain_replies(redis_url: str, redis_client) -> None:
    async def go() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await _fill(client)
            batch = ReadBatch(client)
            batched = await asyncio.gather(*(batch.read(*command) for command in READS))
            assert batch.round_trips == 1
            assert batched == [await client.execute_command(*command) for command in READS]
            assert batched[0] == {b"1", b"2", b"3"} and batched[4] == [b"7", None]
            await batch.read("GET", "g")
            await batch.read("GET", "g")  # awaited one after the other: a round trip each
            assert batch.round_trips == 3
        finally:
            await client.aclose()

    asyncio.run(go())


def test_identical_reads_are_sent_once_and_each_caller_gets_its_own_reply(redis_url: str, redis_client) -> None:
    async def go() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await _fill(client)
            batch = ReadBatch(client)
            first, second = await asyncio.gather(batch.read("LRANGE", "l", 0, -1), batch.read("LRANGE", "l", 0, -1))
            assert first == second == [b"a", b"b"] and first is not second
            first.append(b"mine")
            assert second == [b"a", b"b"]
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_failing_read_fails_only_its_caller(redis_url: str, redis_client) -> None:
    async def go() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await _fill(client)
            batch = ReadBatch(client)
            wrong_type, members, value = await asyncio.gather(
                batch.read("SMEMBERS", "g"), batch.read("SMEMBERS", "s"), batch.read("GET", "g"),
                return_exceptions=True)
            assert isinstance(wrong_type, ResponseError) and "WRONGTYPE" in str(wrong_type)
            assert members == {b"1", b"2", b"3"} and value == b"\x00bits"
            assert batch.round_trips == 1
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_caller_that_gives_up_leaves_the_others_replies(redis_url: str, redis_client) -> None:
    async def go() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await _fill(client)
            batch = ReadBatch(client)
            abandoned = asyncio.ensure_future(batch.read("GET", "g"))
            kept = asyncio.ensure_future(batch.read("SMEMBERS", "s"))
            await asyncio.sleep(0)  # both queued
            abandoned.cancel()
            assert await kept == {b"1", b"2", b"3"}
            with pytest.raises(asyncio.CancelledError):
                await abandoned
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_lost_connection_fails_every_read_of_the_round_trip() -> None:
    async def go() -> None:
        client = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)  # nothing listens
        try:
            batch = ReadBatch(client)
            replies = await asyncio.gather(batch.read("GET", "g"), batch.read("SMEMBERS", "s"),
                                           return_exceptions=True)
            assert all(isinstance(r, RedisConnectionError) for r in replies), replies
        finally:
            await client.aclose()

    asyncio.run(go())


def test_a_read_needs_a_command() -> None:
    async def go() -> None:
        with pytest.raises(ValueError, match="at least its name"):
            await ReadBatch(aioredis.Redis()).read()

    asyncio.run(go())
