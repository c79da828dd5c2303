"""For You feed benchmark: GetForYouFeed latency over gRPC with every service on this machine.

``python -m bench feed [--quick] [--record] [--ranker-size SIZE] [--in-process NAMES | --single-process]``

Load: viewers that each follow the same 200 authors with 8 posts each over the last 40 h
(1,600 in-network posts: Thunder returns its 1,200 cap) and 4,000 out-of-network posts by
1,000 other authors (retrieval returns its 1,000 cap), so every request scores ~2,200
candidates. Events go through the real broker into Thunder, the user-state ingest (Redis) and
the retrieval index; retrieval and the ranker are freshly initialised small models (seeded: the
same wherever they run). The ranker is the test size by default (d=32, 2 layers, history 16);
``--ranker-size serving`` serves the ranker bench's model (d=128, 4 layers, history 320) instead,
``small`` the size docker-compose trains (d=64, 2 layers, history 128). Every request is for a NEW viewer, so the scored-candidate cache never
short-cuts the pipeline. One request in flight.

Deployed as in production: Thunder, retrieval and the ranker each serve from their own process
(``home_mixer.local_stack(own_processes=...)``: each consumes its own topics), so they do not
share home-mixer's GIL; home-mixer, the user-state ingest and the bench client share this
process (and its event loop). ``--in-process thunder,retrieval`` serves the named services in
this process instead, ``--single-process`` all three (one interpreter: what ``--profile``
sees); the output says where each ran (``thunder_process`` etc.).

Reports p50/p99/qps of non-debug requests with their per-stage p50 (``timed_stage_p50_ms``) and
pipeline p50 (``timed_pipeline_p50_ms``: the rest of ``p50_ms`` is gRPC, the client, which shares
this event loop, and the previous request's side effects, which start once its response is out
and overlap the next request), per-stage p50 of debug requests
(``stage_p50_ms``: those also build every explanation) and the 1-minute load average before and
after the timed requests: the box is shared, and its load moves these numbers by tens of percent;
so does the VM's own speed at a load near zero, which ``host_probe_ms`` (a fixed reference
workload, ``bench.host_probe``, before and after) shows.
``process_cpu_ms_per_request`` (all threads of this process: home-mixer with its side effects,
the client, Kafka, the ingest consumers, and every service served in process) moves much less
with the load; ``child_cpu_ms_per_request`` is each child process's CPU (all its threads) and
``total_cpu_ms_per_request`` the sum; ``event_loop_cpu_ms_per_request`` is the part spent on
this process's event-loop thread (home-mixer's pipeline and every in-process asyncio service),
the rest is gRPC core, Kafka and worker threads.
``--profile FILE`` runs cProfile over the timed requests (this process's event loop thread; the
ranker's model thread, the Kafka threads and the child processes are not in it).
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

from bench.host_probe import host_probe_ms
from bench.record import emit
from bench.synthetic_feed import HOUR_MS, FeedWorld
from candidate_pipeline.stats import PipelineStats
from home_mixer.child_process import ChildService
from home_mixer.local_stack import CHILD_SERVICES, local_stack
from home_mixer.settings import HomeMixerSettings
from infra.embedded import EmbeddedServices
from phoenix.ranker.config import RANKER_SIZES

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU of every thread of process ``pid`` so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def children_cpu_seconds(children: dict[str, ChildService]) -> dict[str, float]:
    return {name: cpu_seconds(child.pid) for name, child in children.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def run(n_requests: int, n_debug: int, warmup: int, profile: str | None = None,
              own_processes: tuple[str, ...] = CHILD_SERVICES, ranker_size: str = "test") -> dict:
    n_viewers = warmup + n_requests + n_debug
    now_ms = int(time.time() * 1000)
    with EmbeddedServices.start() as svc:
        settings = HomeMixerSettings(host="127.0.0.1", port=0, metrics_port=0, request_deadline_s=5,
                                     client_timeout_s=4)
        started = time.perf_counter()
        async with local_stack(load_events(n_viewers, now_ms), bootstrap=svc.kafka_bootstrap, redis_url=svc.redis_url,
                               topic_prefix=f"bench{uuid.uuid4().hex[:6]}-", settings=settings,
                               own_processes=own_processes, ranker_size=ranker_size) as stack:
            setup_s = time.perf_counter() - started
            viewers = iter(range(FIRST_VIEWER, FIRST_VIEWER + n_viewers))
            timed_stats = record_pipeline_stats(stack.home_mixer.pipeline)
            for _ in range(warmup):
                await stack.client.get_feed(next(viewers), timeout_s=30)
            latencies, sizes, retrieved, degraded = [], [], [], 0
            profiler = cProfile.Profile() if profile else None
            load_before = os.getloadavg()
            probe_before = host_probe_ms()
            cpu_before = time.process_time()
            children_before = children_cpu_seconds(stack.children)
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
            children_s = {name: secs - children_before[name]
                          for name, secs in children_cpu_seconds(stack.children).items()}
            loop_cpu_s = time.thread_time() - loop_cpu_before
            load_after = os.getloadavg()
            timed = list(timed_stats)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            probe_after = host_probe_ms()
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
        "child_cpu_ms_per_request": {name: round(secs * 1000 / n_requests, 1) for name, secs in children_s.items()},
        "total_cpu_ms_per_request": round((cpu_s + sum(children_s.values())) * 1000 / n_requests, 1),
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
        "host_probe_ms": {"before": probe_before, "after": probe_after},
        "target": {"p50_ms": 100, "p99_ms": 250},
    }


def parse_in_process(text: str) -> tuple[str, ...]:
    """``--in-process``: comma-separated names among ``CHILD_SERVICES``."""
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in CHILD_SERVICES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(CHILD_SERVICES)}")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench feed", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests (within 60 s)")
    parser.add_argument("--record", action="store_true", help="write bench/results/feed.json")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--in-process", metavar="NAMES", type=parse_in_process, default=(),
                       help=f"serve these of {','.join(CHILD_SERVICES)} in the bench process "
                            "(default: each in its own process, as deployed)")
    where.add_argument("--single-process", action="store_true",
                       help="serve Thunder, retrieval and the ranker in the bench process too (for --profile)")
    parser.add_argument("--ranker-size", choices=RANKER_SIZES, default="test",
                        help="the fresh ranker's size (default test: d=32, 2 layers, history 16; serving: "
                             "the ranker bench's d=128, 4 layers, history 320); --record writes "
                             "feed_ranker_SIZE.json for a size other than test")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the timed requests (main thread: every in-process asyncio service) into FILE")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    n_requests, n_debug, warmup = (30, 5, 3) if args.quick else (200, 20, 5)
    in_process = CHILD_SERVICES if args.single_process else args.in_process
    own = tuple(name for name in CHILD_SERVICES if name not in in_process)
    result = asyncio.run(run(n_requests, n_debug, warmup, args.profile, own, args.ranker_size))
    result["quick"] = args.quick
    result["ranker_size"] = args.ranker_size
    for name in CHILD_SERVICES:
        result[f"{name}_process"] = "own process" if name in own else "bench process"
    name = "feed" if args.ranker_size == "test" else f"feed_ranker_{args.ranker_size}"
    emit(name, result, record=args.record, command="feed")
    return 0
