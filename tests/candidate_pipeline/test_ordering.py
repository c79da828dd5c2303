"""Filters and scorers run sequentially in declared order; filter removals are accounted."""

from __future__ import annotations

import asyncio

from candidate_pipeline import CandidatePipeline, Removed

from .fakes import AsyncFakeFilter, Cand, Clock, FakeFilter, FakeScorer, FakeSource, Query, by_candidate, ids


def test_filters_run_in_order_and_every_removal_is_recorded() -> None:
    async def scenario() -> None:
        odd = FakeFilter("drop_odd", lambda c: c.id % 2 == 0, reason="odd")
        big = FakeFilter("drop_big", lambda c: c.id < 6)
        pipe = CandidatePipeline(
            name="t_order_filters", sources=[FakeSource("s", range(1, 9))], filters=[odd, big]
        )
        result = await pipe.execute(Query())
        assert ids(big.seen[0]) == [2, 4, 6, 8]  # the second filter sees only survivors
        assert ids(result.selected) == [2, 4]
        assert [(r.candidate.id, r.stage, r.reason) for r in result.removed] == [
            (1, "drop_odd", "odd"),
            (3, "drop_odd", "odd"),
            (5, "drop_odd", "odd"),
            (7, "drop_odd", "odd"),
            (6, "drop_big", None),
            (8, "drop_big", None),
        ]
        assert all(isinstance(r, Removed) for r in result.removed)
        # retrieved = kept + removed, as a partition.
        assert sorted(ids(result.retrieved)) == sorted(
            ids(result.selected) + [r.candidate.id for r in result.removed]
        )
        f1, f2 = result.stats.for_kind("filter")
        assert (f1.name, f1.input_count, f1.kept_count, f1.removed_count) == ("drop_odd", 8, 4, 4)
        assert (f2.name, f2.input_count, f2.kept_count, f2.removed_count) == ("drop_big", 4, 2, 2)
        assert result.stats.removed_count == 6

    asyncio.run(scenario())


def test_async_filters_are_awaited_in_order() -> None:
    async def scenario() -> None:
        clock = Clock()
        f1 = AsyncFakeFilter("f1", lambda c: c.id != 1, delay=0.05, clock=clock)
        f2 = AsyncFakeFilter("f2", lambda c: c.id != 2, clock=clock)
        pipe = CandidatePipeline(
            name="t_order_async_filters", sources=[FakeSource("s", [1, 2, 3])], filters=[f1, f2]
        )
        result = await pipe.execute(Query())
        assert clock.strictly_after("f2", "f1")
        assert ids(result.selected) == [3]
        assert [r.stage for r in result.removed] == ["f1", "f2"]

    asyncio.run(scenario())


def test_scorers_run_sequentially_and_each_sees_previous_updates() -> None:
    async def scenario() -> None:
        clock = Clock()
        base = FakeScorer("base", by_candidate(lambda c: {"score": float(c.id)}), delay=0.05, clock=clock)
        double = FakeScorer(
            "double", by_candidate(lambda c: {"score": c.score * 2, "x": c.score}), clock=clock
        )
        pipe = CandidatePipeline(
            name="t_order_scorers", sources=[FakeSource("s", [1, 2, 3])], scorers=[base, double]
        )
        result = await pipe.execute(Query())
        assert clock.strictly_after("double", "base")
        assert [(c.score, c.x) for c in result.selected] == [(2.0, 1.0), (4.0, 2.0), (6.0, 3.0)]
        assert [s.name for s in result.stats.for_kind("scorer")] == ["base", "double"]

    asyncio.run(scenario())


def test_post_selection_filters_remove_after_selection_and_are_recorded() -> None:
    async def scenario() -> None:
        post = FakeFilter("post_dedup", lambda c: c.id != 2, reason="dup")
        pipe = CandidatePipeline(
            name="t_order_post_filters", sources=[FakeSource("s", [1, 2, 3])], post_selection_filters=[post]
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1, 3]
        assert [(r.candidate.id, r.stage, r.reason) for r in result.removed] == [(2, "post_dedup", "dup")]
        assert result.stats.get("post_selection_filter", "post_dedup").removed_count == 1

    asyncio.run(scenario())


def test_filter_reasons_must_match_removed_length() -> None:
    import pytest

    from candidate_pipeline import FilterResult

    with pytest.raises(ValueError):
        FilterResult([Cand(1)], [Cand(2)], reasons=["a", "b"])
