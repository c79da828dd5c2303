"""A freshly initialised ranker served from its own process, as deployed.

In the single-process local stack the ranker's request decoding, response encoding and model
thread share one interpreter (and its GIL and garbage collector) with home-mixer. The feed
benchmark starts it here instead, in a spawned child (a clean interpreter: no inherited event
loop or gRPC state), so home-mixer's latency includes a real cross-process call.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection

STOP = "stop"


def _serve(seed: int, conn: Connection) -> None:
    """Child: serve ``fresh_ranker_engine(seed)``, report the port, run until told to stop."""
    from home_mixer.local_stack import fresh_ranker_engine
    from phoenix.ranker.server import configure_torch_threads
    from phoenix.ranker.server import serve as serve_ranker

    async def main() -> None:
        configure_torch_threads()
        handle, service = await serve_ranker(fresh_ranker_engine(seed))
        conn.send(handle.port)
        with contextlib.suppress(EOFError):  # the parent died: stop as well
            await asyncio.to_thread(conn.recv)
        await handle.stop(0.5)
        await service.batcher.stop()

    asyncio.run(main())


@contextlib.asynccontextmanager
async def ranker_process(seed: int = 0, start_timeout_s: float = 120.0) -> AsyncIterator[int]:
    """Yield the port of a ranker serving in a child process; stop (then kill) it on exit."""
    parent, child = mp.get_context("spawn").Pipe()
    process = mp.get_context("spawn").Process(target=_serve, args=(seed, child), daemon=True,
                                              name="local-stack-ranker")
    process.start()
    try:
        if not await asyncio.to_thread(parent.poll, start_timeout_s):
            raise TimeoutError(f"the ranker process did not start within {start_timeout_s:.0f} s")
        try:
            port = int(parent.recv())
        except EOFError:
            await asyncio.to_thread(process.join, 5)
            raise RuntimeError(f"the ranker process exited (code {process.exitcode}) before serving") from None
        yield port
    finally:
        with contextlib.suppress(OSError):
            parent.send(STOP)
        await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.kill()
            await asyncio.to_thread(process.join, 5)
        parent.close()
