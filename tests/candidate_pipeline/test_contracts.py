"""Result contracts: length rule, per-candidate errors, filter splits, selection, truncation."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from candidate_pipeline import CandidatePipeline, FilterResult, SelectResult, TopKScoreSelector

from .fakes import (
    Cand,
    FakeFilter,
    FakeHydrator,
    FakeQueryHydrator,
    FakeScorer,
    FakeSource,
    Query,
    cands,
    ids,
    set_each,
)


def test_wrong_length_hydrator_and_scorer_are_skipped_whole() -> None:
    async def scenario() -> None:
        short = FakeHydrator("short", lambda q, cs: [{"x": "bad"}] * (len(cs) - 1))
        good = FakeHydrator("good", set_each(y="ok"))
        long_scorer = FakeScorer("long", lambda q, cs: [{"score": 9.0}] * (len(cs) + 1))
        pipe = CandidatePipeline(
            name="t_contract_length",
            sources=[FakeSource("s", [1, 2, 3])],
            hydrators=[short, good],
            scorers=[long_scorer],
        )
        result = await pipe.execute(Query())
        assert [(c.x, c.y, c.score) for c in result.selected] == [(None, "ok", None)] * 3
        for kind, name in [("hydrator", "short"), ("scorer", "long")]:
            rec = result.stats.get(kind, name)  # type: ignore[arg-type]
            assert (rec.status, rec.kept_count, rec.error_count) == ("length_mismatch", 0, 1)
        assert result.stats.get("hydrator", "good").status == "ok"

    asyncio.run(scenario())


def test_per_candidate_exception_leaves_only_that_candidate_untouched() -> None:
    async def scenario() -> None:
        def per_cand(c: Cand) -> object:
            if c.id == 2:
                return ValueError("lookup failed")
            if c.id == 3:
                return None  # "nothing to set": not an error
            return {"x": f"h{c.id}"}

        hyd = FakeHydrator("partial", lambda q, cs: [per_cand(c) for c in cs])
        scorer = FakeScorer(
            "partial_scorer",
            lambda q, cs: [KeyError("no model") if c.id == 1 else {"score": 1.0} for c in cs],
        )
        pipe = CandidatePipeline(
            name="t_contract_percand", sources=[FakeSource("s", [1, 2, 3])], hydrators=[hyd], scorers=[scorer]
        )
        result = await pipe.execute(Query())
        assert [(c.id, c.x, c.score) for c in result.selected] == [
            (1, "h1", None),
            (2, None, 1.0),
            (3, None, 1.0),
        ]
        rec = result.stats.get("hydrator", "partial")
        assert (rec.status, rec.kept_count, rec.error_count) == ("ok", 1, 1)
        rec = result.stats.get("scorer", "partial_scorer")
        assert (rec.status, rec.kept_count, rec.error_count) == ("ok", 2, 1)

    asyncio.run(scenario())


def test_refused_setattr_counts_as_candidate_error() -> None:
    @dataclass(frozen=True)
    class Frozen:
        id: int
        x: int = 0

    class FrozenSource(FakeSource):
        async def get_candidates(self, query: object) -> list[Frozen]:  # type: ignore[override]
            return [Frozen(1), Frozen(2)]

    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_contract_frozen",
            sources=[FrozenSource("s", [])],
            hydrators=[FakeHydrator("h", set_each(x=5))],
        )
        result = await pipe.execute(Query())
        assert [c.x for c in result.selected] == [0, 0]
        assert result.stats.get("hydrator", "h").error_count == 2

    asyncio.run(scenario())


def test_query_hydrator_on_frozen_query_is_an_error_not_a_crash() -> None:
    @dataclass(frozen=True)
    class FrozenQuery:
        request_id: str = "fq"
        a: int = 0

    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_contract_frozen_q", query_hydrators=[FakeQueryHydrator("qh", {"a": 1})]
        )
        result = await pipe.execute(FrozenQuery())
        assert result.query.a == 0
        assert result.stats.get("query_hydrator", "qh").status == "error"

    asyncio.run(scenario())


def test_filter_with_inconsistent_split_passes_input_through() -> None:
    class Lossy(FakeFilter):
        def filter(self, query: object, candidates: list[Cand]) -> FilterResult[Cand]:
            return FilterResult(kept=candidates[:1], removed=[])

    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_contract_lossy",
            sources=[FakeSource("s", [1, 2, 3])],
            filters=[Lossy("lossy", lambda c: True)],
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [1, 2, 3]
        assert result.stats.get("filter", "lossy").status == "length_mismatch"

    asyncio.run(scenario())


def test_truncation_appends_overflow_to_non_selected() -> None:
    async def scenario() -> None:
        scorer = FakeScorer("by_id", lambda q, cs: [{"score": float(c.id)} for c in cs])
        pipe = CandidatePipeline(
            name="t_contract_truncate",
            sources=[FakeSource("s", [1, 2, 3, 4, 5, 6])],
            scorers=[scorer],
            selector=TopKScoreSelector(k=4),
            result_size=2,
        )
        result = await pipe.execute(Query())
        assert ids(result.selected) == [6, 5]
        # the selector's own non-selected first, then the truncation overflow
        assert ids(result.non_selected) == [2, 1, 4, 3]
        assert (
            result.stats.selected_count,
            result.stats.non_selected_count,
            result.stats.truncated_count,
        ) == (2, 4, 2)

    asyncio.run(scenario())


def test_top_k_selector_orders_none_and_nan_last_and_is_stable() -> None:
    items = [
        Cand(1, None),
        Cand(2, 0.5),
        Cand(3, math.nan),
        Cand(4, 2.0),
        Cand(5, 0.5),
        Cand(6, None),
        Cand(7, -1.0),
    ]
    result = TopKScoreSelector(k=4).select(Query(), items)
    assert ids(result.selected) == [4, 2, 5, 7]
    assert ids(result.non_selected) == [1, 3, 6]  # None/NaN as -inf, input order among ties

    class Item:
        def __init__(self, id: int, rank: float | None) -> None:
            self.id, self.rank = id, rank

    custom = TopKScoreSelector(k=1, score_attr="rank").select(None, [Item(1, 1.0), Item(2, 3.0)])
    assert ids(custom.selected) == [2]
    assert TopKScoreSelector(k=10).select(None, cands(1, 2)).non_selected == []


def test_no_selector_passes_through_and_failing_selector_too() -> None:
    class BadSelector(FakeFilter):
        def select(self, query: object, candidates: list[Cand]) -> SelectResult[Cand]:
            raise RuntimeError("selector down")

    async def scenario() -> None:
        plain = CandidatePipeline(name="t_contract_nosel", sources=[FakeSource("s", [3, 1, 2])])
        result = await plain.execute(Query())
        assert (ids(result.selected), result.non_selected) == ([3, 1, 2], [])
        assert result.stats.for_kind("selector") == []

        broken = CandidatePipeline(
            name="t_contract_badsel", sources=[FakeSource("s", [3, 1, 2])], selector=BadSelector("bad", bool)
        )
        result = await broken.execute(Query())
        assert ids(result.selected) == [3, 1, 2]
        assert result.stats.get("selector", "bad").status == "error"

    asyncio.run(scenario())


def test_empty_candidate_set_still_answers() -> None:
    async def scenario() -> None:
        pipe = CandidatePipeline(
            name="t_contract_empty",
            sources=[FakeSource("s", [])],
            hydrators=[FakeHydrator("h", set_each(x=1))],
            filters=[FakeFilter("f", bool)],
            scorers=[FakeScorer("sc", set_each(score=1.0))],
            selector=TopKScoreSelector(k=3),
        )
        result = await pipe.execute(Query())
        assert (result.selected, result.non_selected, result.removed) == ([], [], [])

    asyncio.run(scenario())
