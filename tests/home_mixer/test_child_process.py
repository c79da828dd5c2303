"""``home_mixer.child_process``: a service in a spawned child reports its port once it serves,
stops cleanly when told, and a child that cannot start says why."""

from __future__ import annotations

import asyncio

import pytest

from home_mixer.child_process import ChildService, Stopper, child_service


async def serve_greeting(greeting: str) -> tuple[int, Stopper]:
    """Child: a TCP server on a free loopback port answering ``greeting`` to every connection."""

    async def greet(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(greeting.encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(greet, "127.0.0.1", 0)

    async def stop() -> None:
        server.close()
        await server.wait_closed()

    return server.sockets[0].getsockname()[1], stop


async def serve_nothing(reason: str) -> tuple[int, Stopper]:
    raise ValueError(reason)


async def _read(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = await reader.read()
    writer.close()
    return data


def test_child_serves_until_stopped_then_exits_cleanly() -> None:
    async def go() -> tuple[bytes, ChildService]:
        async with child_service("greeter", serve_greeting, "hello from the child", start_timeout_s=60) as child:
            assert child.address == f"127.0.0.1:{child.port}"
            return await _read(child.port or 0), child

    answer, child = asyncio.run(go())
    assert answer == b"hello from the child"
    assert child.exitcode == 0  # told to stop: stopped its server and returned, not killed


def test_a_child_that_cannot_start_says_why() -> None:
    async def go() -> None:
        async with child_service("broken", serve_nothing, "no checkpoint here", start_timeout_s=60):
            pytest.fail("a child that raised must not be yielded")

    with pytest.raises(RuntimeError, match="broken process failed to start: ValueError: no checkpoint here"):
        asyncio.run(go())


def test_the_address_is_refused_before_the_child_serves() -> None:
    async def go() -> None:
        child = ChildService.start("greeter", serve_greeting, "hi")
        try:
            with pytest.raises(RuntimeError, match="not serving yet"):
                _ = child.address
            await child.ready(60)
            assert child.address.endswith(f":{child.port}")
        finally:
            await child.stop()

    asyncio.run(go())
