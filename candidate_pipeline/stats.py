"""Per-request stage statistics, their Prometheus export and the one-line request summary.

X records per-stage kept/removed counts and latency (``pipeline_summary.rs``) so that an
operator can answer "why did this request return 3 posts?" from a single log line. Here
every stage the executor touches yields one :class:`StageStats`, in execution order; the
same record feeds the Prometheus collectors in :mod:`candidate_pipeline.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from candidate_pipeline.metrics import (
    REQUEST_LATENCY_SECONDS,
    RESULT_EMPTY,
    RESULT_SIZE,
    STAGE_ERRORS,
    STAGE_KEPT,
    STAGE_LATENCY_SECONDS,
    STAGE_REMOVED,
    STAGE_RUNS,
    STAGE_TIMEOUTS,
)

StageKind = Literal[
    "query_hydrator",
    "dependent_query_hydrator",
    "source",
    "hydrator",
    "filter",
    "scorer",
    "selector",
    "post_selection_hydrator",
    "post_selection_filter",
    "side_effect",
]
StageStatus = Literal["ok", "error", "timeout", "length_mismatch", "disabled"]

__all__ = [
    "PipelineStats",
    "StageKind",
    "StageStats",
    "StageStatus",
    "record_request_metrics",
    "record_stage_metrics",
]


@dataclass(frozen=True)
class StageStats:
    """What one stage did for one request.

    Counts mean, per kind: source ``kept_count`` = candidates fetched; filter kept/removed;
    hydrator/scorer ``kept_count`` = candidates updated and ``error_count`` = per-candidate
    failures; query hydrator ``kept_count`` = query fields set; selector ``removed_count`` =
    candidates not selected. A whole-stage failure has ``error_count`` 1 and changes nothing.
    """

    stage_kind: StageKind
    name: str
    enabled: bool
    status: StageStatus
    latency_ms: float = 0.0
    input_count: int = 0
    kept_count: int = 0
    removed_count: int = 0
    error_count: int = 0

    def render(self) -> str:
        """Compact ``name:value`` token for the summary line (value depends on the kind)."""
        if self.status != "ok":
            return f"{self.name}:{self.status}"
        if self.stage_kind == "source":
            value = str(self.kept_count)
        elif self.stage_kind in ("filter", "post_selection_filter"):
            value = f"-{self.removed_count}"
        elif self.stage_kind == "selector":
            value = str(self.kept_count)
        else:
            value = f"{self.latency_ms:.1f}ms"
        if self.error_count:
            value += f"({self.error_count}err)"
        return f"{self.name}:{value}"


# Summary groups: (label, kinds, always rendered?). The four "always" groups are the ones an
# operator scans first; the rest appear only when the pipeline has such stages.
_SUMMARY_GROUPS: tuple[tuple[str, tuple[StageKind, ...], bool], ...] = (
    ("hydrate_query", ("query_hydrator",), True),
    ("dependent_query", ("dependent_query_hydrator",), False),
    ("sources", ("source",), True),
    ("hydrators", ("hydrator",), False),
    ("filters", ("filter",), True),
    ("scorers", ("scorer",), True),
    ("selector", ("selector",), False),
    ("post_hydrators", ("post_selection_hydrator",), False),
    ("post_filters", ("post_selection_filter",), False),
    ("side_effects", ("side_effect",), False),
)


@dataclass
class PipelineStats:
    """All stage records of one request plus request-level counts."""

    pipeline: str
    request_id: str | None = None
    stages: list[StageStats] = field(default_factory=list)
    total_latency_ms: float = 0.0
    retrieved_count: int = 0
    removed_count: int = 0
    selected_count: int = 0
    non_selected_count: int = 0
    truncated_count: int = 0
    side_effects_started: list[str] = field(default_factory=list)

    def for_kind(self, kind: StageKind) -> list[StageStats]:
        """Records of one stage kind, in execution (= registration) order."""
        return [s for s in self.stages if s.stage_kind == kind]

    def get(self, kind: StageKind, name: str) -> StageStats:
        """The record of a named stage; KeyError when the stage was never reached."""
        for s in self.stages:
            if s.stage_kind == kind and s.name == name:
                return s
        raise KeyError(f"no {kind} stage named {name!r} in stats of pipeline {self.pipeline!r}")

    def summary_line(self) -> str:
        """ONE log line describing the whole request (X's ``pipeline_summary``)."""
        parts = [
            f"pipeline={self.pipeline}",
            f"request_id={self.request_id if self.request_id is not None else '-'}",
            f"total_ms={self.total_latency_ms:.1f}",
        ]
        for label, kinds, always in _SUMMARY_GROUPS:
            records = [s for s in self.stages if s.stage_kind in kinds]
            if records or always:
                parts.append(f"{label}[{','.join(s.render() for s in records)}]")
        if self.side_effects_started:
            parts.append(f"side_effects_started[{','.join(self.side_effects_started)}]")
        parts.append(f"retrieved={self.retrieved_count}")
        parts.append(f"removed={self.removed_count}")
        parts.append(f"selected={self.selected_count}")
        parts.append(f"non_selected={self.non_selected_count}")
        return " ".join(parts)


def record_stage_metrics(pipeline: str, stats: StageStats) -> None:
    """Export one stage record to the module-level Prometheus collectors."""
    labels = (pipeline, stats.stage_kind, stats.name, stats.status)
    STAGE_RUNS.labels(*labels).inc()
    if stats.status == "disabled":
        return
    STAGE_LATENCY_SECONDS.labels(*labels).observe(stats.latency_ms / 1000.0)
    if stats.kept_count:
        STAGE_KEPT.labels(*labels).inc(stats.kept_count)
    if stats.removed_count:
        STAGE_REMOVED.labels(*labels).inc(stats.removed_count)
    if stats.error_count:
        STAGE_ERRORS.labels(*labels).inc(stats.error_count)
    if stats.status == "timeout":
        STAGE_TIMEOUTS.labels(*labels).inc()


def record_request_metrics(stats: PipelineStats) -> None:
    """Export request-level latency and result size."""
    REQUEST_LATENCY_SECONDS.labels(stats.pipeline).observe(stats.total_latency_ms / 1000.0)
    RESULT_SIZE.labels(stats.pipeline).observe(stats.selected_count)
    if stats.selected_count == 0:
        RESULT_EMPTY.labels(stats.pipeline).inc()
