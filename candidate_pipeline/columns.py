"""Columnar hydrator/scorer results: one value list per field instead of one dict per candidate.

The row form (a list of per-candidate mappings) costs a dict and a Python-level ``setattr``
loop per candidate: for ~2,000 candidates and ~40 fields across the For You stages that was
~90,000 interpreted ``setattr`` calls per request. A stage that already computes whole
columns can return :class:`Columns` instead; the executor then applies each field with one
C-level ``map(setattr, ...)`` pass. The contract is the row form's, column-wise: values are
computed by the stage without touching the candidates and applied by the executor afterwards
(so a stage that raises leaves every candidate untouched), ``size`` must equal the number of
candidates (the length rule), ``rows`` picks the candidates the values belong to (the others
are "nothing to set", like a ``None`` row entry) and ``errors`` are per-candidate failures.

A stage may also give a ``setter``: a function that sets one row (a tuple of the values in
``values``' key order) on one candidate with plain attribute assignments. CPython specialises
those for slotted classes, so one call per candidate beats one ``setattr`` pass per field for
stages that set many fields (the For You core-data hydrator: 18).
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice, repeat
from typing import Any


@dataclass(frozen=True, slots=True)
class Columns:
    """``values[name][j]`` is set on candidate ``rows[j]`` (or candidate ``j`` when ``rows`` is None).

    ``size`` is the number of candidates the stage was given; ``len()``, indexing and
    iteration present the row form (entry ``i``: the fields for candidate ``i``, None or its
    exception), so code written against per-candidate results reads both forms alike.
    ``errors`` maps candidate index -> the exception that candidate failed with (it is left
    untouched and counted).
    """

    size: int
    values: Mapping[str, Sequence[Any]]
    rows: Sequence[int] | None = None
    errors: Mapping[int, BaseException] = field(default_factory=dict)
    setter: Callable[[Any, tuple[Any, ...]], None] | None = None
    """Sets exactly the fields of ``values``, given in their order, on one candidate (optional)."""

    def __post_init__(self) -> None:
        # Checked here, inside the stage (whose raise is isolated): len() must work later.
        if not isinstance(self.size, int) or self.size < 0:
            raise TypeError(f"Columns.size must be a non-negative int, got {self.size!r}")

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> dict[str, Any] | BaseException | None:
        if not -self.size <= i < self.size:
            raise IndexError(f"candidate {i} of {self.size}")
        i %= self.size
        if i in self.errors:
            return self.errors[i]
        if self.rows is None:
            return self.row(i)
        j = next((j for j, r in enumerate(self.rows) if r == i), None)
        return None if j is None else self.row(j)

    def __iter__(self) -> Iterator[dict[str, Any] | BaseException | None]:
        position = {r: j for j, r in enumerate(self.rows)} if self.rows is not None else None
        for i in range(self.size):
            if i in self.errors:
                yield self.errors[i]
            elif position is None:
                yield self.row(i)
            else:
                j = position.get(i)
                yield None if j is None else self.row(j)

    def problem(self) -> str | None:
        """Why these columns cannot be applied to ``size`` candidates, or None when consistent.

        Never raises for a malformed instance: the executor calls it outside the stage's own
        isolation, so a bad return value must become a reason, not an exception.
        """
        if not isinstance(self.values, Mapping) or not isinstance(self.errors, Mapping):
            return "values and errors must be mappings"
        if self.setter is not None and not callable(self.setter):
            return "setter must be callable"
        if self.rows is not None and not hasattr(self.rows, "__len__"):
            return "rows must be a sized sequence of candidate indices"
        width = self.size if self.rows is None else len(self.rows)
        for name, column in self.values.items():
            if not isinstance(name, str):
                return f"field name {name!r} is not a string"
            if not hasattr(column, "__len__") or not hasattr(column, "__iter__"):
                return f"column {name!r} is not a sized sequence"
            if len(column) != width:
                return f"column {name!r} has {len(column)} values for {width} rows"
        if self.rows is not None:  # C-level checks: rows often name ~2,000 candidates
            try:
                rows = list(map(operator.index, self.rows))
            except TypeError:
                return "row indices must be integers"
            if rows:
                # Stages list their rows in candidate order: then the ends are the bounds and a
                # repeat sits next to its twin (one pass, instead of min, max and a set).
                ordered = rows == sorted(rows)
                low, high = (rows[0], rows[-1]) if ordered else (min(rows), max(rows))
                if low < 0 or high >= self.size:
                    return f"row index {low if low < 0 else high} outside 0..{self.size - 1}"
                if not all(map(operator.lt, rows, islice(rows, 1, None))) if ordered else len(set(rows)) != len(rows):
                    return "rows repeat a candidate"
        for index in self.errors:
            if not isinstance(index, int) or not 0 <= index < self.size:
                return f"failed row index {index!r} outside 0..{self.size - 1}"
        if self.errors and (self.rows is None or not self.errors.keys().isdisjoint(self.rows)):
            return "a candidate is both updated and failed"
        return None

    def row(self, j: int) -> dict[str, Any]:
        """Entry ``j`` of the values as a row mapping (the slow path after a refused field)."""
        return {name: column[j] for name, column in self.values.items()}


def apply_columns(candidates: Sequence[object], columns: Columns) -> tuple[int, list[BaseException]]:
    """Set every column on its candidates; return (candidates updated, per-candidate errors).

    The caller has checked :meth:`Columns.problem`. A candidate refusing a field (e.g. a
    frozen object) stops the fast pass; the columns are then re-applied row by row so that
    only the refusing candidates count as errors, exactly as with the row form.
    """
    rows = range(columns.size) if columns.rows is None else columns.rows
    targets = candidates if columns.rows is None else [candidates[i] for i in rows]
    errors: list[BaseException] = list(columns.errors.values())
    try:
        if columns.setter is not None and columns.values:
            deque(map(columns.setter, targets, zip(*columns.values.values(), strict=True)), maxlen=0)
        else:
            for name, column in columns.values.items():
                deque(map(setattr, targets, repeat(name), column), maxlen=0)
    except Exception:
        updated = 0
        for j, target in enumerate(targets):
            try:
                for name, value in columns.row(j).items():
                    setattr(target, name, value)
            except Exception as exc:
                errors.append(exc)
                continue
            updated += 1
        return updated, errors
    return len(targets), errors
