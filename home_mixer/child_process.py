"""One local-stack service served from its own spawned child process, as deployed.

X runs Thunder, retrieval and the ranker as separate services, and so does docker-compose. In
one Python process they would share home-mixer's interpreter: its GIL, its garbage collector and
its event loop, so every stage's latency would include the others' work. The local stack can
start each of them here instead, in a ``spawn`` child (a clean interpreter: no inherited event
loop, gRPC or Kafka state) that builds its own models and consumers, serves on a free loopback
port and reports that port once it is ready to answer.

The child is told to stop through a pipe (it then stops its server and consumers in order) and
stops as well when the parent dies (the pipe closes). A child that fails before serving sends
the reason, which the parent raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

STOP = "stop"

Stopper = Callable[[], Awaitable[None]]
"""Stops what a child's serve function started."""

ServeFn = Callable[..., Awaitable[tuple[int, Stopper]]]
"""A module-level coroutine function run in the child: starts serving, returns (port, stopper)
once ready. Module-level, because ``spawn`` pickles it by reference."""


@dataclass(frozen=True)
class ChildFailed:
    """Sent instead of a port by a child whose serve function raised."""

    reason: str


def _child_main(serve: ServeFn, args: tuple[Any, ...], conn: Connection) -> None:
    """Child: run ``serve(*args)``, send the port (or why it failed), serve until told to stop."""

    async def main() -> None:
        try:
            port, stop = await serve(*args)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            conn.send(ChildFailed(f"{type(exc).__name__}: {exc}"))
            return
        conn.send(port)
        try:
            with contextlib.suppress(EOFError):  # the parent died: stop as well
                await asyncio.to_thread(conn.recv)
        finally:
            await stop()

    asyncio.run(main())


class ChildService:
    """A service starting or serving in a spawned child; ``start`` returns at once (children
    started one after another then build their models and catch up in parallel)."""

    def __init__(self, name: str, process: BaseProcess, conn: Connection) -> None:
        self.name = name
        self._process = process
        self._conn = conn
        self.port: int | None = None

    @classmethod
    def start(cls, name: str, serve: ServeFn, *args: Any) -> ChildService:
        context = mp.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(target=_child_main, args=(serve, args, child), daemon=True,
                                  name=f"local-stack-{name}")
        process.start()
        child.close()  # the child holds its own end: EOF here once it exits
        return cls(name, process, parent)

    @property
    def pid(self) -> int:
        assert self._process.pid is not None  # set by start()
        return self._process.pid

    @property
    def address(self) -> str:
        if self.port is None:
            raise RuntimeError(f"the {self.name} process is not serving yet (await ready() first)")
        return f"127.0.0.1:{self.port}"

    async def ready(self, timeout_s: float) -> int:
        """Wait until the child serves; its port. Raises if it failed, exited or took too long."""
        if self.port is not None:
            return self.port
        if not await asyncio.to_thread(self._conn.poll, timeout_s):
            raise TimeoutError(f"the {self.name} process did not start serving within {timeout_s:.0f} s")
        try:
            message = self._conn.recv()
        except EOFError:
            await asyncio.to_thread(self._process.join, 5)
            raise RuntimeError(f"the {self.name} process exited (code {self._process.exitcode}) "
                               "before serving") from None
        if isinstance(message, ChildFailed):
            raise RuntimeError(f"the {self.name} process failed to start: {message.reason}")
        self.port = int(message)
        return self.port

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the child to stop; kill it if it has not exited within ``timeout_s``."""
        with contextlib.suppress(OSError):
            self._conn.send(STOP)
        await asyncio.to_thread(self._process.join, timeout_s)
        if self._process.is_alive():
            self._process.kill()
            await asyncio.to_thread(self._process.join, 5)
        self._conn.close()

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode


@contextlib.asynccontextmanager
async def child_service(name: str, serve: ServeFn, *args: Any,
                        start_timeout_s: float = 120.0) -> AsyncIterator[ChildService]:
    """The ready child serving ``serve(*args)``; stopped (then killed) on exit."""
    child = ChildService.start(name, serve, *args)
    try:
        await child.ready(start_timeout_s)
        yield child
    finally:
        await child.stop()
