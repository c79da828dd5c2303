"""Map a pipeline result to a ``ForYouFeedResponse`` (posts, degradation flags, debug detail).

With ``debug`` every post carries its ``ScoreExplanation`` and the response lists every removed
candidate with the filter that removed it plus per-stage timings: enough to answer "why is
this post here, at this rank?" and "why is that one missing?" from a single response.
Explanation numbers that were never computed (e.g. no weighted score because the ranker was
down) are NaN, so they can never be mistaken for a real 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from candidate_pipeline import PipelineResult, Removed
from candidate_pipeline.stats import StageStats
from home_mixer.models import FeedQuery, PostCandidate, ScoreExplanation
from protos import home_mixer_pb2 as hm


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


def explanation_proto(exp: ScoreExplanation) -> hm.ScoreExplanation:
    return hm.ScoreExplanation(
        terms=[
            hm.ActionTerm(action=t.action, probability=t.probability, weight=t.weight, contribution=t.contribution)
            for t in exp.terms
        ],
        positive_sum=exp.positive_sum,
        negative_sum=exp.negative_sum,
        weighted_score=_num(exp.weighted_score),
        cold_start_score=_num(exp.cold_start_score if exp.cold_start_score is not None else exp.weighted_score),
        author_diversity_multiplier=exp.author_diversity_multiplier,
        oon_multiplier=exp.oon_multiplier,
        other_multipliers=dict(exp.other_multipliers),
        final_score=_num(exp.final_score),
        scored=exp.scored,
        note=exp.note,
        predicted_dwell_sec=_num(exp.predicted_dwell_s),
    )


def scored_post(c: PostCandidate, request_id: str, debug: bool) -> hm.ScoredPost:
    post = hm.ScoredPost(
        tweet_id=c.tweet_id,
        author_id=c.author_id,
        retweeted_tweet_id=c.retweeted_tweet_id or 0,
        retweeted_user_id=c.retweeted_user_id or 0,
        in_reply_to_tweet_id=c.in_reply_to_tweet_id or 0,
        score=_num(c.score),
        in_network=bool(c.in_network),
        served_type=c.served_type,
        last_scored_timestamp_ms=c.last_scored_at_ms or 0,
        prediction_request_id=request_id,
        ancestors=c.ancestors,
        quoted_user_id=c.quoted_user_id or 0,
        visibility_reason=c.visibility_reason or "",
        tweet_text=c.text or "",
        predicted_dwell_sec=c.predicted_dwell_s or 0.0,
        conversation_id=c.conversation_id or 0,
        created_at=(c.created_at_ms or 0) // 1000,  # epoch seconds, as every other created_at
    )
    if debug:
        post.explanation.CopyFrom(explanation_proto(c.explanation))
    return post


def removed_proto(r: Removed[PostCandidate]) -> hm.RemovedCandidate:
    return hm.RemovedCandidate(
        tweet_id=r.candidate.tweet_id,
        author_id=r.candidate.author_id,
        removed_by=r.stage,
        reason=r.reason or "",
        served_type=r.candidate.served_type,
    )


def stage_timing(s: StageStats) -> hm.StageTiming:
    return hm.StageTiming(
        stage=s.name, kind=s.stage_kind, status=s.status, latency_ms=s.latency_ms,
        kept=s.kept_count, removed=s.removed_count,
    )


def model_version(posts: Sequence[PostCandidate]) -> str:
    """The ranker version that scored the feed ("" when nothing was scored)."""
    return next((c.model_version for c in posts if c.model_version), "")


def feed_response(
    result: PipelineResult[FeedQuery, PostCandidate], query: FeedQuery
) -> hm.ForYouFeedResponse:
    posts = result.selected  # already cut to max_results by MaxResultsFilter
    response = hm.ForYouFeedResponse(
        posts=[scored_post(c, query.request_id, query.debug) for c in posts],
        request_id=query.request_id,
        model_version=model_version(posts),
        degraded=query.degraded,
        retrieved_count=result.stats.retrieved_count,
    )
    if query.debug:
        response.removed.extend(removed_proto(r) for r in result.removed)
        response.stages.extend(stage_timing(s) for s in result.stats.stages)
    return response


def deadline_response(query: FeedQuery) -> hm.ForYouFeedResponse:
    """What is left to say when the deadline hit before the pipeline finished: no posts,
    flagged, so the client can retry or show what it has instead of an error."""
    return hm.ForYouFeedResponse(request_id=query.request_id, degraded=[*query.degraded, "deadline"])
