"""For You feed benchmark: GetForYouFeed latency over gRPC with every service on this machine.

``python -m bench feed [--quick] [--record]``

Load: viewers that each follow the same 200 authors with 8 posts each over the last 40 h
(1,600 in-network posts: Thunder returns its 1,200 cap) and 4,000 out-of-network posts by
1,000 other authors (retrieval returns its 1,000 cap), so every request scores ~2,200
candidates. Events go through the real broker into Thunder, the user-state ingest (Redis) and
the retrieval index; retrieval and the ranker are freshly initialised small models.
Every request is for a NEW viewer, so the scored-candidate cache never short-cuts the
pipeline. One request in flight. The ranker serves from its own process (``--single-process``
keeps it in this one); Thunder, retrieval, the ingest consumers and home-mixer share this Python
process (and its GIL), so latencies are an upper bound of a deployment on the same cores.
Reports p50/p99/qps of non-debug requests with their per-stage p50 (``timed_stage_p50_ms``) and
pipeline p50 (``timed_pipeline_p50_ms``: the rest of ``p50_ms`` is gRPC, the client, which shares
this event loop, and the previous request's side effects, which start once its response is out
and overlap the next request), per-stage p50 of debug requests
(``stage_p50_ms``: those also build every explanation) and the 1-minute load average before and
after the timed requests: the box is shared, and its load moves these numbers by tens of percent.
``process_cpu_ms_per_request`` (all threads of the one process: every service plus the side
effects, the client, Kafka and the ingest consumers) moves much less with the load;
``event_loop_cpu_ms_per_request`` is the part spent on the event-loop thread (every asyncio
service: the pipeline, Thunder, retrieval), the rest is gRPC core, Kafka and worker threads.
``--profile FILE`` runs cProfile over the timed requests (the event loop thread, i.e. every
asyncio service; the ranker's model thread and the Kafka threads are not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import pstats
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

from google.protobuf.message import Message

from bench.record import emit
from bench.synthetic_feed import HOUR_MS, FeedWorld
from candidate_pipeline.stats import PipelineStats
from home_mixer.local_stack import local_stack
from home_mixer.settings import HomeMixerSettings
from infra.embedded import EmbeddedServices

WORLD = FeedWorld(followed=200, posts_per_followed=8, oon_authors=1000, oon_posts=4000, span_ms=40 * HOUR_MS)
FIRST_VIEWER = 1


def load_events(n_viewers: int, now_ms: int) -> Iterator[tuple[str, Message]]:
    """The bench world; viewers ``FIRST_VIEWER..`` each follow every followed author."""
    viewers = range(FIRST_VIEWER, FIRST_VIEWER + n_viewers)
    return WORLD.events(now_ms, ((v, WORLD.followed_ids) for v in viewers))


def record_pipeline_stats(pipeline: Any) -> list[PipelineStats]:
    """Keep the ``PipelineStats`` of every request ``pipeline`` executes from now on (the timed
    requests are not debug requests, so their per-stage latencies come from here)."""
    seen: list[PipelineStats] = []
    execute = pipeline.execute

    async def recording(query: Any, **options: Any) -> Any:
        result = await execute(query, **options)
        seen.append(result.stats)
        return result

    pipeline.execute = recording
    return seen


def stage_p50s(stats: list[PipelineStats]) -> dict[str, float]:
    """Median latency per stage (stages that ran) over many requests' stats."""
    per_stage: dict[str, list[float]] = {}
    for request in stats:
        for stage in request.stages:
            if stage.status != "disabled":
                per_stage.setdefault(stage.name, []).append(stage.latency_ms)
    return {name: round(statistics.median(ms), 2) for name, ms in per_stage.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def run(n_requests: int, n_debug: int, warmup: int, profile: str | None = None,
              single_process: bool = False) -> dict:
    n_viewers = warmup + n_requests + n_debug
    now_ms = int(time.time() * 1000)
    with EmbeddedServices.start() as svc:
        settings = HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0, request_deadline_s=5,
                                     client_timeout_s=4)
        started = time.perf_counter()
        async with local_stack(load_events(n_viewers, now_ms), bootstrap=svc.kafka_bootstrap, redis_url=svc.redis_url,
                               topic_prefix=f"bench{uuid.uuid4().hex[:6]}-", settings=settings,
                               ranker_in_process=single_process) as stack:
            setup_s = time.perf_counter() - started
            viewers = iter(range(FIRST_VIEWER, FIRST_VIEWER + n_viewers))
            timed_stats = record_pipeline_stats(stack.home_mixer.pipeline)
            for _ in range(warmup):
                await stack.client.get_feed(next(viewers), timeout_s=30)
            latencies, sizes, retrieved, degraded = [], [], [], 0
            profiler = cProfile.Profile() if profile else None
            load_before = os.getloadavg()
            cpu_before = time.process_time()
            loop_cpu_before = time.thread_time()
            if profiler is not None:
                profiler.enable()
            timed_stats.clear()
            t0 = time.perf_counter()
            for _ in range(n_requests):
                s = time.perf_counter()
                feed = await stack.client.get_feed(next(viewers), timeout_s=10)
                latencies.append((time.perf_counter() - s) * 1000)
                sizes.append(len(feed.posts))
                retrieved.append(feed.retrieved_count)
                degraded += bool(feed.degraded)
            wall = time.perf_counter() - t0
            cpu_s = time.process_time() - cpu_before
            loop_cpu_s = time.thread_time() - loop_cpu_before
            load_after = os.getloadavg()
            timed = list(timed_stats)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            stage_ms: dict[str, list[float]] = {}
            for _ in range(n_debug):
                feed = await stack.client.get_feed(next(viewers), debug=True, timeout_s=10)
                for t in feed.stages:
                    if t.status != "disabled":
                        stage_ms.setdefault(t.stage, []).append(t.latency_ms)
                await stack.home_mixer.pipeline.drain_side_effects()
    return {
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "qps": round(n_requests / wall, 2),
        "process_cpu_ms_per_request": round(cpu_s * 1000 / n_requests, 1),
        "event_loop_cpu_ms_per_request": round(loop_cpu_s * 1000 / n_requests, 1),
        "requests": n_requests,
        "in_flight": 1,
        "candidates_retrieved_p50": percentile(retrieved, 50),
        "feed_size_p50": percentile(sizes, 50),
        "degraded_requests": degraded,
        "stage_p50_ms": {k: round(statistics.median(v), 2) for k, v in stage_ms.items()},
        "timed_pipeline_p50_ms": round(statistics.median(s.total_latency_ms for s in timed), 2),
        "timed_stage_p50_ms": stage_p50s(timed),
        "setup_s": round(setup_s, 1),
        "load_avg_1m": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "target": {"p50_ms": 100, "p99_ms": 250},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench feed", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests (within 60 s)")
    parser.add_argument("--record", action="store_true", help="write bench/results/feed.json")
    parser.add_argument("--single-process", action="store_true",
                        help="serve the ranker in the bench process too (default: its own process, as deployed)")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the timed requests (main thread: every asyncio service) into FILE")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    n_requests, n_debug, warmup = (30, 5, 3) if args.quick else (200, 20, 5)
    result = asyncio.run(run(n_requests, n_debug, warmup, args.profile, args.single_process))
    result["quick"] = args.quick
    result["ranker_process"] = "bench process" if args.single_process else "own process"
    emit("feed", result, record=args.record)
    return 0
