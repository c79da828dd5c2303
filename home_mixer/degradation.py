"""Which dependencies were unavailable for a request, derived from the stage stats.

Stages fail in isolation (the executor records "error"/"timeout" and the request still
answers), so "was Thunder down?" is simply "did ThunderSource fail?". The feed response and
the served event carry these names so clients and replay know the feed was degraded.
"""

from __future__ import annotations

from candidate_pipeline import PipelineResult

STAGE_DEPENDENCY: dict[str, str] = {
    "ThunderSource": "thunder",
    "PhoenixSource": "retrieval",
    "PhoenixScorer": "ranker",
    "ServedHistoryQueryHydrator": "redis",
    "ImpressionBloomFilterQueryHydrator": "redis",
    "CachedPostsQueryHydrator": "redis",
    # The user-state store (Redis written by the user-state ingest): without it the viewer's
    # graph, history and the candidates' core data are unknown, which must be visible too.
    "ScoringSequenceQueryHydrator": "user_state",
    "RetrievalSequenceQueryHydrator": "user_state",
    "FollowedUserIdsQueryHydrator": "user_state",
    "BlockedUserIdsQueryHydrator": "user_state",
    "MutedUserIdsQueryHydrator": "user_state",
    "MutedKeywordsQueryHydrator": "user_state",
    "ViewerStatsQueryHydrator": "user_state",
    "CoreDataCandidateHydrator": "user_state",
    "AuthorInfoCandidateHydrator": "user_state",
    "BidirectionalFollowHydrator": "user_state",
    "BlockedByHydrator": "user_state",
    "EngagementCountsHydrator": "user_state",
}


def degraded_dependencies(result: PipelineResult) -> list[str]:
    """Sorted dependency names whose stages errored or timed out in this request."""
    down = {
        dep
        for s in result.stats.stages
        if s.status in ("error", "timeout") and (dep := STAGE_DEPENDENCY.get(s.name)) is not None
    }
    return sorted(down)
