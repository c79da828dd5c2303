"""Bounded load on GetForYouFeed: several concurrent clients against every service as its own process.

``python -m bench load [--quick] [--clients N] [--duration S] [--record]``

Thunder, the Phoenix ranker, Phoenix retrieval, the user-state ingest and home-mixer run as child
processes (``infra.supervisor``, exactly as ``foryou demo`` deploys them), so each one's resident
memory (RSS, summed over its process group) is measurable on its own. A small world goes through
the real broker first: 60 followed authors with 5 posts each and 800 out-of-network posts (about
1,000 candidates per request), 600 viewers following 30 of those authors. Models are freshly
initialised small ones (speed and memory do not depend on training).

After a warm-up (RSS is taken when it ends: caches, allocator arenas and GC generations settle
in the first requests), ``--clients`` tasks each send one request after another, each for a
random viewer, for ``--duration`` seconds (60; ``--quick`` 15). Reported: requests, errors (any
non-OK gRPC status or client timeout: the target is zero), degraded answers, QPS, latency
percentiles, and per service RSS after warm-up, at the end and its growth in percent (target
under 10 %). Last line JSON. The 2-core box is shared: the 1-minute load average is reported too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
from google.protobuf.message import Message

from bench.record import emit
from bench.synthetic_feed import HOUR_MS, FeedWorld
from infra.embedded import EmbeddedServices, free_port
from infra.supervisor import ServiceProcess, Supervisor

SERVICES = ("thunder", "ranker", "retrieval", "user-state", "home-mixer")
WORLD = FeedWorld(followed=60, posts_per_followed=5, oon_authors=300, oon_posts=800, span_ms=30 * HOUR_MS, topics=13)
VIEWERS, FOLLOWS_PER_VIEWER = 600, 30


def world_events(now_ms: int, seed: int = 0) -> Iterator[tuple[str, Message]]:
    """The load world; each viewer follows a seeded random ``FOLLOWS_PER_VIEWER`` of the followed authors."""
    rng = random.Random(seed)
    followed = WORLD.followed_ids
    return WORLD.events(now_ms, ((v, rng.sample(followed, FOLLOWS_PER_VIEWER)) for v in range(1, VIEWERS + 1)))


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in the process group (a service and any helper it forks)."""
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid:  # pgrp
                total += int(Path(entry.path, "statm").read_text().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    return total


def checkpoints(root: Path) -> tuple[Path, Path]:
    from home_mixer.local_stack import fresh_retrieval_model
    from phoenix.ranker.config import small_config
    from phoenix.ranker.model import PhoenixRanker
    from phoenix.ranker.train import save_ranker
    from phoenix.retrieval.checkpoints import save_model

    save_ranker(PhoenixRanker(small_config(max_candidates=2800)), root / "ranker")
    save_model(root / "retrieval", fresh_retrieval_model())
    return root / "ranker", root / "retrieval"


def processes(env: dict[str, str], ranker_ck: Path, retrieval_ck: Path, logs: Path) -> list[ServiceProcess]:
    ports = {name: free_port() for name in SERVICES}
    addr = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    env = {**env, "THUNDER_ADDR": addr["thunder"], "RANKER_ADDR": addr["ranker"],
           "RETRIEVAL_ADDR": addr["retrieval"], "HOME_MIXER_ADDR": addr["home-mixer"],
           # several clients share 2 cores with five services: a request may wait its turn
           "HOME_MIXER_REQUEST_DEADLINE_S": "10", "HOME_MIXER_CLIENT_TIMEOUT_S": "8"}
    extra = {"ranker": ["--checkpoint", str(ranker_ck), "--threads", "1"],
             "retrieval": ["--checkpoint", str(retrieval_ck)], "user-state": ["--group-id", ""]}
    return [ServiceProcess(name, ["serve", name, "--host", "127.0.0.1", "--port", str(port), "--metrics-port", "0",
                                  *extra.get(name, [])],
                           env=env, health_address=addr[name], log_path=logs / f"{name}.log")
            for name, port in ports.items()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


async def drive(address: str, clients: int, seconds: float, seed: int) -> dict:
    """``clients`` loops of back-to-back requests for ``seconds``; latencies of OK answers."""
    from home_mixer.feed_client import FeedClient

    rng = random.Random(seed)
    latencies: list[float] = []
    errors: dict[str, int] = {}
    degraded = 0
    empty = 0
    stop_at = time.monotonic() + seconds

    async def one_client(client: FeedClient) -> None:
        nonlocal degraded, empty
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                feed = await client.get_feed(rng.randint(1, VIEWERS), timeout_s=15)
            except grpc.aio.AioRpcError as err:
                errors[err.code().name] = errors.get(err.code().name, 0) + 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            degraded += bool(feed.degraded)
            empty += not feed.posts

    async with FeedClient(address, timeout_s=15) as client:
        started = time.monotonic()
        await asyncio.gather(*(one_client(client) for _ in range(clients)))
        elapsed = time.monotonic() - started
    return {"latencies": latencies, "errors": errors, "degraded": degraded, "empty": empty, "elapsed": elapsed}


def run(clients: int, duration_s: float, warmup_s: float) -> dict:
    now_ms = int(time.time() * 1000)
    prefix = f"load{uuid.uuid4().hex[:6]}-"
    with EmbeddedServices.start() as svc, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, \
            Supervisor() as supervisor:
        from events.producer import produce
        from infra.settings import ConnectionSettings

        topics = ConnectionSettings(**{f"topic_{t}": f"{prefix}{t}" for t in
                                       ("posts", "engagements", "social_graph", "served", "dead_letter")}).topics()
        stats = produce(world_events(now_ms), bootstrap=svc.kafka_bootstrap, topics=topics)
        env = {**svc.env(), **{f"TOPIC_{t.upper()}": f"{prefix}{t}" for t in
                               ("posts", "engagements", "social_graph", "served", "dead_letter")}}
        ranker_ck, retrieval_ck = checkpoints(Path(tmp))
        procs = processes(env, ranker_ck, retrieval_ck, Path(tmp))
        started = time.perf_counter()
        *backends, mixer = procs
        for proc in backends:
            supervisor.start(proc, wait=False)
        for proc in backends:
            proc.wait_healthy(180)
        supervisor.start(mixer, timeout_s=180)
        startup_s = time.perf_counter() - started
        address = mixer.health_address or ""

        warm = asyncio.run(drive(address, clients, warmup_s, seed=1))
        rss_start = {p.name: group_rss_bytes(p.process.pid) for p in procs}  # type: ignore[union-attr]
        load_before = os.getloadavg()[0]
        timed = asyncio.run(drive(address, clients, duration_s, seed=2))
        load_after = os.getloadavg()[0]
        rss_end = {p.name: group_rss_bytes(p.process.pid) for p in procs}  # type: ignore[union-attr]
        alive = all(p.process.poll() is None for p in procs)  # type: ignore[union-attr]

    lat = timed["latencies"]
    growth = {n: round(100.0 * (rss_end[n] - rss_start[n]) / rss_start[n], 2) for n in SERVICES if rss_start[n]}
    errors = sum(timed["errors"].values())
    return {
        "mode": "every service a child process (infra.supervisor); clients in the bench process",
        "clients": clients, "duration_s": round(timed["elapsed"], 1), "warmup_s": warmup_s,
        "warmup_requests": len(warm["latencies"]), "warmup_errors": sum(warm["errors"].values()),
        "requests": len(lat) + errors, "ok": len(lat), "errors": errors, "error_codes": timed["errors"],
        "degraded": timed["degraded"], "empty_feeds": timed["empty"],
        "qps": round(len(lat) / timed["elapsed"], 2),
        "p50_ms": round(percentile(lat, 50), 1), "p90_ms": round(percentile(lat, 90), 1),
        "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1) if lat else None,
        "rss_mb_after_warmup": {n: round(v / 2**20, 1) for n, v in rss_start.items()},
        "rss_mb_end": {n: round(v / 2**20, 1) for n, v in rss_end.items()},
        "rss_growth_pct": growth, "max_rss_growth_pct": max(growth.values()) if growth else None,
        "rss_growth_target_met": bool(growth) and max(growth.values()) < 10.0,
        "all_services_alive": alive, "startup_s": round(startup_s, 1), "events": stats.sent,
        "world": {"followed_posts": WORLD.followed * WORLD.posts_per_followed, "oon_posts": WORLD.oon_posts,
                  "viewers": VIEWERS},
        "load_avg_1m_before": round(load_before, 2), "load_avg_1m_after": round(load_after, 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s, shorter warm-up")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument("--duration", type=float, default=None, help="seconds of timed load (default 60; quick 15)")
    parser.add_argument("--record", action="store_true", help="write bench/results/load.json")
    args = parser.parse_args(argv)
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    duration = args.duration or (15.0 if args.quick else 60.0)
    if duration <= 0:
        parser.error("--duration must be positive")
    result = run(args.clients, duration, warmup_s=5.0 if args.quick else 15.0)
    emit("load", result, record=args.record)
    return 0 if result["errors"] == 0 and result["all_services_alive"] else 1
