"""Prometheus collectors for every pipeline stage, shared by all pipelines in the process.

They are module-level because prometheus_client registers collectors globally once; the
``pipeline`` label separates pipelines (For You, replay variants) living in one process.
Labels per stage are pipeline / stage_kind / stage / status, the same vocabulary as
:class:`~candidate_pipeline.stats.StageStats`, so a dashboard and a log line agree.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

STAGE_LABELS = ("pipeline", "stage_kind", "stage", "status")

_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

STAGE_LATENCY_SECONDS = Histogram(
    "candidate_pipeline_stage_latency_seconds",
    "Wall time of one stage call (executed stages only; disabled stages are not observed).",
    STAGE_LABELS,
    buckets=_LATENCY_BUCKETS_S,
)
STAGE_RUNS = Counter(
    "candidate_pipeline_stage_runs",
    "Stage invocations per outcome, including disabled (skipped) stages.",
    STAGE_LABELS,
)
STAGE_KEPT = Counter(
    "candidate_pipeline_stage_kept",
    "Candidates kept/produced by a stage (source: fetched; filter: kept; hydrator/scorer: updated).",
    STAGE_LABELS,
)
STAGE_REMOVED = Counter(
    "candidate_pipeline_stage_removed",
    "Candidates removed by a stage (filter: removed; selector: not selected).",
    STAGE_LABELS,
)
STAGE_ERRORS = Counter(
    "candidate_pipeline_stage_errors",
    "Errors: 1 per failed stage call plus 1 per failed candidate entry of a hydrator/scorer.",
    STAGE_LABELS,
)
STAGE_TIMEOUTS = Counter(
    "candidate_pipeline_stage_timeouts",
    "Stage calls abandoned because they exceeded their timeout.",
    STAGE_LABELS,
)

REQUEST_LATENCY_SECONDS = Histogram(
    "candidate_pipeline_request_latency_seconds",
    "Wall time of execute() up to the built result (side effects excluded).",
    ("pipeline",),
    buckets=_LATENCY_BUCKETS_S,
)
RESULT_SIZE = Histogram(
    "candidate_pipeline_result_size",
    "Number of selected candidates returned per request.",
    ("pipeline",),
    buckets=(0, 1, 5, 10, 20, 35, 50, 100, 200, 500, 1000),
)
RESULT_EMPTY = Counter(
    "candidate_pipeline_result_empty",
    "Requests that returned no selected candidates (X's result_empty).",
    ("pipeline",),
)
