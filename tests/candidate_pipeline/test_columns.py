"""Columnar stage results: same contract as the row form (length rule, isolation, errors)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import SimpleNamespace

from candidate_pipeline import CandidatePipeline, Columns
from candidate_pipeline.updates import apply_candidate_results

from .fakes import Cand, FakeHydrator, FakeScorer, FakeSource, Query, cands


def _run(pipe: CandidatePipeline) -> object:
    return asyncio.run(pipe.execute(Query()))


def test_columns_set_fields_in_order_and_scorers_see_earlier_columns() -> None:
    hyd = FakeHydrator("cols", lambda q, cs: Columns(len(cs), {"x": [c.id * 10 for c in cs], "y": ["a"] * len(cs)}))
    # The scorer reads the hydrator's column: columns are applied before the next stage runs.
    scorer = FakeScorer("score", lambda q, cs: Columns(len(cs), {"score": [float(c.x) for c in cs]}))
    result = _run(CandidatePipeline(name="t_cols", sources=[FakeSource("s", [1, 2, 3])], hydrators=[hyd], scorers=[scorer]))
    assert [(c.id, c.x, c.y, c.score) for c in result.selected] == [(1, 10, "a", 10.0), (2, 20, "a", 20.0), (3, 30, "a", 30.0)]
    rec = result.stats.get("hydrator", "cols")
    assert (rec.status, rec.kept_count, rec.error_count) == ("ok", 3, 0)


def test_rows_pick_candidates_and_errors_are_counted_not_applied() -> None:
    hyd = FakeHydrator(
        "partial",
        lambda q, cs: Columns(len(cs), {"x": ["first", "third"]}, rows=[0, 2], errors={1: KeyError("gone")}),
    )
    result = _run(CandidatePipeline(name="t_cols_rows", sources=[FakeSource("s", [1, 2, 3])], hydrators=[hyd]))
    assert {c.id: c.x for c in result.selected} == {1: "first", 2: None, 3: "third"}
    cols = Columns(3, {"x": ["first", "third"]}, rows=[0, 2], errors={1: KeyError("gone")})
    assert list(cols)[0] == {"x": "first"} and isinstance(cols[1], KeyError) and len(cols) == 3
    rec = result.stats.get("hydrator", "partial")
    assert (rec.status, rec.kept_count, rec.error_count) == ("ok", 2, 1)


def test_inconsistent_columns_are_skipped_whole() -> None:
    bad = {
        "wrong_size": lambda q, cs: Columns(len(cs) + 1, {"x": [1] * (len(cs) + 1)}),
        "short_column": lambda q, cs: Columns(len(cs), {"x": [1] * (len(cs) - 1)}),
        "row_out_of_range": lambda q, cs: Columns(len(cs), {"x": [1]}, rows=[len(cs)]),
        "repeated_row": lambda q, cs: Columns(len(cs), {"x": [1, 2]}, rows=[0, 0]),
        "repeated_row_unordered": lambda q, cs: Columns(len(cs), {"x": [1, 2, 3]}, rows=[2, 0, 2]),
        "row_out_of_range_unordered": lambda q, cs: Columns(len(cs), {"x": [1, 2]}, rows=[len(cs), 0]),
        "negative_row_unordered": lambda q, cs: Columns(len(cs), {"x": [1, 2]}, rows=[1, -1]),
        "negative_row": lambda q, cs: Columns(len(cs), {"x": [1]}, rows=[-1]),
        "float_row": lambda q, cs: Columns(len(cs), {"x": [1]}, rows=[1.0]),
        "failed_row_out_of_range": lambda q, cs: Columns(len(cs), {}, rows=[], errors={7: ValueError()}),
        "generator_column": lambda q, cs: Columns(len(cs), {"x": (c.id for c in cs)}),
        "values_not_a_mapping": lambda q, cs: Columns(len(cs), [("x", [1, 2, 3])]),  # type: ignore[arg-type]
        "rows_not_sized": lambda q, cs: Columns(len(cs), {"x": [1]}, rows=iter([0])),  # type: ignore[arg-type]
        "updated_and_failed": lambda q, cs: Columns(len(cs), {"x": [1]}, rows=[0], errors={0: ValueError()}),
        "setter_not_callable": lambda q, cs: Columns(len(cs), {"x": [1, 2, 3]}, setter="x"),  # type: ignore[arg-type]
    }
    hydrators = [FakeHydrator(name, fn) for name, fn in bad.items()]
    result = _run(CandidatePipeline(name="t_cols_bad", sources=[FakeSource("s", [1, 2, 3])], hydrators=hydrators))
    assert [c.x for c in result.selected] == [None, None, None]
    for name in bad:
        rec = result.stats.get("hydrator", name)
        assert (rec.status, rec.kept_count, rec.error_count) == ("length_mismatch", 0, 1), name


def test_raising_stage_leaves_candidates_untouched() -> None:
    def compute_then_fail(q: object, cs: object) -> Columns:
        Columns(3, {"x": [1, 2, 3]})  # computed, never returned
        raise RuntimeError("store down")

    result = _run(
        CandidatePipeline(
            name="t_cols_raise", sources=[FakeSource("s", [1, 2, 3])], hydrators=[FakeHydrator("h", compute_then_fail)]
        )
    )
    assert [c.x for c in result.selected] == [None, None, None]
    assert result.stats.get("hydrator", "h").status == "error"
    bad_size = FakeHydrator("bad_size", lambda q, cs: Columns("3", {"x": [1, 2, 3]}))  # type: ignore[arg-type]
    result = _run(CandidatePipeline(name="t_cols_size", sources=[FakeSource("s", [1, 2, 3])], hydrators=[bad_size]))
    assert [c.x for c in result.selected] == [None, None, None]
    assert result.stats.get("hydrator", "bad_size").status == "error"


@dataclass(frozen=True)
class Frozen:
    id: int
    x: object = None


class Picky:
    """Refuses ``x`` for id 2 only: the fast pass stops there and the slow pass isolates it."""

    def __init__(self, id: int) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "x", None)
        object.__setattr__(self, "y", None)

    def __setattr__(self, name: str, value: object) -> None:
        if name == "x" and getattr(self, "id", None) == 2:
            raise AttributeError("read-only for 2")
        object.__setattr__(self, name, value)


def test_refused_field_counts_only_that_candidate() -> None:
    items = [Picky(1), Picky(2), Picky(3)]
    counts = apply_candidate_results(items, Columns(3, {"x": ["a", "b", "c"], "y": [1, 2, 3]}))
    assert (counts.updated, counts.errors) == (2, 1) and isinstance(counts.first_error, AttributeError)
    assert [(p.x, p.y) for p in items] == [("a", 1), (None, None), ("c", 3)]
    frozen = [Frozen(1)]
    counts = apply_candidate_results(frozen, Columns(1, {"x": [5]}))
    assert (counts.updated, counts.errors, frozen[0].x) == (0, 1, None)


def test_row_and_column_forms_give_the_same_candidates() -> None:
    rows = [{"x": i, "score": i / 2} if i % 3 else None for i in range(30)]
    by_rows, by_cols = cands(*range(30)), cands(*range(30))
    kept = [i for i, r in enumerate(rows) if r is not None]
    cols = Columns(30, {"x": [rows[i]["x"] for i in kept], "score": [rows[i]["score"] for i in kept]}, rows=kept)
    assert list(cols) == rows and cols[1] == rows[1] and cols[3] is None and cols[-1] == rows[29]
    a, b = apply_candidate_results(by_rows, rows), apply_candidate_results(by_cols, cols)
    assert (a.updated, a.errors) == (b.updated, b.errors) == (20, 0)
    assert by_rows == by_cols and by_cols[1] == Cand(1, 0.5, 1)


def test_fields_that_are_not_identifiers_are_set_too() -> None:
    """Field names are set with ``setattr``: a keyword or a space works on objects that accept it."""
    items = [SimpleNamespace(), SimpleNamespace()]
    counts = apply_candidate_results(items, Columns(2, {"x": [1, 2], "class": [3, 4], "a b": [5, 6]}))
    assert (counts.updated, counts.errors) == (2, 0)
    assert [(o.x, getattr(o, "class"), getattr(o, "a b")) for o in items] == [(1, 3, 5), (2, 4, 6)]


def test_rows_in_any_order_apply_to_their_candidates() -> None:
    cols = Columns(3, {"x": ["c", "a"]}, rows=[2, 0])
    assert cols.problem() is None
    result = _run(CandidatePipeline(name="t_cols_unordered", sources=[FakeSource("s", [1, 2, 3])],
                                    hydrators=[FakeHydrator("h", lambda q, cs: cols)]))
    assert [c.x for c in result.selected] == ["a", None, "c"]


def test_a_row_setter_sets_each_candidate_and_a_refusing_candidate_is_an_error() -> None:
    def set_xy(c: object, row: tuple) -> None:
        c.x, c.y = row  # type: ignore[attr-defined]

    hyd = FakeHydrator("setter", lambda q, cs: Columns(len(cs), {"x": [cs[0].id * 10, cs[2].id * 10], "y": ["a", "b"]},
                                                       rows=[0, 2], setter=set_xy))
    result = _run(CandidatePipeline(name="t_cols_setter", sources=[FakeSource("s", [1, 2, 3])], hydrators=[hyd]))
    assert [(c.id, c.x, c.y) for c in result.selected] == [(1, 10, "a"), (2, None, None), (3, 30, "b")]
    assert result.stats.get("hydrator", "setter").kept_count == 2

    def picky(c: object, row: tuple) -> None:  # refuses candidate 2 half-way: the executor re-applies row by row
        c.x = row[0]  # type: ignore[attr-defined]
        if c.id == 2:  # type: ignore[attr-defined]
            raise AttributeError("read-only")
        c.y = row[1]  # type: ignore[attr-defined]

    @dataclass(frozen=True)
    class Frozen:
        id: int
        x: object = None
        y: object = None

    targets = [Cand(1), Frozen(2), Cand(3)]
    columns = Columns(3, {"x": [1, 2, 3], "y": ["a", "b", "c"]}, setter=picky)
    counts = apply_candidate_results(targets, columns)
    assert (counts.updated, counts.errors) == (2, 1)
    assert [(t.x, t.y) for t in targets] == [(1, "a"), (None, None), (3, "c")]
