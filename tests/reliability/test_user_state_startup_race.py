"""Regression: concurrent first writes to a fresh ``RedisUserState`` (the ingest applies its three
topics concurrently on one event loop) must not see a half-loaded Lua script table.

Found by the reliability suite: a post event applied while the scripts were still loading raised
``KeyError: 'post'``; the consumer loop counted it as a handler error, i.e. the event was lost.
"""

from __future__ import annotations

import asyncio

import pytest

from infra.embedded import RedisServer
from protos import events_pb2
from user_state.redis_state import RedisUserState

pytestmark = pytest.mark.integration


def test_concurrent_first_applies_all_succeed() -> None:
    server = RedisServer().start()
    try:
        async def scenario() -> list[int]:
            state = RedisUserState.from_url(server.url)
            try:
                tasks = []
                for i in range(1, 41):  # start applies one loop step apart, while the first is loading
                    post = events_pb2.PostCreated(post_id=i, author_id=7, created_at=1)
                    tasks.append(asyncio.create_task(state.apply([events_pb2.PostEvent(event_id=f"p{i}", created=post)])))
                    await asyncio.sleep(0)
                return await asyncio.gather(*tasks)
            finally:
                await state.close()

        assert asyncio.run(scenario()) == [1] * 40
    finally:
        server.cleanup()
