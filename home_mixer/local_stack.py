"""Every For You service on this machine, wired the production way, for the e2e test, the feed
benchmark and demos.

Events go through Kafka and reach each store through its real ingest path: Thunder's post
consumer, the user-state ingest into Redis, the retrieval index consumer. Thunder, retrieval,
the ranker and home-mixer then serve over real gRPC. The models are freshly initialised (or
passed in): the stack proves the plumbing and measures speed; model quality is measured by the
Phoenix benchmarks.

By default every service shares this process (one interpreter, one event loop: easy to profile
and to reach into). ``own_processes`` names services (``CHILD_SERVICES``) to serve from their
own spawned processes instead, as X and docker-compose deploy them, so they no longer share
home-mixer's GIL: each child builds the same seeded model and consumes its topics itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Collection, Iterable
from dataclasses import dataclass, field

import torch
from google.protobuf.message import Message

from events.producer import produce
from home_mixer.child_process import ChildService
from home_mixer.feed_client import FeedClient
from home_mixer.ranker_process import start_ranker_process
from home_mixer.retrieval_process import LiveRetrieval, start_live_retrieval, start_retrieval_process
from home_mixer.server import HomeMixerServer, start_home_mixer
from home_mixer.settings import HomeMixerSettings
from home_mixer.thunder_process import start_caught_up_thunder, start_thunder_process
from infra.grpc_server import ServerHandle
from infra.settings import ConnectionSettings
from phoenix.hashing import HashConfig
from phoenix.ranker.config import RANKER_SIZES, sized_config
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.server import configure_torch_threads, default_workers
from phoenix.ranker.server import serve as serve_ranker
from phoenix.retrieval.live_index import LiveIndex
from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel
from phoenix.transformer import TransformerConfig
from thunder.server import ThunderServer
from user_state.ingest import UserStateIngest

log = logging.getLogger(__name__)

CHILD_SERVICES = ("thunder", "retrieval", "ranker")
"""The services ``local_stack(own_processes=...)`` can serve from their own processes."""
CHILD_START_S = 120.0
"""A child's time to import torch and build its model, on top of its catch-up time."""


def fresh_retrieval_model(seed: int = 0, dim: int = 32) -> TwoTowerModel:
    torch.manual_seed(seed)
    cfg = RetrievalConfig(
        dim=dim, transformer=TransformerConfig(dim=dim, num_layers=1, num_q_heads=2, num_kv_heads=1, head_dim=16),
        hashing=HashConfig(num_hashes=2, user_buckets=4001, post_buckets=20011, author_buckets=4001), max_history=32,
    )
    return TwoTowerModel(cfg).eval()


def fresh_ranker_engine(seed: int = 0, size: str = "test") -> RankerEngine:
    """A seeded, untrained ranker of a named size (``phoenix.ranker.config.sized_config``), with
    the ranker server's default chunk workers for torch's current thread count."""
    torch.manual_seed(seed)
    suffix = "" if size == "test" else f"-{size}"
    model = PhoenixRanker(sized_config(size)).eval()
    return RankerEngine(model, f"fresh-ranker-{seed}{suffix}", workers=default_workers(torch.get_num_threads()))


@dataclass
class LocalStack:
    """The running stack; a service served from its own process is None here and in ``children``."""

    connection: ConnectionSettings  # with every service's address
    thunder: ThunderServer | None
    user_state: UserStateIngest
    live_index: LiveIndex | None
    retrieval: ServerHandle | None
    ranker: ServerHandle | None
    home_mixer: HomeMixerServer
    client: FeedClient
    children: dict[str, ChildService] = field(default_factory=dict)


async def _wait(what: str, ready, timeout_s: float) -> None:  # noqa: ANN001 - a blocking () -> bool
    if not await asyncio.to_thread(ready, timeout_s):
        raise TimeoutError(f"{what} did not catch up within {timeout_s:.0f} s")


