"""User-state ingest throughput through the real broker and Redis.

Produces a synthetic world's events to fresh topics, then measures in the same run:
* ``kafka_consume_per_s``: a bare kafka-python consumer reading those messages (the baseline:
  what the ingest could reach if applying cost nothing);
* ``events_per_s``: the user-state ingest (consumer loop + decode + validation + pipelined Lua
  dedup-and-apply into Redis) from the first poll until every message is handled.
``python -m bench user_state [--quick] [--record]``.
"""

from __future__ import annotations

import argparse
import itertools
import time
import uuid

from kafka import TopicPartition

from bench.record import emit
from events.producer import produce
from events.world import World, WorldConfig
from infra.embedded import EmbeddedServices
from infra.kafka_io import make_consumer
from infra.topics import Topics
from user_state.ingest import UserStateIngest


def _raw_consume(bootstrap: str, topics: list[str], total: int) -> float:
    consumer = make_consumer(None, bootstrap=bootstrap, max_poll_records=5000)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        start = time.perf_counter()
        seen = 0
        while seen < total:
            for batch in consumer.poll(timeout_ms=200).values():
                seen += len(batch)
        return seen / (time.perf_counter() - start)
    finally:
        consumer.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench user_state")
    parser.add_argument("--quick", action="store_true", help="a tiny world (about 40k events)")
    parser.add_argument("--record", action="store_true")
    parser.add_argument("--events", type=int, default=None, help="cap on events (default: 40k quick, 300k full)")
    args = parser.parse_args(argv)
    limit = args.events or (40_000 if args.quick else 300_000)
    config = WorldConfig.preset("tiny" if args.quick else "small", seed=11)

    with EmbeddedServices.start() as svc:
        name = uuid.uuid4().hex[:8]
        topics = Topics(posts=f"bench-posts-{name}", engagements=f"bench-eng-{name}",
                        social_graph=f"bench-sg-{name}", served=f"bench-served-{name}")
        t = time.perf_counter()
        events = list(itertools.islice(World.generate(config).events(), limit))
        generate_s = time.perf_counter() - t
        produced = produce(events, bootstrap=svc.kafka_bootstrap, topics=topics)
        total = produced.sent
        baseline = _raw_consume(svc.kafka_bootstrap, [topics.posts, topics.engagements, topics.social_graph], total)

        import redis

        redis.Redis.from_url(svc.redis_url).flushdb()
        ingest = UserStateIngest(svc.redis_url, bootstrap=svc.kafka_bootstrap, topics=topics, group_id=None)
        start = time.perf_counter()
        ingest.start()
        try:
            deadline = time.monotonic() + 600
            while ingest.processed < total:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"ingest stalled at {ingest.processed}/{total}")
                time.sleep(0.01)
            elapsed = time.perf_counter() - start
        finally:
            ingest.stop()
        if ingest.new_events != total:
            raise RuntimeError(f"applied {ingest.new_events} new events of {total}")

    result = {
        "events": total,
        "per_topic": produced.per_topic,
        "world": f"{'tiny' if args.quick else 'small'} seed=11",
        "generate_s": round(generate_s, 2),
        "produce_per_s": round(produced.events_per_s),
        "kafka_consume_per_s": round(baseline),
        "events_per_s": round(total / elapsed),
        "ratio_vs_raw_consume": round(total / elapsed / baseline, 3),
    }
    emit("user_state", result, record=args.record)
    return 0
