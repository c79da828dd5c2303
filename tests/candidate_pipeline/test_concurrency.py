"""Stages that may run concurrently (query hydrators, sources, hydrators) really overlap.

Each test makes the stages wait on a shared barrier: run sequentially, the first stage
would wait forever (and hit its timeout), so all-"ok" proves concurrency; timestamps add
an explicit overlap check. Merges still follow registration order.
"""

from __future__ import annotations

import asyncio

from candidate_pipeline import CandidatePipeline

from .fakes import Clock, FakeHydrator, FakeQueryHydrator, FakeSource, Query, by_candidate, ids, set_each


def test_sources_overlap_and_concatenate_in_declared_order() -> None:
    async def scenario() -> None:
        clock, barrier = Clock(), asyncio.Barrier(3)
        # Completion order is the reverse of declared order (longest delay first).
        sources = [
            FakeSource("s1", [1, 2], delay=0.2, clock=clock, barrier=barrier),
            FakeSource("s2", [3], delay=0.1, clock=clock, barrier=barrier),
            FakeSource("s3", [4, 5], delay=0.0, clock=clock, barrier=barrier),
        ]
        pipe = CandidatePipeline(name="t_conc_sources", sources=sources, default_stage_timeout_s=5)
        result = await pipe.execute(Query())
        assert [s.status for s in result.stats.for_kind("source")] == ["ok", "ok", "ok"]
        assert clock.all_overlap(["s1", "s2", "s3"])
        assert clock.spans["s3"][1] < clock.spans["s1"][1]  # s3 finished first ...
        assert ids(result.retrieved) == [1, 2, 3, 4, 5]  # ... yet declared order wins
        assert [s.kept_count for s in result.stats.for_kind("source")] == [2, 1, 2]

    asyncio.run(scenario())


def test_three_slow_sources_take_about_one_delay() -> None:
    async def scenario() -> None:
        clock = Clock()
        sources = [FakeSource(f"s{i}", [i], delay=0.2, clock=clock) for i in range(3)]
        pipe = CandidatePipeline(name="t_conc_slow", sources=sources, default_stage_timeout_s=5)
        result = await pipe.execute(Query())
        assert clock.all_overlap(["s0", "s1", "s2"])
        assert result.stats.total_latency_ms < 600  # sequential needs >= 600

    asyncio.run(scenario())


def test_query_hydrators_overlap_merge_in_registration_order_and_wave2_sees_wave1() -> None:
    async def scenario() -> None:
        clock, barrier = Clock(), asyncio.Barrier(2)
        first = FakeQueryHydrator("qh1", {"a": "first", "b": 1}, delay=0.1, clock=clock, barrier=barrier)
        second = FakeQueryHydrator("qh2", {"a": "second"}, clock=clock, barrier=barrier)
        wave2 = FakeQueryHydrator("dep", lambda q: {"c": f"{q.a}+{q.b}"})
        pipe = CandidatePipeline(
            name="t_conc_qh",
            query_hydrators=[first, second],
            dependent_query_hydrators=[wave2],
            default_stage_timeout_s=5,
        )
        result = await pipe.execute(Query())
        assert clock.all_overlap(["qh1", "qh2"])
        # qh2 finished first, but registration order decides: qh2 is applied after qh1.
        assert result.query.a == "second"
        assert result.query.b == 1
        assert result.query.c == "second+1"
        assert result.stats.get("query_hydrator", "qh1").kept_count == 2
        assert result.stats.get("dependent_query_hydrator", "dep").status == "ok"

    asyncio.run(scenario())


def test_hydrators_overlap_see_same_input_and_apply_in_registration_order() -> None:
    async def scenario() -> None:
        clock, barrier = Clock(), asyncio.Barrier(2)
        h1 = FakeHydrator("h1", set_each(x="h1", y="h1"), delay=0.1, clock=clock, barrier=barrier)
        h2 = FakeHydrator(
            "h2", by_candidate(lambda c: {"x": f"h2 saw x={c.x}"}), clock=clock, barrier=barrier
        )
        pipe = CandidatePipeline(
            name="t_conc_hyd",
            sources=[FakeSource("s", [1, 2])],
            hydrators=[h1, h2],
            default_stage_timeout_s=5,
        )
        result = await pipe.execute(Query())
        assert clock.all_overlap(["h1", "h2"])
        # h2 ran on the un-hydrated input (x=None) and is applied last, so it wins for x.
        assert [c.x for c in result.retrieved] == ["h2 saw x=None"] * 2
        assert [c.y for c in result.retrieved] == ["h1", "h1"]
        assert ids(h1.seen[0]) == ids(h2.seen[0]) == [1, 2]

    asyncio.run(scenario())


def test_post_selection_hydrators_overlap() -> None:
    async def scenario() -> None:
        clock, barrier = Clock(), asyncio.Barrier(2)
        p1 = FakeHydrator("p1", set_each(x=1), clock=clock, barrier=barrier)
        p2 = FakeHydrator("p2", set_each(y=2), clock=clock, barrier=barrier)
        pipe = CandidatePipeline(
            name="t_conc_post",
            sources=[FakeSource("s", [1, 2, 3])],
            post_selection_hydrators=[p1, p2],
            default_stage_timeout_s=5,
        )
        result = await pipe.execute(Query())
        assert clock.all_overlap(["p1", "p2"])
        assert [(c.x, c.y) for c in result.selected] == [(1, 2)] * 3

    asyncio.run(scenario())
