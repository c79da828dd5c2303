"""The ranker's predictions for one request as one matrix, seen per candidate as a mapping.

``PostCandidate.phoenix_scores`` maps action name -> probability. Building a dict of ~22 floats
for each of ~2,200 candidates, and reading every one back for the weighted score, cost ~12 ms of
the event loop per request, while only the ~750 cached and ~535 published candidates ever need
their values one by one. The PhoenixScorer therefore keeps the answer as a :class:`ScoreTable`
and gives each candidate an :class:`ActionScores` view of its row: a read-only ``Mapping`` that
makes its own dict on first use, and lets whole-request readers (the weighted scorer, the cache
codec) take the matrix rows directly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from operator import attrgetter, is_
from typing import Any

import numpy as np


class ScoreTable:
    """``values[i, j]`` is the score of action ``names[j]`` for row ``i`` (float64)."""

    __slots__ = ("index", "names", "values")

    def __init__(self, names: Sequence[str], values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(names):
            raise ValueError(f"score matrix has shape {values.shape}, expected (rows, {len(names)})")
        if len(set(names)) != len(names):
            raise ValueError(f"action names repeat: {list(names)}")
        self.names = tuple(names)
        self.values = values
        self.index = {name: j for j, name in enumerate(self.names)}

    def __len__(self) -> int:
        return self.values.shape[0]

    def views(self) -> list[ActionScores]:
        """One :class:`ActionScores` per row, in row order.

        Built in C-level passes (allocate, then set each slot over all rows): calling
        ``__init__`` with its bounds check ~2,200 times per request was ~1 ms; every row
        index here is in bounds by construction."""
        n = len(self)
        views = list(map(object.__new__, repeat(ActionScores, n)))
        deque(map(setattr, views, repeat("table", n), repeat(self, n)), maxlen=0)
        deque(map(setattr, views, repeat("row", n), range(n)), maxlen=0)
        return views  # ``_dict`` left unset: made on first use


class ActionScores(Mapping[str, float]):
    """Row ``row`` of a :class:`ScoreTable`: action name -> probability, read-only.

    Compares equal to a dict with the same items; ``dict(view)`` and :meth:`as_dict` give a new
    plain dict of Python floats.
    """

    __slots__ = ("_dict", "row", "table")

    def __init__(self, table: ScoreTable, row: int) -> None:
        if not 0 <= row < len(table):
            raise IndexError(f"row {row} of a table of {len(table)}")
        self.table = table
        self.row = row
        self._dict: dict[str, float] | None = None

    def _items(self) -> dict[str, float]:
        try:
            items = self._dict
        except AttributeError:  # a view from ScoreTable.views(): not made yet
            items = None
        if items is None:
            items = self._dict = dict(zip(self.table.names, self.table.values[self.row].tolist(), strict=True))
        return items

    def as_dict(self) -> dict[str, float]:
        return dict(self._items())

    def __getitem__(self, name: str) -> float:
        return self._items()[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self._items().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self.table.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.names)

    def __len__(self) -> int:
        return len(self.table.names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ActionScores):
            return self._items() == other._items()
        if isinstance(other, Mapping):
            return self._items() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # a mapping

    def __repr__(self) -> str:
        return f"ActionScores({self._items()!r})"


def as_plain_dict(scores: Mapping[str, float]) -> dict[str, float]:
    """A new plain dict of ``scores`` (fast for an :class:`ActionScores` view)."""
    return scores.as_dict() if type(scores) is ActionScores else dict(scores)


def shared_table(scores: Sequence[Mapping[str, float]]) -> tuple[ScoreTable, list[int]] | None:
    """(table, row of each) when every entry is an :class:`ActionScores` view of one table."""
    if not scores or type(scores[0]) is not ActionScores:
        return None
    table = scores[0].table  # type: ignore[attr-defined]
    # C-level passes: this runs over ~2,000 entries several times per request
    if set(map(type, scores)) != {ActionScores} or not all(map(is_, map(_TABLE, scores), repeat(table))):
        return None
    return table, list(map(_ROW, scores))


_TABLE, _ROW = attrgetter("table"), attrgetter("row")
