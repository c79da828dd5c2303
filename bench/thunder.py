"""Thunder benchmark: memory per post, query latency in process and over gRPC, ingest vs raw consume.

``python -m bench thunder [--quick] [--record]``

* Store: 1.05M posts (>= 1M stay after the 5,000-per-list cap trims the busiest authors) over 48 h from authors with Zipf-skewed posting rates (60 % originals, 25 %
  replies to earlier posts, 15 % reposts, 10 % with video), inserted in 2,000-post batches as the
  Kafka ingest does. Memory is the tracemalloc delta of building it (numpy buffers included),
  divided by the posts held.
* Queries: viewers following 200 / 1,000 / 5,000 authors (half picked by activity, half
  uniformly) with 100 excluded ids; in-process = ``InNetworkRetriever.query``; gRPC = a real
  grpc.aio server in its own (forked) process on loopback, client stub round trip including
  response parsing. Every latency set is measured ``REPEATS`` times (the machine is shared):
  ``p99_ms_N`` is the median of the repetitions' p99, ``p99_ms_N_best_of_3`` the lowest, and
  ``cpu_*`` the thread CPU time of the same in-process queries; the load average is printed.
* Ingest: the same protobuf events produced to a real broker (embedded tansu unless
  KAFKA_BOOTSTRAP_SERVERS is set), then read by a bare kafka-python consumer with Thunder's
  consumer settings (baseline) and by Thunder's RawBatchConsumer + PostIngest into a fresh
  store, alternately ``REPEATS`` times; the rates are the medians (every round is printed too).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import os
import time
import tracemalloc
import uuid
from multiprocessing.connection import Connection

import numpy as np

from bench.record import emit
from infra.consumer_loop import RawBatchConsumer
from infra.grpc_server import make_channel, start_server
from infra.kafka_io import ensure_topics, make_consumer, make_producer
from infra.topics import key_for
from protos import events_pb2, thunder_pb2, thunder_pb2_grpc
from thunder.admission import Admission
from thunder.ingest import PostIngest
from thunder.post_batch import PostBatch
from thunder.post_store import PostStore
from thunder.retrieval import InNetworkQuery, InNetworkRetriever
from thunder.service import SERVICE_NAME, InNetworkPostsServicer
from thunder.settings import ThunderSettings
from thunder.wire import encode_response

NOW = 1_780_000_000
WINDOW_S = 172_800 - 600
TWITTER_EPOCH_S = 1288834974.657


def synthetic_posts(n_posts: int, n_authors: int, seed: int = 0) -> tuple[PostBatch, np.ndarray]:
    """Columns of ``n_posts`` posts in created_at order, plus each author's posting weight."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_authors + 1) ** 0.8
    rng.shuffle(weights)
    weights /= weights.sum()
    authors = rng.choice(n_authors, size=n_posts, p=weights) + 1
    created = np.sort(NOW - rng.integers(1, WINDOW_S, n_posts))
    # snowflake-like ids: creation ms << 22 plus a sequence, unique and time-ordered
    post_id = ((created - TWITTER_EPOCH_S) * 1000).astype(np.int64) << 22 | np.arange(n_posts) & 0x3FFFFF
    kind = rng.random(n_posts)
    earlier = (rng.random(n_posts) * np.arange(n_posts)).astype(np.int64)  # a random earlier post
    reply = (kind >= 0.60) & (kind < 0.85) & (np.arange(n_posts) > 0)
    repost = (kind >= 0.85) & (np.arange(n_posts) > 0)
    zero = np.zeros(n_posts, dtype=np.int64)
    cols = {
        "post_id": post_id,
        "author_id": authors.astype(np.int64),
        "created_at": created,
        "in_reply_to_post_id": np.where(reply, post_id[earlier], zero),
        "in_reply_to_user_id": np.where(reply, authors[earlier], zero),
        "source_post_id": np.where(repost, post_id[earlier], zero),
        "source_user_id": np.where(repost, authors[earlier], zero),
        "conversation_id": np.where(reply, post_id[earlier], post_id),
    }
    flags = (repost * 1 | reply * 2 | (rng.random(n_posts) < 0.10) * 4).astype(np.uint8)
    return PostBatch(cols, flags), weights


