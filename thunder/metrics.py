"""Thunder's Prometheus metrics (X's ``thunder/metrics.rs`` counterparts).

Label ``instance`` tells apart several stores in one process (tests, sharded benches).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

POSTS_STORED = Gauge("thunder_posts_stored", "Entries in the per-author lists", ["instance", "list"])
POSTS_IN_STORE = Gauge("thunder_posts_in_store", "Light posts held (post id -> post map)", ["instance"])
INGESTED = Counter("thunder_ingested_events_total", "Post events applied, by outcome", ["instance", "outcome"])
MALFORMED = Gauge("thunder_malformed_events", "Malformed post events skipped since start", ["instance"])
LAG = Gauge("thunder_kafka_lag", "Post events behind the topic's high-water mark", ["instance"])
TOMBSTONES = Gauge("thunder_tombstones", "Deleted post ids remembered until they age out", ["instance"])
REQUESTS = Counter("thunder_requests_total", "GetInNetworkPosts calls by gRPC status", ["instance", "code"])
LATENCY = Histogram(
    "thunder_request_latency_seconds", "GetInNetworkPosts handling time", ["instance"],
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
RESULTS = Histogram(
    "thunder_results_per_request", "Posts returned per request", ["instance"],
    buckets=(0, 1, 10, 50, 100, 300, 600, 1200, 5000),
)
