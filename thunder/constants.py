"""X's Thunder constants (reference §3 and §9: ``thunder/config.rs``, ``thunder/args.rs``)."""

from __future__ import annotations

POST_RETENTION_SECONDS = 172_800  # 2 days
MAX_POSTS_TO_RETURN = 1_200
MAX_VIDEOS_TO_RETURN = 600
MAX_INPUT_LIST_SIZE = 10_000
MAX_ORIGINAL_POSTS_PER_AUTHOR = 50
MAX_REPLY_POSTS_PER_AUTHOR = 30
MAX_VIDEO_POSTS_PER_AUTHOR = 100
MAX_TINY_POSTS_PER_USER_SCAN = 500
MAX_POSTING_LIST_SIZE = 5_000
TRIM_FRACTION = 5
AUTO_TRIM_INTERVAL_SECONDS = 120
QPS_LIMIT = 8_000
GRPC_PORT = 9090
METRICS_PORT = 8080

# [Aug] authors X never serves from Thunder (@grok, @gork and one more account).
BLOCKED_AUTHOR_IDS = frozenset({1720665183188922368, 1909390269533011968, 1999031187604717568})

# X's accepted values of the request's ``algorithm`` (all mean "sort by recency").
RECENCY_ALGORITHMS = frozenset({"", "recent", "default", "latest"})