@contextlib.asynccontextmanager
async def local_stack(
    events: Iterable[tuple[str, Message]],
    *,
    bootstrap: str,
    redis_url: str,
    topic_prefix: str = "",
    ranker: RankerEngine | None = None,
    retrieval_model: TwoTowerModel | None = None,
    settings: HomeMixerSettings | None = None,
    catch_up_timeout_s: float = 60.0,
    own_processes: Collection[str] = (),
    ranker_size: str = "test",
) -> AsyncIterator[LocalStack]:
    """Produce ``events`` to fresh topics, start every service, yield, and stop them all.

    ``own_processes`` (a subset of ``CHILD_SERVICES``) are served from child processes
    (``home_mixer.child_process``) with fresh seeded models: a given ``ranker`` or
    ``retrieval_model`` can only be served in this process. Without a given ``ranker``, the fresh
    one has ``ranker_size`` (``phoenix.ranker.config.RANKER_SIZES``) wherever it runs."""
    unknown = set(own_processes) - set(CHILD_SERVICES)
    if unknown:
        raise ValueError(f"own_processes: unknown services {sorted(unknown)} (known: {', '.join(CHILD_SERVICES)})")
    if ranker_size not in RANKER_SIZES:
        raise ValueError(f"ranker_size: unknown size {ranker_size!r} (known: {', '.join(RANKER_SIZES)})")
    if ranker is not None and "ranker" in own_processes:
        raise ValueError("a given ranker engine can only be served in process")
    if retrieval_model is not None and "retrieval" in own_processes:
        raise ValueError("a given retrieval model can only be served in process")
    connection = ConnectionSettings(
        kafka_bootstrap_servers=bootstrap, redis_url=redis_url,
        topic_posts=f"{topic_prefix}posts", topic_engagements=f"{topic_prefix}engagements",
        topic_social_graph=f"{topic_prefix}social_graph", topic_served=f"{topic_prefix}served",
        topic_dead_letter=f"{topic_prefix}dead_letter",
    )
    topics = connection.topics()
    # Every in-process service shares this process, as the ranker CLI does for its own: torch's
    # default of all cores oversubscribes the box (2 OpenMP threads: ranker 180-1,800 ms per
    # 2,200-candidate request on the loaded 2-core box, 1 thread: 16-26 ms).
    configure_torch_threads()
    started = time.perf_counter()
    stats = await asyncio.to_thread(produce, events, bootstrap=bootstrap, topics=topics)
    log.info("produced %d events in %.1f s", stats.sent, time.perf_counter() - started)

    stack: list = []  # what to stop, in reverse
    try:
        children: dict[str, ChildService] = {}  # spawned first: they start up while this process does
        if "thunder" in own_processes:
            children["thunder"] = start_thunder_process(connection.model_dump(), catch_up_timeout_s)
        if "retrieval" in own_processes:
            children["retrieval"] = start_retrieval_process(0, redis_url, bootstrap, topics.posts, catch_up_timeout_s)
        if "ranker" in own_processes:
            children["ranker"] = start_ranker_process(0, ranker_size)
        stack.extend(child.stop for child in children.values())
        ingest = UserStateIngest(redis_url, bootstrap=bootstrap, topics=topics, group_id=None).start()
        stack.append(lambda: asyncio.to_thread(ingest.stop))
        thunder: ThunderServer | None = None
        if "thunder" not in own_processes:  # the same start as the child's (thunder_process)
            thunder = await start_caught_up_thunder(connection, catch_up_timeout_s)
            stack.append(thunder.stop)
        retrieval: LiveRetrieval | None = None
        if "retrieval" not in own_processes:  # the same start as the child's (retrieval_process)
            retrieval = await start_live_retrieval(retrieval_model or fresh_retrieval_model(), "fresh-retrieval-0",
                                                   redis_url, bootstrap, topics.posts, catch_up_timeout_s)
            stack.append(retrieval.stop)
        await _wait("user-state ingest", ingest.wait_caught_up, catch_up_timeout_s)
        try:
            async with asyncio.TaskGroup() as ready:  # the first failure cancels the other waits
                for child in children.values():
                    ready.create_task(child.ready(CHILD_START_S + catch_up_timeout_s))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        addresses = {name: child.address for name, child in children.items()}
        if retrieval is not None:
            addresses["retrieval"] = f"127.0.0.1:{retrieval.handle.port}"
        ranker_handle: ServerHandle | None = None
        if "ranker" not in own_processes:
            ranker_handle, ranker_service = await serve_ranker(ranker or fresh_ranker_engine(0, ranker_size))
            stack.append(ranker_service.batcher.stop)
            stack.append(lambda: ranker_handle.stop(0.5))
            addresses["ranker"] = f"127.0.0.1:{ranker_handle.port}"
        if thunder is not None:
            addresses["thunder"] = thunder.address
        connection = connection.model_copy(update={f"{name}_addr": addr for name, addr in addresses.items()})
        home_mixer = await start_home_mixer(
            settings or HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0), connection)
        stack.append(home_mixer.stop)
        client = FeedClient(home_mixer.address)
        stack.append(client.close)
        log.info("local stack up in %.1f s (own processes: %s)", time.perf_counter() - started,
                 ", ".join(children) or "none")
        live, retrieval_handle = (retrieval.live, retrieval.handle) if retrieval is not None else (None, None)
        yield LocalStack(connection, thunder, ingest, live, retrieval_handle, ranker_handle, home_mixer, client, children)
    finally:
        for stop in reversed(stack):
            try:
                result = stop()
                if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                    await result
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.exception("error while stopping the local stack")
