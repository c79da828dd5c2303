"""Weighted-score terms computed for a whole request, made into ``ActionTerm`` records on demand.

A debug request explains every scored candidate: ~2,200 candidates x ~25 actions is ~55,000
term records, ~25 ms of object building, while the response shows the ~35 selected posts. The
weighted scorer therefore keeps the terms as matrices in one :class:`TermTable` and gives each
explanation a :class:`LazyTerms` view of its row, which reads as the tuple of terms it stands for
(iteration, indexing, ``len``, equality with tuples) and builds that tuple on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np

from home_mixer.models import ActionTerm


class TermTable:
    """``probabilities``, ``weights`` and ``contributions`` are ``[candidates, actions]``;
    row ``i``'s terms are its actions whose weight or probability is non-zero, in action order."""

    __slots__ = ("actions", "contributions", "probabilities", "weights")

    def __init__(
        self, actions: Sequence[str], probabilities: np.ndarray, weights: np.ndarray, contributions: np.ndarray
    ) -> None:
        shape = (probabilities.shape[0], len(actions))
        if not probabilities.shape == weights.shape == contributions.shape == shape:
            raise ValueError(f"term matrices must all be {shape}: {probabilities.shape}, {weights.shape}, "
                             f"{contributions.shape}")
        self.actions = tuple(actions)
        self.probabilities = probabilities
        self.weights = weights
        self.contributions = contributions

    def __len__(self) -> int:
        return self.probabilities.shape[0]

    def row(self, i: int) -> tuple[ActionTerm, ...]:
        p, w, c = self.probabilities[i].tolist(), self.weights[i].tolist(), self.contributions[i].tolist()
        return tuple(
            ActionTerm(a, pa, wa, ca) for a, pa, wa, ca in zip(self.actions, p, w, c, strict=True)
            if not (wa == 0.0 and pa == 0.0)
        )


class LazyTerms(Sequence[ActionTerm]):
    """Row ``row`` of a :class:`TermTable`, as an immutable sequence of ``ActionTerm``."""

    __slots__ = ("_row", "_table", "_terms")

    def __init__(self, table: TermTable, row: int) -> None:
        if not 0 <= row < len(table):
            raise IndexError(f"row {row} of a table of {len(table)}")
        self._table: TermTable | None = table
        self._row = row
        self._terms: tuple[ActionTerm, ...] | None = None

    def terms(self) -> tuple[ActionTerm, ...]:
        """The terms as a tuple (built once; the table is then no longer referenced)."""
        if self._terms is None:
            assert self._table is not None
            self._terms = self._table.row(self._row)
            self._table = None
        return self._terms

    def __len__(self) -> int:
        return len(self.terms())

    @overload
    def __getitem__(self, index: int) -> ActionTerm: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[ActionTerm, ...]: ...
    def __getitem__(self, index: int | slice) -> ActionTerm | tuple[ActionTerm, ...]:
        return self.terms()[index]

    def __iter__(self) -> Iterator[ActionTerm]:
        return iter(self.terms())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyTerms):
            return self.terms() == other.terms()
        if isinstance(other, tuple):
            return self.terms() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.terms())

    def __repr__(self) -> str:
        return repr(self.terms())
