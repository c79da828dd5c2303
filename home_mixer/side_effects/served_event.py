"""Publish what was served to the ``served`` topic (replay evaluation and training read it).

Carries every candidate that reached selection, selected or not, with its position, scores and
action probabilities, so a training example can pair "shown at rank r with these predictions"
with the engagement that followed.
"""

from __future__ import annotations

import math

from candidate_pipeline import BaseStage, SideEffectInput
from home_mixer.deps import Deps, ServedPublisher
from home_mixer.models import FeedQuery, PostCandidate
from protos import events_pb2

PIPELINE_NAME = "for_you"


def served_candidate(c: PostCandidate, selected: bool, position: int) -> events_pb2.ServedCandidate:
    return events_pb2.ServedCandidate(
        post_id=c.tweet_id,
        author_id=c.author_id,
        served_type=c.served_type,
        in_network=bool(c.in_network),
        selected=selected,
        position=position,
        score=math.nan if c.score is None else c.score,
        weighted_score=math.nan if c.weighted_score is None else c.weighted_score,
        action_probabilities=c.phoenix_scores or {},
        retweeted_post_id=c.retweeted_tweet_id or 0,
    )


def served_feed(query: FeedQuery, selected: list[PostCandidate], non_selected: list[PostCandidate]) -> events_pb2.ServedFeed:
    version = next((c.model_version for c in selected if c.model_version), "")
    return events_pb2.ServedFeed(
        event_id=query.request_id,
        request_id=query.request_id,
        viewer_id=query.viewer_id,
        served_at_ms=query.now_ms,
        pipeline=PIPELINE_NAME,
        model_version=version,
        in_network_only=query.in_network_only,
        candidates=[served_candidate(c, True, i) for i, c in enumerate(selected)]
        + [served_candidate(c, False, -1) for c in non_selected],
        degraded=list(query.degraded),
    )


class ServedEventSideEffect(BaseStage):
    def __init__(self, publisher: ServedPublisher) -> None:
        self.publisher = publisher

    async def run(self, inp: SideEffectInput) -> None:
        await self.publisher.publish(served_feed(inp.query, inp.selected, inp.non_selected))


def build(deps: Deps) -> ServedEventSideEffect:
    return ServedEventSideEffect(deps.require("served_publisher"))  # type: ignore[arg-type]
