"""Applying stage outputs to queries and candidates: the "update only owned fields" rule.

In X a hydrator returns a partially-filled copy and ``update()`` copies the fields it owns.
In Python the stage simply returns a mapping of exactly those fields and the executor
``setattr``s them; stages therefore never mutate shared objects themselves, which is what
makes it safe to run several hydrators concurrently on the same candidates. Stages that
compute whole columns return :class:`~candidate_pipeline.columns.Columns` instead (same
contract, applied with C-level loops).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from candidate_pipeline.columns import Columns, apply_columns

logger = logging.getLogger("candidate_pipeline")


@dataclass(frozen=True)
class UpdateCounts:
    """How a batch of per-candidate results was applied."""

    updated: int
    errors: int
    first_error: BaseException | None = None


def apply_fields(target: object, fields: Mapping[str, Any]) -> None:
    """``setattr`` every field; raises if the target refuses one (e.g. a frozen dataclass)."""
    for key, value in fields.items():
        setattr(target, key, value)


def as_result_list(value: object) -> list[object] | Columns | None:
    """Per-candidate results as a list (or the stage's :class:`Columns` as they are), or None
    when the stage returned no sequence at all."""
    if isinstance(value, Columns):
        return value
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        return None
    return list(value)


def apply_candidate_results(candidates: Sequence[object], results: Sequence[object] | Columns) -> UpdateCounts:
    """Apply one hydrator/scorer's results, entry ``i`` to candidate ``i``.

    A mapping updates the candidate; ``None`` means "nothing to change" (not an error); an
    Exception entry, any other type, or a refused ``setattr`` counts as a per-candidate error
    and leaves the rest of the batch intact. The caller has already checked the lengths (and
    :meth:`Columns.problem` for the columnar form).
    """
    if isinstance(results, Columns):
        updated, failures = apply_columns(candidates, results)
        return UpdateCounts(updated=updated, errors=len(failures), first_error=failures[0] if failures else None)
    updated = 0
    errors = 0
    first_error: BaseException | None = None
    for candidate, entry in zip(candidates, results, strict=True):
        if entry is None:
            continue
        if type(entry) is dict or isinstance(entry, Mapping):  # exact-dict check first: the ABC check is slow
            try:
                for key, value in entry.items():
                    setattr(candidate, key, value)
            except Exception as exc:
                errors += 1
                first_error = first_error or exc
                continue
            updated += 1
            continue
        errors += 1
        if first_error is None:
            first_error = (
                entry if isinstance(entry, BaseException) else TypeError(f"unexpected result entry {entry!r}")
            )
    return UpdateCounts(updated=updated, errors=errors, first_error=first_error)