def build_store(posts: PostBatch) -> tuple[PostStore, float]:
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    store = PostStore(clock=lambda: NOW)
    for start in range(0, len(posts), 2000):
        store.insert(posts.select(slice(start, start + 2000)))
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return store, used


def viewers(weights: np.ndarray, n_following: int, count: int, post_ids: np.ndarray, seed: int) -> list[InNetworkQuery]:
    rng = np.random.default_rng(seed)
    out = []
    for v in range(count):
        active = rng.choice(len(weights), size=n_following // 2, replace=False, p=weights) + 1
        uniform = rng.choice(len(weights), size=n_following - len(active), replace=False) + 1
        exclude = rng.choice(post_ids, size=100, replace=False)
        out.append(InNetworkQuery.build(10_000_000 + v, np.concatenate([active, uniform]), exclude))
    return out


REPEATS = 3  # the machine is shared: every latency is measured this many times


def percentiles(samples: list[float]) -> tuple[float, float]:
    arr = np.array(samples) * 1000
    return round(float(np.percentile(arr, 50)), 3), round(float(np.percentile(arr, 99)), 3)


def summarize(result: dict[str, object], prefix: str, reps: list[list[float]]) -> None:
    """p50 and p99 of each repetition -> median p50, median-of-reps p99 (the honest figure the
    targets are checked on) and best-of-reps p99 (what the code does when the machine lets it)."""
    p50s, p99s = zip(*(percentiles(r) for r in reps), strict=True)
    result[f"{prefix}p50_ms_{{n}}"] = round(float(np.median(p50s)), 3)
    result[f"{prefix}p99_ms_{{n}}"] = round(float(np.median(p99s)), 3)
    result[f"{prefix}p99_ms_{{n}}_best_of_{len(reps)}"] = min(p99s)


def time_queries(retriever: InNetworkRetriever, queries: list[InNetworkQuery]) -> tuple[list[float], list[float], int]:
    """Wall and CPU (this thread) latency of each query, including the serialized response
    (gathered from the pre-encoded bytes). CPU time shows what the code costs apart from
    waiting for a core on a loaded machine."""
    wall_s, cpu_s, results = [], [], 0
    for q in queries[:5]:
        retriever.query(q)  # warm caches
    for q in queries:
        c0, t0 = time.thread_time(), time.perf_counter()
        posts = retriever.query(q)
        encode_response(posts)
        wall_s.append(time.perf_counter() - t0)
        cpu_s.append(time.thread_time() - c0)
        results += len(posts)
    return wall_s, cpu_s, results // max(1, len(queries))


def _serve(store: PostStore, conn: Connection) -> None:
    """Child process: serve ``store`` over gRPC until the parent says stop."""
    async def run() -> None:
        servicer = InNetworkPostsServicer(store, Admission(1024, 1e9), instance="bench")
        handle = await start_server(register=servicer.register, service_names=[SERVICE_NAME], ready=True)
        conn.send(handle.port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await handle.stop(0.5)

    asyncio.run(run())


async def _grpc_round_trips(port: int, queries: list[InNetworkQuery], repeats: int) -> list[list[float]]:
    channel = make_channel(f"127.0.0.1:{port}")
    stub = thunder_pb2_grpc.InNetworkPostsServiceStub(channel)
    requests = [thunder_pb2.GetInNetworkPostsRequest(
        user_id=q.user_id, following_user_ids=q.following_ids.tolist(), exclude_tweet_ids=q.exclude_ids.tolist())
        for q in queries]
    reps = []
    try:
        for req in requests[:5]:
            await stub.GetInNetworkPosts(req)
        for _ in range(repeats):
            samples = []
            for req in requests:
                t0 = time.perf_counter()
                await stub.GetInNetworkPosts(req)
                samples.append(time.perf_counter() - t0)
            reps.append(samples)
    finally:
        await channel.close()
    return reps


def time_grpc(store: PostStore, queries: list[InNetworkQuery], repeats: int) -> list[list[float]]:
    """Round trips (request serialization to parsed response) against a Thunder gRPC server in its
    own process, as deployed: forked after the store is built, so it serves the same posts."""
    parent, child = mp.Pipe()
    server = mp.get_context("fork").Process(target=_serve, args=(store, child), daemon=True)
    server.start()
    try:
        if not parent.poll(60):
            raise RuntimeError("bench gRPC server did not start")
        return asyncio.run(_grpc_round_trips(parent.recv(), queries, repeats))
    finally:
        parent.send("stop")
        server.join(10)
        if server.is_alive():
            server.kill()


def post_events(posts: PostBatch, count: int) -> list[tuple[bytes, bytes]]:
    cols = {k: v[:count].tolist() for k, v in posts.columns.items()}
    flags = posts.flags[:count].tolist()
    out = []
    for i in range(min(count, len(flags))):
        created = events_pb2.PostCreated(
            **{k: cols[k][i] for k in cols}, is_retweet=bool(flags[i] & 1), is_reply=bool(flags[i] & 2),
            has_video=bool(flags[i] & 4), text="bench post", language_code="en")
        event = events_pb2.PostEvent(event_id=f"b{cols['post_id'][i]}", created=created)
        out.append((key_for(cols["author_id"][i]), event.SerializeToString()))
    return out


def _raw_consume_rate(bootstrap: str, topic: str, n: int) -> float:
    """kafka-python alone, configured as Thunder's consumer (same poll size), reading the topic."""
    from kafka import TopicPartition

    poll_records = ThunderSettings().poll_max_records
    t0 = time.perf_counter()
    raw = make_consumer(None, bootstrap=bootstrap, max_poll_records=poll_records)
    parts = [TopicPartition(topic, p) for p in sorted(raw.partitions_for_topic(topic) or [])]
    raw.assign(parts)
    raw.seek_to_beginning(*parts)
    seen = 0
    deadline = time.monotonic() + 120
    while seen < n and time.monotonic() < deadline:
        seen += sum(len(batch) for batch in raw.poll(timeout_ms=100, max_records=poll_records).values())
    raw_s = time.perf_counter() - t0
    raw.close()
    if seen < n:
        raise RuntimeError(f"raw consumer read {seen} of {n} events")
    return n / raw_s


def _ingest_rate(bootstrap: str, topic: str, n: int) -> float:
    store = PostStore(clock=lambda: NOW)
    t0 = time.perf_counter()
    consumer = RawBatchConsumer(name="bench-thunder", topics=[topic], handler=PostIngest(store, "bench"),
                                bootstrap=bootstrap, max_records=ThunderSettings().poll_max_records)
    consumer.start()
    deadline = time.monotonic() + 240
    try:
        while consumer.applied + consumer.malformed < n and time.monotonic() < deadline:
            time.sleep(0.005)
        ingest_s = time.perf_counter() - t0
    finally:
        consumer.stop()
    if len(store) != n:
        raise RuntimeError(f"ingest stored {len(store)} of {n} posts")
    return n / ingest_s


def measure_ingest(bootstrap: str, events: list[tuple[bytes, bytes]], rounds: int) -> tuple[list[float], list[float]]:
    """Raw kafka-python consume and Thunder ingest of the same topic, alternated ``rounds`` times
    (on a shared machine one back-to-back pair can differ 2x from the next)."""
    topic = f"bench-posts-{uuid.uuid4().hex[:8]}"
    ensure_topics([topic], partitions=4, bootstrap=bootstrap)
    producer = make_producer(bootstrap)
    for key, value in events:
        producer.send(topic, key=key, value=value)
    producer.flush(60)
    producer.close()
    raw_rates, ingest_rates = [], []
    for _ in range(rounds):
        raw_rates.append(_raw_consume_rate(bootstrap, topic, len(events)))
        ingest_rates.append(_ingest_rate(bootstrap, topic, len(events)))
    return raw_rates, ingest_rates


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench thunder")
    parser.add_argument("--quick", action="store_true", help="small store, few queries (< 60 s)")
    parser.add_argument("--record", action="store_true", help="write bench/results/thunder.json")
    args = parser.parse_args(argv)
    n_posts, n_authors, n_queries, n_events = (
        (100_000, 10_000, 60, 20_000) if args.quick else (1_050_000, 100_000, 300, 100_000))

    posts, weights = synthetic_posts(n_posts, n_authors)
    build_t0 = time.perf_counter()
    store, used = build_store(posts)
    build_s = time.perf_counter() - build_t0
    result: dict[str, object] = {
        "quick": args.quick,
        "posts": len(store),
        "authors": n_authors,
        "bytes_per_post": round(used / len(store), 1),
        "bytes_per_post_accounted": round(store.nbytes() / len(store), 1),
        "build_posts_per_s": round(len(store) / build_s),
    }
    retriever = InNetworkRetriever(store)
    ids = posts.columns["post_id"]
    result["load_average_1m_before_latency"] = round(os.getloadavg()[0], 2)
    for n_following in (200, 1000, 5000):
        queries = viewers(weights, min(n_following, n_authors), n_queries, ids, seed=n_following)
        runs = [time_queries(retriever, queries) for _ in range(REPEATS)]
        latency: dict[str, object] = {}
        summarize(latency, "", [wall for wall, _, _ in runs])
        summarize(latency, "cpu_", [cpu for _, cpu, _ in runs])
        if n_following == 1000:
            summarize(latency, "grpc_", time_grpc(store, queries, REPEATS))
        result.update({k.format(n=n_following): v for k, v in latency.items()})
        result[f"avg_results_{n_following}"] = runs[0][2]
    result["load_average_1m_after_latency"] = round(os.getloadavg()[0], 2)
    result["latency_note"] = (f"p99_ms_N = median over {REPEATS} repetitions of each repetition's p99 (targets use it); "
                              f"p99_ms_N_best_of_{REPEATS} = the lowest; cpu_* = thread CPU time of the same queries")

    events = post_events(posts, n_events)
    broker = None
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        from infra.embedded import KafkaBroker

        broker = KafkaBroker().start()
        bootstrap = broker.bootstrap
    try:
        raw_rates, ingest_rates = measure_ingest(bootstrap, events, REPEATS)
    finally:
        if broker is not None:
            broker.stop()
    result["ingest_events"] = len(events)
    result["raw_consume_events_per_s"] = round(float(np.median(raw_rates)))
    result["ingest_events_per_s"] = round(float(np.median(ingest_rates)))
    ratios = [i / r for r, i in zip(raw_rates, ingest_rates, strict=True)]
    result["ingest_vs_raw"] = round(float(np.median(ratios)), 3)  # median of the paired rounds (targets use it)
    result["ingest_vs_raw_per_round"] = [round(x, 3) for x in ratios]
    result["raw_consume_events_per_s_rounds"] = [round(r) for r in raw_rates]
    result["ingest_events_per_s_rounds"] = [round(i) for i in ingest_rates]
    result["load_average_1m"] = round(os.getloadavg()[0], 2)  # this machine is shared: read timings with it
    result["targets_met"] = {
        "bytes_per_post<=300": result["bytes_per_post"] <= 300,
        "p99_ms_1000<=1": result["p99_ms_1000"] <= 1.0,
        "grpc_p99_ms_1000<=3": result["grpc_p99_ms_1000"] <= 3.0,
        "ingest>=0.8*raw": result["ingest_vs_raw"] >= 0.8,
    }
    emit("thunder", result, record=args.record)
    return 0
