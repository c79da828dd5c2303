"""Shared helper: a filter is a per-candidate rule returning a removal reason or None."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from candidate_pipeline import FilterResult
from home_mixer.models import PostCandidate


def split(candidates: Iterable[PostCandidate], reason_for: Callable[[PostCandidate], str | None]) -> FilterResult:
    """Keep candidates whose rule gives None; remove the rest with the rule's reason."""
    kept: list[PostCandidate] = []
    removed: list[PostCandidate] = []
    reasons: list[str | None] = []
    for c in candidates:
        reason = reason_for(c)
        if reason is None:
            kept.append(c)
        else:
            removed.append(c)
            reasons.append(reason)
    return FilterResult(kept, removed, reasons=reasons)
