"""Per-request stats, Prometheus export and the one-line summary."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY

from candidate_pipeline import BaseStage, CandidatePipeline, TopKScoreSelector

from .fakes import (
    FakeFilter,
    FakeHydrator,
    FakeQueryHydrator,
    FakeScorer,
    FakeSource,
    Query,
    by_candidate,
)


def _sample(metric: str, pipeline: str, kind: str, stage: str, status: str = "ok") -> float:
    labels = {"pipeline": pipeline, "stage_kind": kind, "stage": stage, "status": status}
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def _pipeline(name: str) -> CandidatePipeline:
    return CandidatePipeline(
        name=name,
        query_hydrators=[FakeQueryHydrator("user", {"a": 1})],
        sources=[FakeSource("thunder", [1, 2, 3, 4]), FakeSource("phoenix", [5], delay=30, timeout_s=0.05)],
        hydrators=[FakeHydrator("core", by_candidate(lambda c: ValueError() if c.id == 4 else {"x": 1}))],
        filters=[FakeFilter("age", lambda c: c.id != 1), FakeFilter("off", bool, enabled=False)],
        scorers=[FakeScorer("weighted", by_candidate(lambda c: {"score": float(c.id)}))],
        selector=TopKScoreSelector(k=2),
        result_size=35,
    )


def test_prometheus_metrics_are_incremented_per_stage() -> None:
    async def scenario() -> None:
        name = "t_metrics"
        before = _sample("candidate_pipeline_stage_kept_total", name, "source", "thunder")
        await _pipeline(name).execute(Query())
        await _pipeline(name).execute(Query())
        assert _sample("candidate_pipeline_stage_kept_total", name, "source", "thunder") - before == 8
        assert _sample("candidate_pipeline_stage_removed_total", name, "filter", "age") == 2
        assert _sample("candidate_pipeline_stage_kept_total", name, "filter", "age") == 6
        assert _sample("candidate_pipeline_stage_errors_total", name, "hydrator", "core") == 2
        assert _sample("candidate_pipeline_stage_timeouts_total", name, "source", "phoenix", "timeout") == 2
        assert _sample("candidate_pipeline_stage_runs_total", name, "filter", "off", "disabled") == 2
        assert _sample("candidate_pipeline_stage_latency_seconds_count", name, "scorer", "weighted") == 2
        assert (
            _sample("candidate_pipeline_stage_latency_seconds_count", name, "filter", "off", "disabled") == 0
        )
        assert _sample("candidate_pipeline_stage_removed_total", name, "selector", "TopKScoreSelector") == 2
        assert (
            REGISTRY.get_sample_value("candidate_pipeline_request_latency_seconds_count", {"pipeline": name})
            == 2
        )
        assert REGISTRY.get_sample_value("candidate_pipeline_result_size_sum", {"pipeline": name}) == 4

    asyncio.run(scenario())


def test_stage_stats_record_every_stage_in_order() -> None:
    async def scenario() -> None:
        result = await _pipeline("t_stats_order").execute(Query(request_id="abc"))
        st = result.stats
        assert [(s.stage_kind, s.name) for s in st.stages] == [
            ("query_hydrator", "user"),
            ("source", "thunder"),
            ("source", "phoenix"),
            ("hydrator", "core"),
            ("filter", "age"),
            ("filter", "off"),
            ("scorer", "weighted"),
            ("selector", "TopKScoreSelector"),
        ]
        assert st.get("hydrator", "core").kept_count == 3 and st.get("hydrator", "core").error_count == 1
        assert (st.retrieved_count, st.removed_count, st.selected_count, st.non_selected_count) == (
            4,
            1,
            2,
            1,
        )
        assert st.request_id == "abc"
        assert st.total_latency_ms >= max(s.latency_ms for s in st.stages)
        with pytest.raises(KeyError):
            st.get("filter", "nope")

    asyncio.run(scenario())


def test_summary_line_is_one_info_log_line_with_every_stage(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        with caplog.at_level(logging.INFO, logger="candidate_pipeline"):
            result = await _pipeline("t_summary").execute(Query(request_id="req-42"))
        line = result.stats.summary_line()
        assert "\n" not in line
        assert line.startswith("pipeline=t_summary request_id=req-42 total_ms=")
        assert "hydrate_query[user:" in line
        assert "sources[thunder:4,phoenix:timeout]" in line
        assert "hydrators[core:" in line and "(1err)" in line
        assert "filters[age:-1,off:disabled]" in line
        assert "scorers[weighted:" in line
        assert "selector[TopKScoreSelector:2]" in line
        assert line.endswith("selected=2 non_selected=1")
        infos = [
            r
            for r in caplog.records
            if r.levelno == logging.INFO and r.getMessage().startswith("pipeline=t_summary")
        ]
        assert [r.getMessage() for r in infos] == [line]

    asyncio.run(scenario())


def test_summary_line_of_empty_pipeline_keeps_the_core_groups() -> None:
    async def scenario() -> None:
        result = await CandidatePipeline(name="t_summary_empty").execute(object())
        assert result.stats.summary_line() == (
            "pipeline=t_summary_empty request_id=- total_ms="
            f"{result.stats.total_latency_ms:.1f} hydrate_query[] sources[] filters[] scorers[] "
            "retrieved=0 removed=0 selected=0 non_selected=0"
        )
        assert (
            REGISTRY.get_sample_value(
                "candidate_pipeline_result_empty_total", {"pipeline": "t_summary_empty"}
            )
            == 1
        )

    asyncio.run(scenario())


def test_base_stage_defaults() -> None:
    class AgeFilter(BaseStage):
        pass

    class Named(BaseStage):
        name = "custom"
        timeout_s = 0.3

    assert (AgeFilter.name, AgeFilter().enable(None), AgeFilter().timeout_s) == ("AgeFilter", True, None)
    assert (Named().name, Named().timeout_s) == ("custom", 0.3)
    instance = AgeFilter()
    instance.name = "per_instance"
    assert (instance.name, AgeFilter.name) == ("per_instance", "AgeFilter")


def test_stage_timeout_resolution() -> None:
    from candidate_pipeline.stage import stage_timeout

    class S(BaseStage):
        pass

    s = S()
    assert stage_timeout(s, 1.0) == 1.0
    s.timeout_s = 0.2
    assert stage_timeout(s, 1.0) == 0.2
    assert stage_timeout(S(), 0) is None
