"""Phoenix retrieval for the local stack: in its own process, as deployed (``child_process``),
or in the caller's; both through :func:`start_live_retrieval`.

The child builds the same seeded model as the in-process stack (``fresh_retrieval_model(seed)``),
fills its live index from the posts topic itself, and reports its port once the index has
caught up and the service answers, so retrieval results do not depend on where it runs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from home_mixer.child_process import ChildService, Stopper
from infra.grpc_server import ServerHandle
from phoenix.retrieval.index import IndexConfig
from phoenix.retrieval.live_index import LiveIndex
from phoenix.retrieval.model import TwoTowerModel
from phoenix.retrieval.server import serve
from user_state.redis_state import RedisUserState


@dataclass
class LiveRetrieval:
    """A retrieval service over a live index that has caught up with the posts topic."""

    live: LiveIndex
    handle: ServerHandle
    stop: Stopper


async def start_live_retrieval(model: TwoTowerModel, name: str, redis_url: str, bootstrap: str, posts_topic: str,
                               catch_up_timeout_s: float) -> LiveRetrieval:
    """Fill a live index of ``model`` from ``posts_topic`` and serve it on a free loopback port;
    returns once the index has caught up and the service answers (raises, stopped, otherwise)."""
    live = LiveIndex(model, name, IndexConfig(dim=model.cfg.dim))
    consumer = live.consumer(posts_topic, bootstrap=bootstrap).start()
    if not await asyncio.to_thread(consumer.wait_caught_up, catch_up_timeout_s):
        await asyncio.to_thread(consumer.stop)
        raise TimeoutError(f"the retrieval index did not catch up within {catch_up_timeout_s:.0f} s")
    state = RedisUserState.from_url(redis_url)
    handle, service = await serve(live, state)

    async def stop() -> None:
        await handle.stop(0.5)
        service.close()
        await state.close()
        await asyncio.to_thread(consumer.stop)

    return LiveRetrieval(live, handle, stop)


async def serve_retrieval(seed: int, redis_url: str, bootstrap: str, posts_topic: str,
                          catch_up_timeout_s: float) -> tuple[int, Stopper]:
    """Child: retrieval over a live index of ``posts_topic``; returns once it serves."""
    from home_mixer.local_stack import fresh_retrieval_model
    from phoenix.ranker.server import configure_torch_threads

    configure_torch_threads()  # as in the local stack's process: 1 thread on the shared cores
    started = await start_live_retrieval(fresh_retrieval_model(seed), f"fresh-retrieval-{seed}", redis_url,
                                         bootstrap, posts_topic, catch_up_timeout_s)
    return started.handle.port, started.stop


def start_retrieval_process(seed: int, redis_url: str, bootstrap: str, posts_topic: str,
                            catch_up_timeout_s: float) -> ChildService:
    """Spawn the retrieval child; ``await child.ready(timeout)`` for its port."""
    return ChildService.start("retrieval", serve_retrieval, seed, redis_url, bootstrap, posts_topic,
                              catch_up_timeout_s)
