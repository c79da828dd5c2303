"""A freshly initialised ranker served from its own process, as deployed.

In the single-process local stack the ranker's request decoding, response encoding and model
thread share one interpreter (and its GIL and garbage collector) with home-mixer. The local
stack can start it here instead (``home_mixer.child_process``), so home-mixer's latency
includes a real cross-process call. The child builds the same seeded engine as the in-process
stack (``fresh_ranker_engine(seed)``), so scores do not depend on where the ranker runs.
"""

from __future__ import annotations

from home_mixer.child_process import ChildService, Stopper


async def serve_fresh_ranker(seed: int, size: str = "test") -> tuple[int, Stopper]:
    """Child: serve ``fresh_ranker_engine(seed, size)`` on a free loopback port."""
    from home_mixer.local_stack import fresh_ranker_engine
    from phoenix.ranker.server import configure_torch_threads
    from phoenix.ranker.server import serve as serve_ranker

    configure_torch_threads()
    handle, service = await serve_ranker(fresh_ranker_engine(seed, size))

    async def stop() -> None:
        await handle.stop(0.5)
        await service.batcher.stop()

    return handle.port, stop


def start_ranker_process(seed: int = 0, size: str = "test") -> ChildService:
    """Spawn the ranker child; ``await child.ready(timeout)`` for its port."""
    return ChildService.start("ranker", serve_fresh_ranker, seed, size)

