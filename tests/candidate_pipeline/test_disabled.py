"""Disabled stages are skipped and recorded; enable() sees the query as hydrated so far."""

from __future__ import annotations

import asyncio

from candidate_pipeline import CandidatePipeline, TopKScoreSelector

from .fakes import FakeFilter, FakeHydrator, FakeQueryHydrator, FakeScorer, FakeSource, Query, ids, set_each


def test_disabled_stages_of_every_kind_are_skipped_and_recorded() -> None:
    async def scenario() -> None:
        off = {"enabled": False}
        stages = {
            "query_hydrator": FakeQueryHydrator("qh_off", {"a": 1}, **off),
            "dependent_query_hydrator": FakeQueryHydrator("dqh_off", {"b": 1}, **off),
            "source": FakeSource("src_off", [9], **off),
            "hydrator": FakeHydrator("hyd_off", set_each(x=1), **off),
            "filter": FakeFilter("flt_off", lambda c: False, **off),
            "scorer": FakeScorer("sc_off", set_each(score=1.0), **off),
            "post_selection_hydrator": FakeHydrator("phyd_off", set_each(y=1), **off),
            "post_selection_filter": FakeFilter("pflt_off", lambda c: False, **off),
        }
        selector = TopKScoreSelector(k=0)
        selector.enable = lambda query: False  # type: ignore[method-assign]
        pipe = CandidatePipeline(
            name="t_disabled_all",
            query_hydrators=[stages["query_hydrator"]],  # type: ignore[list-item]
            dependent_query_hydrators=[stages["dependent_query_hydrator"]],  # type: ignore[list-item]
            sources=[stages["source"], FakeSource("src_on", [1, 2])],  # type: ignore[list-item]
            hydrators=[stages["hydrator"]],  # type: ignore[list-item]
            filters=[stages["filter"]],  # type: ignore[list-item]
            scorers=[stages["scorer"]],  # type: ignore[list-item]
            selector=selector,
            post_selection_hydrators=[stages["post_selection_hydrator"]],  # type: ignore[list-item]
            post_selection_filters=[stages["post_selection_filter"]],  # type: ignore[list-item]
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1, 2]  # k=0 selector and drop-all filters never ran
        assert all((c.x, c.y, c.score) == (None, None, None) for c in result.selected)
        assert (result.query.a, result.query.b) == (None, None)
        for kind, stage in stages.items():
            rec = result.stats.get(kind, stage.name)  # type: ignore[arg-type]
            assert (rec.enabled, rec.status) == (False, "disabled"), rec
            assert stage.calls == 0
        assert result.stats.get("selector", "TopKScoreSelector").status == "disabled"

    asyncio.run(scenario())


def test_enable_is_evaluated_against_the_hydrated_query() -> None:
    async def scenario() -> None:
        cache_src = FakeSource("cache", [100], enabled=lambda q: q.a == "has_cache")
        live_src = FakeSource("live", [1, 2], enabled=lambda q: q.a != "has_cache")
        pipe = CandidatePipeline(
            name="t_disabled_dynamic",
            query_hydrators=[FakeQueryHydrator("cache_lookup", {"a": "has_cache"})],
            sources=[cache_src, live_src],
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [100]
        assert result.stats.get("source", "live").status == "disabled"

    asyncio.run(scenario())
