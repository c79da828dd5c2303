"""A failing or slow stage is isolated: logged, counted, skipped; the request still answers."""

from __future__ import annotations

import asyncio

from candidate_pipeline import CandidatePipeline, FilterResult, TopKScoreSelector

from .fakes import (
    Cand,
    FakeFilter,
    FakeHydrator,
    FakeQueryHydrator,
    FakeScorer,
    FakeSideEffect,
    FakeSource,
    Query,
    by_candidate,
    ids,
    set_each,
)

BOOM = RuntimeError("boom")


def test_raising_stages_of_every_kind_do_not_fail_the_request() -> None:
    async def scenario() -> None:
        side = FakeSideEffect("side_boom", error=BOOM)
        pipe = CandidatePipeline(
            name="t_iso_errors",
            query_hydrators=[
                FakeQueryHydrator("qh_boom", {"a": 1}, error=BOOM),
                FakeQueryHydrator("qh_ok", {"b": 2}),
            ],
            sources=[FakeSource("src_boom", [99], error=BOOM), FakeSource("src_ok", [1, 2, 3])],
            hydrators=[
                FakeHydrator("hyd_boom", set_each(x=1), error=BOOM),
                FakeHydrator("hyd_ok", set_each(y=1)),
            ],
            filters=[
                FakeFilter("flt_boom", lambda c: False, error=BOOM),
                FakeFilter("flt_ok", lambda c: c.id != 3),
            ],
            scorers=[
                FakeScorer("sc_boom", set_each(score=-1.0), error=BOOM),
                FakeScorer("sc_ok", by_candidate(lambda c: {"score": float(c.id)})),
            ],
            selector=TopKScoreSelector(k=10),
            side_effects=[side],
        )
        result = await pipe.execute(Query())
        assert (result.query.a, result.query.b) == (None, 2)
        assert ids(result.selected) == [2, 1]  # only src_ok's candidates, flt_ok applied, sc_ok ranks
        assert all(c.x is None and c.y == 1 for c in result.retrieved)
        st = result.stats
        for kind, name in [
            ("query_hydrator", "qh_boom"),
            ("source", "src_boom"),
            ("hydrator", "hyd_boom"),
            ("filter", "flt_boom"),
            ("scorer", "sc_boom"),
        ]:
            rec = st.get(kind, name)  # type: ignore[arg-type]
            assert (rec.status, rec.error_count, rec.enabled) == ("error", 1, True), rec
        assert st.get("filter", "flt_boom").kept_count == 3  # input passed through
        await pipe.drain_side_effects()  # the failing side effect is swallowed (and counted)
        assert side.calls == 1

    asyncio.run(scenario())


def test_filter_that_mutates_its_input_then_raises_leaves_candidates_intact() -> None:
    class Vandal(FakeFilter):
        def filter(self, query: object, candidates: list[Cand]) -> FilterResult[Cand]:
            candidates.clear()
            raise BOOM

    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_iso_vandal", sources=[FakeSource("s", [1, 2])], filters=[Vandal("vandal", lambda c: True)]
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1, 2]
        assert result.stats.get("filter", "vandal").status == "error"

    asyncio.run(scenario())


def test_slow_stages_time_out_and_are_skipped() -> None:
    async def scenario() -> None:
        slow = 30.0  # would dominate the test if the timeout did not cut it off
        pipe = CandidatePipeline(
            name="t_iso_timeouts",
            query_hydrators=[FakeQueryHydrator("qh_slow", {"a": 1}, delay=slow, timeout_s=0.05)],
            sources=[FakeSource("src_slow", [9], delay=slow, timeout_s=0.05), FakeSource("src_ok", [1, 2])],
            hydrators=[FakeHydrator("hyd_slow", set_each(x=1), delay=slow)],  # pipeline default timeout
            scorers=[FakeScorer("sc_slow", set_each(score=1.0), delay=slow, timeout_s=0.05)],
            default_stage_timeout_s=0.05,
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1, 2]
        assert result.query.a is None
        assert all(c.x is None and c.score is None for c in result.selected)
        for kind, name in [
            ("query_hydrator", "qh_slow"),
            ("source", "src_slow"),
            ("hydrator", "hyd_slow"),
            ("scorer", "sc_slow"),
        ]:
            assert result.stats.get(kind, name).status == "timeout"  # type: ignore[arg-type]
        assert result.stats.get("source", "src_ok").status == "ok"
        assert result.stats.total_latency_ms < slow * 1000

    asyncio.run(scenario())


def test_async_filter_timeout_passes_input_through() -> None:
    from .fakes import AsyncFakeFilter

    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_iso_filter_timeout",
            sources=[FakeSource("s", [1, 2])],
            filters=[AsyncFakeFilter("slow_filter", lambda c: False, delay=30, timeout_s=0.05)],
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1, 2]
        assert result.removed == []
        assert result.stats.get("filter", "slow_filter").status == "timeout"

    asyncio.run(scenario())


def test_raising_enable_counts_as_stage_error() -> None:
    def broken(query: object) -> bool:
        raise BOOM

    async def scenario() -> None:
        src = FakeSource("flaky_enable", [1], enabled=broken)
        pipe = CandidatePipeline(name="t_iso_enable", sources=[src, FakeSource("ok", [2])])
        result = await pipe.execute(Query())
        assert ids(result.selected) == [2]
        assert src.calls == 0
        rec = result.stats.get("source", "flaky_enable")
        assert (rec.enabled, rec.status, rec.error_count) == (False, "error", 1)

    asyncio.run(scenario())


def test_malformed_outputs_are_isolated() -> None:
    class BadSource(FakeSource):
        async def get_candidates(self, query: object) -> list[Cand]:
            return None  # type: ignore[return-value]

    class BadFilter(FakeFilter):
        def filter(self, query: object, candidates: list[Cand]) -> FilterResult[Cand]:
            return candidates  # type: ignore[return-value]

    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_iso_malformed",
            query_hydrators=[FakeQueryHydrator("qh_list", lambda q: ["not", "a", "mapping"])],  # type: ignore[arg-type,return-value]
            sources=[BadSource("bad_src", []), FakeSource("s", [1])],
            filters=[BadFilter("bad_filter", lambda c: True)],
            scorers=[FakeScorer("sc_not_seq", lambda q, cs: 42)],  # type: ignore[arg-type,return-value]
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1]
        for kind, name in [
            ("query_hydrator", "qh_list"),
            ("source", "bad_src"),
            ("filter", "bad_filter"),
            ("scorer", "sc_not_seq"),
        ]:
            assert result.stats.get(kind, name).status == "error"  # type: ignore[arg-type]

    asyncio.run(scenario())
